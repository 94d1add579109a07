"""Admin log-in throttling: django-axes, told which name and which address an attempt belongs to.

django-axes (settings `AXES_*` in drugref/settings.py) records every failed log-in in its own database
table, so every worker and every app server counts the same attempts, and refuses further attempts with
our lockout page.  What it cannot know on its own, and this module tells it:

- **Which account** an attempt was at: `login_name` keys the counter on the name as Django matched it —
  the admin's form normalises it with NFKC (`ｐｕｂｌｉｓｈｅｒ` logs in as `publisher`), and we also
  case-fold it, so no spelling of a name gets a counter of its own.
- **Which client** made it: `client_address` reads X-Forwarded-For only as far as the `NUM_PROXIES`
  trusted proxies wrote it, so behind a proxy each client has its own counter, and without one a header
  the client sets is never read.
- **Two limits**: `AccountOrAddressHandler` locks an account after a few failures at it, from anywhere, and
  an address after more failures from it, at any accounts.  One account locked leaves the others open to
  that address until the address limit; axes alone has one limit for both.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.shortcuts import render


def login_name(request, credentials: dict | None = None) -> str | None:
    """The account an attempt was at (AXES_USERNAME_CALLABLE).

    Django's log-in form normalises the posted name with NFKC before it authenticates, so a look-alike
    spelling (fullwidth letters, ligatures) reaches the same account and must reach the same counter.
    Case-folding on top counts `Publisher` with `publisher`: a case-insensitive user lookup (a custom
    backend, a database collation) could match either, and counting them together never lets an
    attacker through.  axes stores at most 255 characters.
    """
    field = get_user_model().USERNAME_FIELD
    name = (credentials or {}).get(field)
    if name is None and request is not None:
        name = request.POST.get(field)
    if name is None:
        return None
    folded = unicodedata.normalize("NFKC", str(name)).strip().casefold()
    return unicodedata.normalize("NFKC", folded)[:255]


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The client's address as the outermost trusted proxy saw it (AXES_CLIENT_IP_CALLABLE).

    Each proxy appends the address it received the request from to X-Forwarded-For, so with `NUM_PROXIES`
    proxies in front of the app the client is the `NUM_PROXIES`-th entry from the right; everything left
    of it is whatever the client chose to send.  Without a configured proxy the header is never read: the
    socket's peer (REMOTE_ADDR) is the client.  A request that lacks the entries the proxies write did
    not come through them (or they are misconfigured) and counts under REMOTE_ADDR.

    Not django-ipware: its `proxy_count` counts the proxies listed in the header, not those in front of the
    app (one nginx is `proxy_count=0`; `1` takes the entry the client wrote), and its lenient parsing skips
    malformed entries, so a client that sends `1.2.3.4, "` makes the proxy's entry unreadable and is
    counted as 1.2.3.4.
    """
    proxies = settings.NUM_PROXIES
    if proxies:
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(hops) >= proxies:
            forwarded = _address(hops[-proxies])
            if forwarded is not None:
                return forwarded
    return _address(request.META.get("REMOTE_ADDR"))


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class AccountOrAddressHandler(AxesDatabaseHandler):
    """axes' database handler with a limit per account and a higher one per address (AXES_HANDLER).

    Counters live in the `axes_accessattempt` table, one row per (name, address, user agent) with its
    failure count and last failure time; a row older than the cool-off is forgotten.  An attempt is
    refused when its account has `AXES_FAILURE_LIMIT` recent failures from any address, or its address
    `LOGIN_ADDRESS_FAILURE_LIMIT` recent failures at any accounts.  axes compares one number with one
    limit, so this reports the account's failures, raised to the account limit once the address is over
    its own.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        recent = AccessAttempt.objects.all()
        cool_off = get_cool_off(request)
        if cool_off is not None:
            recent = recent.filter(attempt_time__gte=request.axes_attempt_time - cool_off)
        account = _failures(recent.filter(username=get_client_username(request, credentials)))
        if _failures(recent.filter(ip_address=request.axes_ip_address)) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(account, settings.AXES_FAILURE_LIMIT)
        return account


def lockout_response(request, original_response=None, credentials: dict | None = None):
    """The 429 page (AXES_LOCKOUT_CALLABLE): when to try again, in the admin's own layout.

    Every refused attempt is itself recorded as a failure (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so
    the lock ends one cool-off after this request; Retry-After says the same to machines.
    """
    cool_off = get_cool_off(request)
    # Rounded up to the minute shown: trying at the minute shown must not be too early (and start again).
    retry_at = (request.axes_attempt_time + cool_off + timedelta(seconds=59)).replace(second=0, microsecond=0)
    response = render(
        request,
        "admin/login_throttled.html",
        {
            **admin.site.each_context(request),
            "title": "Too many attempts",
            "minutes": int(cool_off.total_seconds() // 60),
            "retry_at": retry_at,
        },
        status=429,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
