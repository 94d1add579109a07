"""The link graph: which live monograph links to which page, and what links here.

Derived data (InternalLink), kept incrementally: when a monograph's live revision changes (published,
imported, superseded, unpublished) only that monograph's outgoing links are rebuilt, by a receiver of
monographs.signals.content_changed.  `manage.py rebuild_links` (and the project's `loaddata`) rebuild
it all.  Links are parsed by monographs/links.py, the same parser as the broken-link check.

A target is kept as its kind and slug (or path): a page type added later (topics) is one more entry
in VIEW_KINDS and one more clause in `target_keys`.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import Resolver404, resolve

from . import prerender
from .links import internal_anchors
from .models import Comparison, InternalLink, LegacyPath, Monograph, Revision
from .signals import changed_monograph_ids, chunks

K = InternalLink.Kind

# Public views (monographs/urls.py) whose page is a link target, and the kind each records.
VIEW_KINDS = {
    "drug": K.DRUG,
    "drug_json": K.DRUG,
    "drug_fhir": K.DRUG,
    "monograph": K.MONOGRAPH,
    "class": K.CLASS,
    "comparison": K.COMPARISON,
}


def target_of(href: str) -> tuple[str, str] | None:
    """(kind, key) of the page an internal href leads to; None for media files and pages that are no
    content (the search, the drug index…).  A path no view answers is kept as it is (a legacy path,
    or a link to nothing)."""
    path = unquote(urlsplit(href).path) or "/"
    media = "/" + settings.MEDIA_URL.strip("/") + "/"
    if path.startswith(media):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return K.PATH, LegacyPath.normalise(path)[:500]
    if match.namespace == "monographs" and match.url_name in VIEW_KINDS and "slug" in match.kwargs:
        return VIEW_KINDS[match.url_name], match.kwargs["slug"][:500]
    return None


def links_of(revision: Revision) -> list[InternalLink]:
    links = []
    # The page stored when the revision went live (prerender's receiver runs first), not a second render.
    for position, (href, text) in enumerate(internal_anchors(revision, prerender.stored(revision)), start=1):
        target = target_of(href)
        if target is not None:
            links.append(
                InternalLink(
                    source_id=revision.monograph_id,
                    revision=revision,
                    position=position,
                    href=href[:1000],
                    text=text[:500],
                    target_kind=target[0],
                    target_key=target[1],
                )
            )
    return links


def rebuild_monograph(monograph: Monograph) -> int:
    """Bring one monograph's outgoing links in line with its live revision (none when nothing is live)."""
    return rebuild_monographs([monograph.pk])


def rebuild_monographs(ids) -> int:
    """Bring the outgoing links of the monographs `ids` in line with their live revisions, CHUNK at a
    time (three queries per chunk); returns the number of links written."""
    count = 0
    with transaction.atomic():
        for chunk in chunks(ids):
            InternalLink.objects.filter(source_id__in=chunk).delete()
            revisions = Revision.objects.live().filter(monograph_id__in=chunk).select_related("prerendered")
            links = [link for revision in revisions.order_by() for link in links_of(revision)]
            count += len(InternalLink.objects.bulk_create(links))
    return count


def on_content_changed(sender, monographs=(), drugs=(), **kwargs) -> None:
    """Receiver of monographs.signals.content_changed: rebuild the changed monographs' outgoing links."""
    rebuild_monographs(changed_monograph_ids(monographs, drugs))


def rebuild_all() -> int:
    """Rebuild the whole graph from the live revisions; returns the number of links."""
    count = 0
    with transaction.atomic():
        InternalLink.objects.all().delete()
        revisions = (
            Revision.objects.live()
            .select_related("monograph")
            .prefetch_related("faqs", "comparisons__attributes", "comparisons__subjects__cells")
        )
        batch = []
        for revision in revisions.order_by("pk").iterator(chunk_size=200):
            batch += links_of(revision)
            if len(batch) >= 2000:
                count += len(InternalLink.objects.bulk_create(batch))
                batch = []
        count += len(InternalLink.objects.bulk_create(batch))
    return count


def target_keys(monograph: Monograph) -> Q:
    """Every way a link can name `monograph`: its slug, its drug's page (and that page's other slugs)
    when it is the primary monograph, its legacy paths and its live comparisons."""
    keys = Q(target_kind=K.MONOGRAPH, target_key=monograph.slug)
    if monograph.is_primary:
        drug = monograph.drug
        slugs = [drug.slug, *drug.aliases.values_list("slug", flat=True), *drug.brands.values_list("slug", flat=True)]
        keys |= Q(target_kind=K.DRUG, target_key__in=slugs)
    keys |= Q(target_kind=K.PATH, target_key__in=monograph.legacy_paths.values_list("path", flat=True))
    comparisons = Comparison.objects.live().filter(revision__monograph=monograph).values_list("slug", flat=True)
    keys |= Q(target_kind=K.COMPARISON, target_key__in=list(comparisons))
    return keys


def linking_to(monograph: Monograph):
    """ "What links here": the links in live revisions that lead to `monograph`'s pages."""
    return (
        InternalLink.objects.filter(target_keys(monograph))
        .select_related("source", "revision")
        .order_by("source__slug", "position")
    )


def left_dangling(monograph: Monograph):
    """The links in other monographs that would lead nowhere if `monograph` were unpublished."""
    return linking_to(monograph).exclude(source=monograph)
