"""Internal links in a revision that lead nowhere, listed before review and publication."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import Resolver404, resolve

from .models import Alias, BrandName, Comparison, Drug, DrugClass, LegacyPath, Monograph, Revision
from .rendering import render_inline, render_revision


def internal_anchors(revision: Revision) -> list[tuple[str, str]]:
    """(href, link text) of each site-relative link in the body, comparison tables and FAQ answers, in order."""
    html = render_revision(revision).html + "".join(render_inline(faq.answer) for faq in revision.faqs.all())
    anchors = []
    for anchor in BeautifulSoup(html, "html.parser").find_all("a", href=True):
        href = anchor["href"]
        if href.startswith("/") and not href.startswith("//"):
            anchors.append((href, " ".join(anchor.get_text(" ").split())))
    return anchors


def internal_links(revision: Revision) -> list[str]:
    """Site-relative hrefs in the body, comparison tables and FAQ answers, in order, without repeats."""
    return list(dict.fromkeys(href for href, _ in internal_anchors(revision)))


def _live_monograph(**lookup) -> bool:
    return Monograph.objects.filter(**lookup, revisions__status=Revision.Status.PUBLISHED).exists()


def _slug_target_exists(view: str, slug: str) -> bool:
    if view == "drug":
        drug = (
            Drug.objects.filter(slug=slug).first()
            or getattr(Alias.objects.filter(slug=slug).select_related("drug").first(), "drug", None)
            or getattr(BrandName.objects.filter(slug=slug).select_related("drug").first(), "drug", None)
        )
        return drug is not None and _live_monograph(drug=drug, is_primary=True)
    if view == "monograph":
        return _live_monograph(slug=slug)
    if view == "class":
        return DrugClass.objects.filter(slug=slug).exists()
    if view == "comparison":
        return Comparison.objects.live().filter(slug=slug).exists()
    return True


def link_target_exists(href: str) -> bool:
    path = unquote(urlsplit(href).path) or "/"
    media = "/" + settings.MEDIA_URL.strip("/") + "/"
    if path.startswith(media):
        return default_storage.exists(path[len(media) :])
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is not None and match.namespace == "monographs" and "slug" in match.kwargs:
        return _slug_target_exists(match.url_name, match.kwargs["slug"])
    if match is not None:
        return True
    return LegacyPath.objects.filter(
        path=LegacyPath.normalise(path), monograph__revisions__status=Revision.Status.PUBLISHED
    ).exists()


def broken_links(revision: Revision) -> list[str]:
    return [href for href in internal_links(revision) if not link_target_exists(href)]
