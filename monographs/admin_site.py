from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.cache import cache
from django.template.response import TemplateResponse

LOGIN_FAILURE_LIMIT = 5
LOGIN_LOCKOUT_SECONDS = 15 * 60


def _failure_keys(request) -> list[str]:
    username = request.POST.get("username", "").strip().lower()[:150]
    address = request.META.get("REMOTE_ADDR", "")
    return [f"login-failures:user:{username}", f"login-failures:ip:{address}"]


class DrugrefAdminSite(admin.AdminSite):
    site_header = "drugref editorial"
    site_title = "drugref"
    index_title = "Editor's dashboard"

    def index(self, request, extra_context=None):
        from .admin import dashboard

        return super().index(request, {**dashboard(request), **(extra_context or {})})

    def login(self, request, extra_context=None):
        """Django's login, refusing further attempts for a while after repeated failures (per name and address)."""
        if request.method != "POST":
            return super().login(request, extra_context)
        keys = _failure_keys(request)
        try:
            throttled = any(cache.get(key, 0) >= LOGIN_FAILURE_LIMIT for key in keys)
        except Exception:  # noqa: BLE001 - without a cache, log-in still works (unthrottled), never errors
            return super().login(request, extra_context)
        if throttled:
            return TemplateResponse(
                request,
                "admin/login_throttled.html",
                {**self.each_context(request), "title": "Too many attempts", "minutes": LOGIN_LOCKOUT_SECONDS // 60},
                status=429,
            )
        response = super().login(request, extra_context)
        try:
            if request.user.is_authenticated:
                cache.delete_many(keys)
            else:
                for key in keys:
                    cache.add(key, 0, LOGIN_LOCKOUT_SECONDS)
                    try:
                        cache.incr(key)
                    except ValueError:  # expired between add and incr
                        cache.set(key, 1, LOGIN_LOCKOUT_SECONDS)
        except Exception:  # noqa: BLE001
            pass
        return response


class DrugrefAdminConfig(AdminConfig):
    """django.contrib.admin with drugref's dashboard on its index page."""

    default_site = "monographs.admin_site.DrugrefAdminSite"
