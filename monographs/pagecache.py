"""Whole-page cache for the monograph pages, the site's hot path.

A cached page is stored under its address — scheme, host and path: the page carries absolute URLs in
its canonical link and JSON-LD, so a page rendered for one allowed host must never be served to another —
and tagged with the live revision's publication time (so publishing that monograph makes it stale at once)
and a content generation that every publish, unpublish, import and drug edit moves on (so lists of related
drugs and other monographs never go stale).  A cache hit costs one small query, like a flatpage, and one
cache round trip (the generation and the page are read together).

If the cache is down, each process keeps the pages it renders in its own memory for `OUTAGE_SECONDS`,
tagged with the page's stamp and the outage: a page whose monograph is published or unpublished is
stale at once, as with Redis, but lists of other drugs and monographs on it may lag by up to
`OUTAGE_SECONDS` (the content generation lives in Redis).  Without it every request of an outage
rendered its page, and throughput fell by two thirds.
"""

from __future__ import annotations

import hashlib
import logging
import time
from functools import wraps

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse

from .cache import OUTAGE, worked_around

logger = logging.getLogger(__name__)
GENERATION_KEY = "drugref:content-generation"
PAGE_SECONDS = 10 * 60
OUTAGE_SECONDS = 10
# Pages kept by this process while the shared cache is down (see the module's docstring).
OUTAGE_PAGES = LocMemCache("drugref-outage-pages", {"TIMEOUT": OUTAGE_SECONDS, "OPTIONS": {"MAX_ENTRIES": 1000}})


def content_changed() -> None:
    """Every cached page becomes stale (call after anything public changes)."""
    try:
        cache.set(GENERATION_KEY, time.time_ns(), None)
    except Exception:  # noqa: BLE001 - pages then render uncached; they cannot be stale without a cache
        worked_around(logger, "cache unavailable; content generation not moved on")


def on_content_changed(sender, **kwargs) -> None:
    """Receiver of monographs.signals.content_changed."""
    content_changed()


def _new_generation() -> int:
    cache.add(GENERATION_KEY, time.time_ns(), None)
    return cache.get(GENERATION_KEY)


def page_key(request) -> str:
    """The cache key of the page at this address.

    Scheme and host are part of it because the page is not the same bytes for every address that reaches the
    view: its canonical link and JSON-LD URLs are absolute (`request.build_absolute_uri`).  `get_host()` has
    already been checked against ALLOWED_HOSTS by CommonMiddleware, so a client cannot fill the cache with
    made-up hosts.
    """
    address = f"{request.scheme}://{request.get_host()}{request.path}"
    return "drugref:html:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def whole_page(stamp):
    """Cache a view's 200 HTML responses under their address, tagged with (generation, stamp(request, **kwargs)).

    One cache round trip per request: the generation and the page are read together, and a page
    tagged with another generation or stamp is stale.  `stamp` returns None when there is nothing live
    to show: the view then runs (and answers 404).
    """

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            value = stamp(request, *args, **kwargs)
            if value is None:
                return view(request, *args, **kwargs)
            key = page_key(request)
            try:
                found = cache.get_many([GENERATION_KEY, key])
                generation = found.get(GENERATION_KEY) or _new_generation()
            except Exception:  # noqa: BLE001 - the page is kept in this process's memory meanwhile
                worked_around(logger, "cache unavailable; serving pages from this process's memory")
                return _during_outage(view, request, key, (OUTAGE.began, value), args, kwargs)
            tag = (generation, value.timestamp() if hasattr(value, "timestamp") else value)
            tagged = found.get(key)
            if tagged is not None and tagged[0] == tag:
                return HttpResponse(tagged[1], content_type="text/html; charset=utf-8")
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                try:
                    cache.set(key, (tag, response.content), PAGE_SECONDS)
                except Exception:  # noqa: BLE001
                    worked_around(logger, "cache unavailable; page not stored")
            return response

        return wrapped

    return decorate


def _during_outage(view, request, key, tag, args, kwargs):
    """The view's page, kept in this process's memory for OUTAGE_SECONDS under `tag`."""
    tagged = OUTAGE_PAGES.get(key)
    if tagged is not None and tagged[0] == tag:
        return HttpResponse(tagged[1], content_type="text/html; charset=utf-8")
    response = view(request, *args, **kwargs)
    if response.status_code == 200 and not response.streaming:
        OUTAGE_PAGES.set(key, (tag, response.content))
    return response
