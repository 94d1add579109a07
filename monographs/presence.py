"""Who has a draft open: a soft lock, like Wagtail's and WordPress's, that tells and never blocks.

The revision page reports its editor every HEARTBEAT seconds (static/js/admin-desk-presence.js); the cache
keeps, per revision, who is there, since when and when last heard from.  Someone not heard from for
GONE_AFTER seconds has left; coming back starts a new visit.  The cache is all it needs: when the cache is
down nobody is shown, and editing goes on as before.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

from .cache import worked_around

logger = logging.getLogger(__name__)
HEARTBEAT = 30
GONE_AFTER = 3 * HEARTBEAT


def _key(revision_pk: int) -> str:
    return f"drugref:presence:{revision_pk}"


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def here(revision_pk: int, user, now: float | None = None) -> list[dict]:
    """Record `user` as having the revision open; the others who have it open, longest-open first.

    Each is {"name", "opened" (epoch seconds), "minutes" (whole minutes since opened), "text"}.
    """
    now = time.time() if now is None else now
    try:
        visits = cache.get(_key(revision_pk)) or {}
    except Exception:  # noqa: BLE001 - any cache failure: nobody shown, nothing blocked
        worked_around(logger, "cache unavailable; who has the draft open is not shown")
        return []
    visits = {pk: v for pk, v in visits.items() if now - v["seen"] < GONE_AFTER}
    mine = visits.get(str(user.pk))
    visits[str(user.pk)] = {"name": _name(user), "opened": mine["opened"] if mine else now, "seen": now}
    try:
        cache.set(_key(revision_pk), visits, GONE_AFTER + HEARTBEAT)
    except Exception:  # noqa: BLE001
        worked_around(logger, "cache unavailable; this editor's visit is not recorded")
    others = sorted((v for pk, v in visits.items() if pk != str(user.pk)), key=lambda v: v["opened"])
    return [
        {**v, "minutes": int((now - v["opened"]) // 60), "text": notice(v["name"], now - v["opened"])} for v in others
    ]


def notice(name: str, seconds: float) -> str:
    minutes = int(seconds // 60)
    when = "just now" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    return f"{name} opened this draft {when} and may be editing it: save often, and talk before you both change it."
