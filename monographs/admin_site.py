from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods


class DrugrefAdminSite(admin.AdminSite):
    """The editors' admin.  Log-in throttling is django-axes' (see monographs/logins.py), not this site's."""

    site_header = "drugref editorial"
    site_title = "drugref"
    index_title = "Editor's dashboard"

    def index(self, request, extra_context=None):
        from .admin import dashboard

        return super().index(request, {**dashboard(request), **(extra_context or {})})

    def get_urls(self):
        return [
            path("inbox/", self.admin_view(self.inbox_view), name="inbox"),
            path("inbox/<int:pk>/", self.admin_view(self.notification_view), name="notification"),
            path("consistency/", self.admin_view(self.consistency_view), name="consistency"),
        ] + super().get_urls()

    @method_decorator(require_http_methods(["GET", "POST"]))
    def inbox_view(self, request):
        """One's notifications, newest first; "mark all read"; which kinds one is sent (each can be turned off)."""
        from .models import Notification, NotificationOptOut

        mine = Notification.objects.filter(recipient=request.user).select_related("event__revision")
        if request.method == "POST":
            if "mark_all_read" in request.POST:
                mine.filter(read_at__isnull=True).update(read_at=timezone.now())
                messages.success(request, "All notifications marked as read.")
            else:
                wanted = set(request.POST.getlist("kinds"))
                NotificationOptOut.objects.filter(user=request.user).delete()
                NotificationOptOut.objects.bulk_create(
                    NotificationOptOut(user=request.user, kind=kind)
                    for kind in Notification.Kind.values
                    if kind not in wanted
                )
                messages.success(request, "Your notification settings are saved.")
            return HttpResponseRedirect(reverse("admin:inbox"))
        off = set(NotificationOptOut.objects.filter(user=request.user).values_list("kind", flat=True))
        context = {
            **self.each_context(request),
            "title": "Inbox",
            "notifications": mine[:200],
            "kinds": [(kind, label, kind not in off) for kind, label in Notification.Kind.choices],
        }
        return TemplateResponse(request, "admin/inbox.html", context)

    def notification_view(self, request, pk):
        """Open a notification: it is read, and the revision it is about opens."""
        from .models import Notification

        notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
        return HttpResponseRedirect(reverse("admin:monographs_revision_change", args=[notification.event.revision_id]))

    @method_decorator(require_http_methods(["GET", "POST"]))
    def consistency_view(self, request):
        """The consistency report (monographs/consistency.py), for proof-readers and publishers; a POST
        dismisses one finding with a reason."""
        from . import consistency

        if not consistency.may_see(request.user):
            raise PermissionDenied
        if request.method == "POST" and "confirm_review" in request.POST:
            try:
                consistency.confirm_comparison(int(request.POST["confirm_review"]), request.user)
            except (ValueError, consistency.ConfirmError) as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Recorded: the comparison is checked against the drug's live monograph.")
            return HttpResponseRedirect(reverse("admin:consistency"))
        if request.method == "POST":
            try:
                consistency.dismiss(request.POST.get("fingerprint", ""), request.POST.get("reason", ""), request.user)
            except consistency.DismissError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Finding dismissed; it stays dismissed until its evidence changes.")
            return HttpResponseRedirect(reverse("admin:consistency"))
        report = consistency.report_page(request.GET.get("page"))
        context = {
            **self.each_context(request),
            "title": "Consistency across monographs",
            "report": report,
            "page": report.page,
            "headings": consistency.KINDS,
        }
        return TemplateResponse(request, "admin/consistency.html", context)


class DrugrefAdminConfig(AdminConfig):
    """django.contrib.admin with drugref's dashboard on its index page."""

    default_site = "monographs.admin_site.DrugrefAdminSite"
