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
`Revision.objects.live_stamp`), like a flatpage, and one cache read.

If the cache is down (Redis stopped or frozen: monographs/cache.py then refuses calls at once for a
while), each process serves the copies it kept of the pages it served lately (`KeptPages`), checked
against the same stamp, so a publish made anywhere still shows on the next request; a page it has no
fresh copy of is rendered and kept.  An outage therefore costs one render per page per process, not one
per request (issue 14: every request rendered, and an outage cost two thirds of the throughput).  The
copies are consulted only when the shared cache fails: with it up, it alone answers, so what it holds
(and clearing it) means what it says.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from functools import wraps

from django.conf import settings
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


def page_key(request, variant: str = "") -> str:
    """The cache key of the page at this address.

    Scheme and host are part of it because the page is not the same bytes for every address that reaches the
    view: its canonical link and JSON-LD URLs are absolute (`request.build_absolute_uri`).  `get_host()` has
    already been checked against ALLOWED_HOSTS by CommonMiddleware, so a client cannot fill the cache with
    made-up hosts.
    """
    address = f"{request.scheme}://{request.get_host()}{request.path}{variant}"
    return "drugref:html:" + hashlib.sha256(address.encode()).hexdigest()[:32]


class KeptPages:
    """This process's copies of the pages it served lately, each with its stamp, for a cache outage.

    Bounded by size (`settings.KEPT_PAGES_BYTES`, 0 keeps nothing): the least recently served pages
    go first.  A copy is only served under the stamp it was kept with, and the caller reads the stamp
    from the database on every request; like the shared cache's, a copy is served for PAGE_SECONDS
    after it was kept at most (a database restored from a backup may bring back a stamp).
    """

    OVERHEAD = 200  # bytes a kept page costs beyond its content and key (the entry, the tuple, the tag)

    def __init__(self) -> None:
        self._pages: OrderedDict[str, tuple[tuple, bytes, float]] = OrderedDict()  # tag, content, expiry
        self._lock = threading.Lock()  # gunicorn's sync workers have one thread; runserver and others more
        self.size = 0

    @staticmethod
    def _cost(key: str, content: bytes) -> int:
        return len(key) + len(content) + KeptPages.OVERHEAD

    def get(self, key: str, tag: tuple) -> bytes | None:
        with self._lock:
            kept = self._pages.get(key)
            if kept is None or kept[0] != tag or kept[2] < time.monotonic():
                return None
            self._pages.move_to_end(key)
            return kept[1]

    def keep(self, key: str, tag: tuple, content: bytes) -> None:
        limit = settings.KEPT_PAGES_BYTES
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self.size -= self._cost(key, old[1])
            cost = self._cost(key, content)
            if cost > limit:
                return
            self._pages[key] = (tag, content, time.monotonic() + PAGE_SECONDS)
            self.size += cost
            while self.size > limit:
                dropped, (_, dropped_content, _) = self._pages.popitem(last=False)
                self.size -= self._cost(dropped, dropped_content)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._pages)


KEPT = KeptPages()


HTML = "text/html; charset=utf-8"


def generation_stamp(request, *args, **kwargs):
    """The stamp of a page that lists content rather than showing one revision (home, the A–Z indexes, a
    class, a comparison, the sitemap, the feed): every change it could show moves the content generation
    on (publishes, unpublishes, imports, approved changes to drugs, classes and topics, all through
    monographs.signals.announce).  Uncached, the A–Z of drugs of a 20,000-monograph site took 3.9 s."""
    return (ContentGeneration.value(),)


def whole_page(stamp, content_type: str = HTML, variant=None):
    """Cache a view's 200 responses (of `content_type`: HTML unless told) under their address, tagged with
    `stamp(request, **kwargs)`.  The response is served again as its content and that type alone.

    The address is the path, never the query string (anyone could fill the cache with made-up ones);
    a view that shows more than one page at one path names the page by `variant(request, **kwargs)`, a
    string the view has checked (e.g. "?p=2" of a page that exists: a 404 is not cached).

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
            key = page_key(request, variant(request, *args, **kwargs) if variant else "")
            try:
                tagged = cache.get(key)
            except Exception:  # noqa: BLE001 - served from this process's copy, or rendered
                worked_around(logger, "cache unavailable; serving this process's copies of pages")
                kept = KEPT.get(key, tag)
                if kept is not None:
                    return HttpResponse(kept, content_type=content_type)
                return _kept(key, tag, view(request, *args, **kwargs))
            if tagged is not None and tagged[0] == tag:
                KEPT.keep(key, tag, tagged[1])
                return HttpResponse(tagged[1], content_type=content_type)
            response = _kept(key, tag, view(request, *args, **kwargs))
            if response.status_code == 200 and not response.streaming:
                try:
                    cache.set(key, (tag, response.content), PAGE_SECONDS)
                except Exception:  # noqa: BLE001
                    worked_around(logger, "cache unavailable; page not stored")
            return response

        return wrapped

    return decorate


def _kept(key: str, tag: tuple, response):
    """Keep a copy of a rendered page for an outage (a 200 with its content; not a redirect or a 404)."""
    if response.status_code == 200 and not response.streaming:
        KEPT.keep(key, tag, response.content)
    return response
