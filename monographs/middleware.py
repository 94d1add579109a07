from functools import wraps

from django.http import HttpResponsePermanentRedirect

from .models import LegacyPath


class LegacyPathRedirectMiddleware:
    """A source site's path (with or without a trailing slash) answers 301 to where its content lives now.

    Like django.contrib.redirects, it acts only on 404s, so it costs nothing on pages that exist.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 404:
            return response
        legacy = (
            LegacyPath.objects.select_related("monograph__drug", "monograph__topic")
            .filter(path=LegacyPath.normalise(request.path))
            .first()
        )
        if legacy is None or not legacy.monograph.revisions.live().exists():
            return response
        return HttpResponsePermanentRedirect(legacy.monograph.get_absolute_url())


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no inline script anywhere: stored content could never run even if it got through
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


FRAMEABLE_BY_SELF = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'")


def frameable_by_self(view):
    """Let this site's own pages, and no other site, show the view's response in a frame.

    Every other response refuses all framing (X-Frame-Options DENY, `frame-ancestors 'none'`); the
    proof-reader's review page needs the staff preview beside the diff, so that view alone relaxes both.
    Works on a view function or a view method.
    """

    @wraps(view)
    def framed(*args, **kwargs):
        response = view(*args, **kwargs)
        response["X-Frame-Options"] = "SAMEORIGIN"
        response["Content-Security-Policy"] = FRAMEABLE_BY_SELF
        return response

    return framed


class ContentSecurityPolicyMiddleware:
    """A second line of defence behind the sanitiser: the browser refuses inline and foreign script."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
