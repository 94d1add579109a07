"""Settings for `make bench`: drugref's own, plus django.contrib.flatpages as the baseline.

The floor the drug page is measured against is the smallest honest Django page: one flatpage
lookup and a template that outputs the stored HTML.  Flatpages and sites exist only here, never in
the product's settings.
"""

from drugref.settings import *  # noqa: F403
from drugref.settings import BASE_DIR, INSTALLED_APPS, TEMPLATES

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.sites", "django.contrib.flatpages"]
SITE_ID = 1
ROOT_URLCONF = "bench.urls"
TEMPLATES = [{**TEMPLATES[0], "DIRS": [BASE_DIR / "bench" / "templates", *TEMPLATES[0]["DIRS"]]}]
