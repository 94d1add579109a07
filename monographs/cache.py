"""drugref's Redis cache: Django's RedisCache, with timeouts and a short memory of an outage.

Every use of the cache in drugref falls back to working without it (each process serves its own copies
of the pages it served lately or renders them, see monographs/pagecache.py; log-in throttling counts in
the database), so a cache outage may cost speed but never a page.  Two things would still turn an outage
into errors under load, and this backend removes both:

- a frozen Redis (paused, or packets dropped) makes redis-py wait out its socket timeout, 5 s by
  default: the settings make it half a second (`socket_timeout`, `socket_connect_timeout`);
- even so, a page makes three or four cache calls, so each request would wait several timeouts, and
  two workers fall far behind fifty connections.  After a connection error or a timeout this backend
  refuses every cache call at once (raising `CacheUnavailable`) for `outage_pause` seconds, then tries
  Redis again.  The memory is per process: Django makes a backend per thread, an outage is the process's.
"""

from __future__ import annotations

import logging
import sys
import time

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.utils.functional import cached_property

logger = logging.getLogger(__name__)
DEFAULT_OUTAGE_PAUSE = 10.0


class CacheUnavailable(ConnectionError):
    """Redis failed a moment ago; the call was not sent."""


def worked_around(log: logging.Logger, message: str, *args) -> None:
    """Log, from an `except` block, a cache call that failed and that the caller did without.

    In full (with the traceback) the first time; while an outage is remembered, the backend has already
    said so once, and a line per cache call per request would bury it.
    """
    if isinstance(sys.exc_info()[1], CacheUnavailable):
        log.debug(message, *args)
    else:
        log.warning(message, *args, exc_info=True)


class Outage:
    """When Redis last failed, for every backend instance (thread) of this process."""

    def __init__(self) -> None:
        self.until = 0.0
        self.began = 0.0  # when the current (or last) outage began: what the pages kept meanwhile are tagged with

    def active(self) -> bool:
        return time.monotonic() < self.until

    def begin(self, pause: float, error: Exception) -> None:
        if not self.active():
            logger.warning("Redis unavailable (%s); cache bypassed for %.1f s", error, pause)
            self.began = time.monotonic()
        self.until = time.monotonic() + pause


OUTAGE = Outage()


class _GuardedClient:
    """Django's Redis client, whose calls fail at once while an outage is remembered."""

    def __init__(self, client, pause: float) -> None:
        self._client = client
        self._pause = pause

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            if OUTAGE.active():
                raise CacheUnavailable("Redis failed a moment ago; not retried yet")
            try:
                return attribute(*args, **kwargs)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                OUTAGE.begin(self._pause, error)
                raise

        return call


class RedisCache(DjangoRedisCache):
    """OPTIONS as Django's, plus `outage_pause`: seconds to leave Redis alone after it failed."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self._outage_pause = float(options.pop("outage_pause", DEFAULT_OUTAGE_PAUSE))
        super().__init__(server, {**params, "OPTIONS": options})

    @cached_property
    def _cache(self):
        return _GuardedClient(self._class(self._servers, **self._options), self._outage_pause)
