"""Internal links in a revision that lead nowhere, listed before review and publication.

Images, video sources and posters count as links: one the site cannot serve (an imported page's file that
was not found under `import_sources --assets`, a media file since deleted) is listed with the broken links,
although readers never see it (the renderer leaves it out).
"""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup
from django.urls import Resolver404, resolve

from .media import is_served_media, media_name
from .models import Alias, BrandName, Comparison, Drug, DrugClass, LegacyPath, Monograph, Revision
from .rendering import html_text, render_inline, render_revision

# The attributes holding an address: links, and the files images and videos show.
_ADDRESSES = {"a": "href", "img": "src", "source": "src", "video": "poster"}


def internal_links(revision: Revision) -> list[str]:
    """Site-relative addresses (links, images, videos) in the body, comparison tables and FAQ answers,
    in order, without repeats."""
    html = render_revision(revision, keep_missing_media=True).html + "".join(
        render_inline(faq.answer) for faq in revision.faqs.all()
    )
    hrefs = []
    for element in BeautifulSoup(html, "html.parser").find_all(list(_ADDRESSES)):
        href = (element.get(_ADDRESSES[element.name]) or "").strip()
        if not href:
            continue
        if element.name != "a" and not urlsplit(href).scheme and not href.startswith("/"):
            href = "/" + href  # a relative image address: broken on every page, so listed as such
        if href.startswith("/") and not href.startswith("//") and href not in hrefs:
            hrefs.append(href)
    return hrefs


# The renderer's output has been through nh3, which writes every attribute as name="value" with `"` as
# &quot; and never nests links: a regular expression reads its anchors exactly, at a tenth of an HTML
# parser's cost (the link graph reads every page an import writes).  A quoted value may hold a `>`.
_ANCHOR = re.compile(r'<a((?:\s+[^\s"=>]+(?:="[^"]*")?)*)\s*>(.*?)</a>', re.DOTALL)
_HREF = re.compile(r'\shref="([^"]*)"')


def internal_anchors(revision: Revision, page=None) -> list[tuple[str, str]]:
    """(href, link text) of each site-relative link in the body, comparison tables and FAQ answers, in order.

    `page`: the revision's stored rendering (monographs/prerender.py), read instead of rendering it again."""
    if page is not None:
        html = page.html + "".join(answer for _question, answer in page.faqs)
    else:
        html = render_revision(revision).html + "".join(render_inline(faq.answer) for faq in revision.faqs.all())
    anchors = []
    for attributes, inner in _ANCHOR.findall(html):
        href = _HREF.search(attributes)
        href = html_lib.unescape(href.group(1)) if href else ""
        if href.startswith("/") and not href.startswith("//"):
            anchors.append((href, html_text(inner)))
    return anchors


def _live_monograph(**lookup) -> bool:
    return Monograph.objects.filter(**lookup, revisions__status=Revision.Status.PUBLISHED).exists()


def _slug_target_exists(view: str, slug: str, level: str = "") -> bool:
    if view == "drug":
        drug = (
            Drug.objects.filter(slug=slug).first()
            or getattr(Alias.objects.filter(slug=slug).select_related("drug").first(), "drug", None)
            or getattr(BrandName.objects.filter(slug=slug).select_related("drug").first(), "drug", None)
        )
        return drug is not None and _live_monograph(drug=drug, is_primary=True)
    if view == "monograph":
        return _live_monograph(slug=slug)
    if view in ("topic", "topic_level"):  # the topic's address answers while any of its levels is live
        levels = {path: number for number, path in Monograph.LEVEL_PATHS.items()}
        if view == "topic":
            return _live_monograph(topic__slug=slug)
        return level in levels and _live_monograph(topic__slug=slug, level=levels[level])
    if view == "class":
        return DrugClass.objects.filter(slug=slug).exists()
    if view == "comparison":
        return Comparison.objects.live().filter(slug=slug).exists()
    return True


def link_target_exists(href: str) -> bool:
    path = unquote(urlsplit(href).path) or "/"
    if media_name(href) is not None:
        return is_served_media(href)
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is not None and match.namespace == "monographs" and "slug" in match.kwargs:
        return _slug_target_exists(match.url_name, match.kwargs["slug"], match.kwargs.get("level", ""))
    if match is not None:
        return True
    return LegacyPath.objects.filter(
        path=LegacyPath.normalise(path), monograph__revisions__status=Revision.Status.PUBLISHED
    ).exists()


def broken_links(revision: Revision) -> list[str]:
    return [href for href in internal_links(revision) if not link_target_exists(href)]
