"""Addresses of the site's pages, each worked out once per process.

A public page names a dozen or more (the navigation and footer, its drug, its classes, related drugs and
comparisons), and Django's `reverse` walks the URL patterns for each: about 1 ms of an uncached drug
page, which issue 14 holds to 10× a flatpage.  An address depends only on the URL patterns, the script
prefix (an app mounted under SCRIPT_NAME) and the arguments, so it is remembered under those: the
patterns as the resolver object, which Django replaces whenever they change (`clear_url_caches`).
"""

from __future__ import annotations

from functools import lru_cache

from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse


@lru_cache(maxsize=4096)  # every drug's, class's and comparison's page, and then the least recent go
def _address(resolver, prefix: str, viewname: str, args: tuple) -> str:
    return reverse(viewname, urlconf=resolver.urlconf_name, args=args)


def address(viewname: str, *args) -> str:
    """`reverse(viewname, args=args)`, remembered (no kwargs, no current_app: the site's own pages)."""
    urlconf = get_urlconf()
    return _address(get_resolver(urlconf), get_script_prefix(), viewname, args)
