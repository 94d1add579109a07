"""Whole-page cache for the monograph pages, the site's hot path.

A cached page is stored under its address — scheme, host and path: the page carries absolute URLs in
its canonical link and JSON-LD, so a page rendered for one allowed host must never be served to another —
and tagged with its stamp: which revision is live (so publishing or re-importing that monograph makes it
stale at once, whatever dates the new revision carries) and the content generation, a number in the
database that every publish, unpublish, import and drug edit moves on in its own transaction (so lists
of related drugs and other monographs never go stale).  Because the generation lives in the database,
not in a cache, a change made by another process — another app server, an import, `publish_scheduled`
from cron — is seen by every server as soon as it commits, even with the local-memory cache.

A cache hit costs one small query (the stamp and the generation together, see
`Revision.objects.live_stamp`), like a flatpage, and one cache read.  If the cache is down, pages render
as if uncached.
"""

from __future__ import annotations

import hashlib
import logging
from functools import wraps

from django.core.cache import cache
from django.http import HttpResponse

from .cache import worked_around
from .models import ContentGeneration

logger = logging.getLogger(__name__)
PAGE_SECONDS = 10 * 60


def content_changed() -> None:
    """Every cached page becomes stale (for what changed outside the workflow, e.g. `loaddata`; the
    workflow and the importer move the generation on through monographs.signals.announce)."""
    ContentGeneration.move_on()


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
    """Cache a view's 200 HTML responses under their address, tagged with `stamp(request, **kwargs)`.

    One cache round trip per request; a page tagged with another stamp is stale.  The stamp must change
    whenever the page would (`Revision.objects.live_stamp`: the live revision and the content
    generation).  It returns None when there is nothing live to show: the view then runs (and answers 404).
    """

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            value = stamp(request, *args, **kwargs)
            if value is None:
                return view(request, *args, **kwargs)
            tag = tuple(value)
            key = page_key(request)
            try:
                tagged = cache.get(key)
            except Exception:  # noqa: BLE001 - the page renders uncached
                worked_around(logger, "cache unavailable; serving pages uncached")
                return view(request, *args, **kwargs)
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
