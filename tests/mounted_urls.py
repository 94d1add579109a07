"""The site's URLs mounted under /reference/, as another deployment's URLconf might (tests/test_addresses.py)."""

from django.urls import include, path

urlpatterns = [path("reference/", include("drugref.urls"))]
