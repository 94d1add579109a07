"""The link graph: which live monograph links to which page, and what links here.

Derived data (InternalLink), kept incrementally: when a monograph's live revision changes (published,
imported, superseded, unpublished) only that monograph's outgoing links are rebuilt, by a receiver of
monographs.signals.content_changed.  `manage.py rebuild_links` (and the project's `loaddata`) rebuild
it all.  Links are parsed by monographs/links.py, the same parser as the broken-link check.

A target is kept as its kind and slug (or path): a page type added later (topics) is one more entry
in VIEW_KINDS and one more clause in `target_keys`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import Resolver404, resolve, reverse

from . import prerender
from .links import internal_anchors
from .models import Alias, BrandName, Comparison, Drug, DrugClass, InternalLink, LegacyPath, Monograph, Revision, Topic
from .proposals import redirects_made
from .signals import changed_monograph_ids, chunks, release

K = InternalLink.Kind

# Public views (monographs/urls.py) whose page is a link target, and the kind each records.
VIEW_KINDS = {
    "drug": K.DRUG,
    "drug_json": K.DRUG,
    "drug_fhir": K.DRUG,
    "monograph": K.MONOGRAPH,
    "class": K.CLASS,
    "comparison": K.COMPARISON,
    "topic": K.TOPIC,
    "topic_level": K.TOPIC,
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
            release([revision])
            if len(batch) >= 2000:
                count += len(InternalLink.objects.bulk_create(batch))
                batch = []
        count += len(InternalLink.objects.bulk_create(batch))
    return count


def target_keys(monograph: Monograph) -> Q:
    """Every way a link can name `monograph`: its slug, its drug's page (and that page's other slugs)
    when it is the primary monograph, its topic's page, its legacy paths — as written, and as the page
    address an old slug kept by a redirect looks like ("/drugs/old-name/") — and its live comparisons."""
    keys = Q(target_kind=K.MONOGRAPH, target_key=monograph.slug)
    if monograph.is_primary and monograph.drug_id is not None:
        drug = monograph.drug
        slugs = [drug.slug, *drug.aliases.values_list("slug", flat=True), *drug.brands.values_list("slug", flat=True)]
        keys |= Q(target_kind=K.DRUG, target_key__in=slugs)
    if monograph.topic_id is not None:
        keys |= Q(target_kind=K.TOPIC, target_key=monograph.topic.slug)
    paths = list(monograph.legacy_paths.values_list("path", flat=True))
    keys |= Q(target_kind=K.PATH, target_key__in=paths)
    for path in paths:
        page = target_of(path + "/")
        if page is not None and page[0] != K.PATH:
            keys |= Q(target_kind=page[0], target_key=page[1])
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


# What a change leaves behind ---------------------------------------------------------------------
#
# Before a publisher unpublishes a monograph, retires a drug or approves a change of address, the admin
# lists the links in other live monographs that lead to what is going, each with what the site will then
# answer.  The answer is worked out the way the public views and the legacy-path middleware answer
# (monographs/views.py, monographs/middleware.py), over the site as the change would leave it: nothing is
# written, nothing rendered.  tests/test_link_fates.py makes each change for real and checks that every
# link answers what was announced.


@dataclass(frozen=True)
class After:
    """The site as a change would leave it, as far as the answer to an address depends on it."""

    dark: frozenset[int] = frozenset()  # monographs left with nothing live
    gone: frozenset[tuple[str, str]] = frozenset()  # (kind, slug) of addresses no longer held
    redirects: dict = field(default_factory=dict)  # normalised path → monograph: redirects the change adds
    unredirected: frozenset[str] = frozenset()  # legacy paths the change removes
    moved: dict = field(default_factory=dict)  # monograph pk → its address after the change


@dataclass(frozen=True)
class Dangling:
    """A link that will no longer reach the page it reaches now, and what will answer it instead."""

    link: InternalLink
    hops: tuple[tuple[int, str | None], ...]  # (status, location) of each answer, the last 404 or a page

    @property
    def answers_404(self) -> bool:
        return self.hops[-1][0] == 404

    @property
    def redirect(self) -> str | None:
        """Where the redirects end (None when the link will answer 404)."""
        return None if self.answers_404 else self.hops[-1][1]

    def __str__(self):
        return ", then ".join(f"{status} → {where}" if where else str(status) for status, where in self.hops)


def _live(monograph: Monograph, after: After) -> bool:
    return monograph.pk not in after.dark and Revision.objects.live().filter(monograph=monograph).exists()


def _url(monograph: Monograph, after: After) -> str:
    return after.moved.get(monograph.pk) or monograph.get_absolute_url()


def _legacy(path: str, after: After) -> tuple:
    """What the legacy-path middleware answers for a path the views answer 404."""
    path = LegacyPath.normalise(path)
    monograph = after.redirects.get(path)
    if monograph is None and path not in after.unredirected:
        legacy = LegacyPath.objects.select_related("monograph__drug", "monograph__topic").filter(path=path).first()
        monograph = legacy.monograph if legacy else None
    if monograph is not None and _live(monograph, after):
        return ((301, _url(monograph, after)),)
    return ((404, None),)


def _drug_named(slug: str, after: After) -> tuple[Drug | None, bool]:
    """The drug an address /drugs/<slug>/ names, and whether by its own slug (not a brand's or alias's)."""
    if ("drug", slug) in after.gone:
        return None, False
    drug = Drug.objects.filter(slug=slug).first()
    if drug is not None:
        return drug, True
    other = Alias.objects.filter(slug=slug).select_related("drug").first()
    other = other or BrandName.objects.filter(slug=slug).select_related("drug").first()
    return (other.drug if other else None), False


def answer(href: str, after: After, depth: int = 0) -> tuple | None:
    """The answers the site will give `href` once the change is made: None when a page answers at once,
    else the redirects and the final 404 (views.drug_detail, monograph_detail, topic_detail and
    comparison_detail, then the legacy-path middleware, mirrored)."""
    path = unquote(urlsplit(href).path) or "/"
    try:
        match = resolve(path)
    except Resolver404:
        return _legacy(path, after)
    if match.namespace != "monographs" or "slug" not in match.kwargs:
        return None
    name, slug = match.url_name, match.kwargs["slug"]
    if name == "drug":
        drug, own = _drug_named(slug, after)
        monographs = Monograph.objects.filter(drug=drug).select_related("drug", "topic").order_by("-is_primary", "slug")
        live = next((m for m in monographs if _live(m, after)), None) if drug else None
        if live is None:
            return _legacy(path, after)
        if live.is_primary:
            return None if own else ((301, _url(live, after)),)
        return ((302, _url(live, after)),)
    if name in ("drug_json", "drug_fhir"):
        drug, own = _drug_named(slug, after)
        primary = Monograph.objects.filter(drug=drug, is_primary=True).first() if own else None
        return None if primary is not None and _live(primary, after) else _legacy(path, after)
    if name == "monograph":
        monograph = None if ("monograph", slug) in after.gone else Monograph.objects.filter(slug=slug).first()
        if monograph is None:
            return _legacy(path, after)
        if monograph.is_primary or monograph.topic_id is not None:  # read at the drug's or the topic's address
            if not _live(monograph, after):
                return _legacy(path, after)
            url = _url(monograph, after)
            then = answer(url, after, depth + 1) if depth < 3 else None
            return ((301, url), *(then or ()))
        return None if _live(monograph, after) else _legacy(path, after)
    if name == "comparison":
        elsewhere = Comparison.objects.live().filter(slug=slug).exclude(revision__monograph_id__in=after.dark)
        return None if elsewhere.exists() else _legacy(path, after)
    if name == "class":
        return _legacy(path, after) if ("class", slug) in after.gone else None
    if name in ("topic", "topic_level"):
        level = {p: n for n, p in Monograph.LEVEL_PATHS.items()}.get(match.kwargs.get("level", ""))
        levels = [] if ("topic", slug) in after.gone else list(Monograph.objects.filter(topic__slug=slug))
        here = next((m for m in levels if m.level == level and _live(m, after)), None)
        if here is not None:
            return None
        lowest = min((m for m in levels if _live(m, after)), key=lambda m: m.level, default=None)
        if lowest is not None and name == "topic":  # the topic's own address sends readers to a live level
            return ((302, _url(lowest, after)),)
        return _legacy(path, after)
    return None


def _dangling(links, after: After) -> list[Dangling]:
    found = []
    for link in links.select_related("source", "revision").order_by("source__slug", "position"):
        hops = answer(link.href, after)
        if hops is not None:
            found.append(Dangling(link, hops))
    return found


def if_unpublished(monographs) -> list[Dangling]:
    """The links in other live monographs that would stop reaching `monographs` if nothing of them
    were live, with what will answer each."""
    monographs = list(monographs)
    if not monographs:
        return []
    keys = Q()
    for monograph in monographs:
        keys |= target_keys(monograph)
    ids = frozenset(m.pk for m in monographs)
    return _dangling(InternalLink.objects.filter(keys).exclude(source_id__in=ids), After(dark=ids))


def if_retired(drug: Drug) -> list[Dangling]:
    return if_unpublished(live_monographs_of(drug))


def live_monographs_of(drug: Drug):
    return (
        Monograph.objects.filter(drug=drug, revisions__status=Revision.Status.PUBLISHED)
        .select_related("drug", "topic")
        .distinct()
        .order_by("-is_primary", "slug")
    )


def if_changed(obj, before: dict, after: dict) -> list[Dangling]:
    """The links that a proposed change (monographs/proposals.py) would leave without their page — an
    old slug of a drug, brand, alias, class, monograph or topic, or a legacy path removed — with what will
    answer each: the redirect the change records (proposals.redirects_made) or 404."""
    kind = {Drug: K.DRUG, DrugClass: K.CLASS, Monograph: K.MONOGRAPH, Topic: K.TOPIC}[type(obj)]
    gone, moved = set(), {}
    renamed = before.get("slug") != after.get("slug")
    if renamed:
        gone.add((str(kind), before["slug"]))
    if isinstance(obj, Drug):
        for rows in ("brands", "aliases"):
            kept = {row["slug"] for row in after.get(rows, [])}
            gone |= {(str(K.DRUG), row["slug"]) for row in before.get(rows, []) if row["slug"] not in kept}
        primary = Monograph.objects.filter(drug=obj, is_primary=True).first()
        if renamed and primary is not None:
            moved[primary.pk] = reverse("monographs:drug", args=[after["slug"]])
    elif isinstance(obj, Topic) and renamed:
        for level in obj.monographs.all():
            moved[level.pk] = Monograph.topic_level_url(after["slug"], level.level)
    elif isinstance(obj, Monograph) and renamed:
        if after.get("topic"):
            moved[obj.pk] = Monograph.topic_level_url(after["topic"], after["level"])
        elif after.get("is_primary") and after.get("drug"):
            moved[obj.pk] = reverse("monographs:drug", args=[after["drug"]])
        else:
            moved[obj.pk] = reverse("monographs:monograph", args=[after["slug"]])
    unredirected = set(before.get("legacy_paths", [])) - set(after.get("legacy_paths", []))
    keys = Q(pk__in=[])
    for target_kind, slug in gone:
        keys |= Q(target_kind=target_kind, target_key=slug)
    for path in unredirected:
        keys |= Q(target_kind=K.PATH, target_key=path)
        page = target_of(path + "/")
        if page is not None:
            keys |= Q(target_kind=page[0], target_key=page[1])
    state = After(
        gone=frozenset(gone),
        redirects={LegacyPath.normalise(path): m for path, m in redirects_made(obj, before, after)},
        unredirected=frozenset(unredirected),
        moved=moved,
    )
    return _dangling(InternalLink.objects.filter(keys), state)
