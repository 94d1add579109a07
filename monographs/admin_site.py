from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class DrugrefAdminSite(admin.AdminSite):
    """The editors' admin.  Log-in throttling is django-axes' (see monographs/logins.py), not this site's."""

    site_header = "drugref editorial"
    site_title = "drugref"
    index_title = "Editor's dashboard"

    def index(self, request, extra_context=None):
        from .admin import dashboard

        return super().index(request, {**dashboard(request), **(extra_context or {})})


class DrugrefAdminConfig(AdminConfig):
    """django.contrib.admin with drugref's dashboard on its index page."""

    default_site = "monographs.admin_site.DrugrefAdminSite"
