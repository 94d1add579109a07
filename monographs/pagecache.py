"""Whole-page cache for the monograph pages, the site's hot path.

A cached page is keyed by its path, the live revision's publication time (so publishing that
monograph changes the key at once) and a content generation that every publish, unpublish, import
and drug edit moves on (so lists of related drugs and other monographs never go stale).  A cache
hit costs one small query, like a flatpage.  If the cache is down, pages render as if uncached.
"""

from __future__ import annotations

import hashlib
import logging
import time
from functools import wraps

from django.core.cache import cache
from django.http import HttpResponse

logger = logging.getLogger(__name__)
GENERATION_KEY = "drugref:content-generation"
PAGE_SECONDS = 10 * 60


def content_changed() -> None:
    """Every cached page becomes stale (call after anything public changes)."""
    try:
        cache.set(GENERATION_KEY, time.time_ns(), None)
    except Exception:  # noqa: BLE001 - pages then render uncached; they cannot be stale without a cache
        logger.warning("cache unavailable; content generation not moved on", exc_info=True)


def _generation() -> int | None:
    try:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            cache.add(GENERATION_KEY, time.time_ns(), None)
            generation = cache.get(GENERATION_KEY)
        return generation
    except Exception:  # noqa: BLE001
        logger.warning("cache unavailable; serving pages uncached", exc_info=True)
        return None


def whole_page(stamp):
    """Cache a view's 200 HTML responses under (generation, path, stamp(request, **kwargs)).

    `stamp` returns None when there is nothing live to show: the view then runs (and answers 404).
    """

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            generation = _generation()
            value = stamp(request, *args, **kwargs)
            if generation is None or value is None:
                return view(request, *args, **kwargs)
            path = hashlib.sha256(request.path.encode()).hexdigest()[:32]
            key = f"drugref:html:{generation}:{path}:{value.timestamp() if hasattr(value, 'timestamp') else value}"
            try:
                html = cache.get(key)
            except Exception:  # noqa: BLE001
                html = None
            if html is not None:
                return HttpResponse(html, content_type="text/html; charset=utf-8")
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                try:
                    cache.set(key, response.content, PAGE_SECONDS)
                except Exception:  # noqa: BLE001
                    logger.warning("cache unavailable; page not stored", exc_info=True)
            return response

        return wrapped

    return decorate
