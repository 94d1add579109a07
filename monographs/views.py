"""Public pages.  Only live (published) revisions ever reach a reader."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import reduce
from itertools import groupby
from operator import or_

from django.contrib.sitemaps.views import index as django_sitemap_index
from django.contrib.sitemaps.views import sitemap as django_sitemap
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_safe

from .models import (
    RELATED_SHOWN,
    Alias,
    BrandName,
    Comparison,
    Drug,
    DrugClass,
    LegacyPath,
    Monograph,
    Revision,
    Topic,
)
from .pagecache import generation_stamp, whole_page
from .prerender import stored
from .rendering import render_comparison, render_page, render_page_cached
from .search import close_matches, search
from .signals import chunks
from .sitemaps import SITEMAPS, fits_one_file
from .structured import Page, fhir_medication_knowledge, json_ld, monograph_json, script_json


def revalidate(last_modified=None):
    """Public pages: browsers revalidate every time (publishing must show at once), and a page whose
    live revision is older than If-Modified-Since answers 304 before anything is rendered."""

    def decorate(view):
        view = cache_control(no_cache=True)(view)
        return condition(last_modified_func=last_modified)(view) if last_modified else view

    return decorate


def _page(request, monograph: Monograph, revision: Revision | None = None, preview: bool = False) -> Page:
    """The live revision of `monograph` (given when the caller has read it with `for_page()`, else read
    here) or, for a staff preview, the revision given, rendered."""
    if preview:
        rendered = render_page(revision)  # a draft's FAQs and tables change without a new cache key
    else:
        if revision is None:
            revision = Revision.objects.live().for_page().filter(monograph=monograph).first()
        # Stored when it went live; rendered (through the cache) only when missing or from an older renderer.
        rendered = (stored(revision) or render_page_cached(revision)) if revision else None
    if revision is None:
        raise Http404("No published revision")
    url = request.build_absolute_uri(monograph.get_absolute_url())
    return Page(drug=monograph.drug, monograph=monograph, revision=revision, rendered=rendered, url=url)


def monograph_page(request, monograph: Monograph, revision: Revision | None = None, preview: bool = False):
    """The public layout of a monograph: its live revision, or (staff preview, from the admin) the one given."""
    if monograph.topic_id is not None:
        return topic_monograph_page(request, monograph, revision, preview)
    page = _page(request, monograph, revision, preview)
    drug = page.drug
    around = page.surroundings
    context = {
        "drug": drug,
        "monograph": monograph,
        "revision": page.revision,
        "canonical_url": page.url,
        "body": page.rendered.html,
        "toc": page.rendered.toc,
        "faqs": page.rendered.faqs,
        "json_ld": script_json(json_ld(page)),
        "brands": around.brands,
        "classes": around.classes,
        "aliases": around.aliases,
        "other_monographs": around.other_monographs,
        "related_drugs": around.related_drugs[:RELATED_SHOWN],
        "more_related": len(around.related_drugs) > RELATED_SHOWN,
        "comparisons": around.comparisons,
        "preview": preview,
    }
    return render(request, "monographs/monograph.html", context)


def _primary_monograph(slug: str) -> Monograph:
    monograph = Monograph.objects.select_related("drug").filter(drug__slug=slug, is_primary=True).first()
    if monograph is None:
        raise Http404("No such drug")
    return monograph


@revalidate()
@require_safe
def drug_json(request, slug):
    page = _page(request, _primary_monograph(slug))
    return JsonResponse(monograph_json(page), json_dumps_params={"ensure_ascii": False, "indent": 2})


@revalidate()
@require_safe
def drug_fhir(request, slug):
    page = _page(request, _primary_monograph(slug))
    return JsonResponse(
        fhir_medication_knowledge(page),
        content_type="application/fhir+json",
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )


@revalidate()
@require_safe
@whole_page(generation_stamp)
def home(request):
    recent = (
        Revision.objects.live().select_related("monograph__drug", "monograph__topic").order_by("-published_at")[:10]
    )
    letters = az_letters(_az_names())
    return render(
        request,
        "monographs/home.html",
        {"recent": recent, "letters": letters, "classes": DrugClass.objects.with_live_drugs()},
    )


def _live_monographs(drug_ids):
    """The drugs' monographs with a live revision, the primary first: where each drug is read now."""
    return (
        Monograph.objects.filter(drug_id__in=drug_ids, revisions__status=Revision.Status.PUBLISHED)
        .select_related("drug")
        .order_by("-is_primary", "slug")
    )


def _drug_redirect(drug: Drug, permanent: bool):
    """To the drug's page, or while its primary monograph is not live, to another live monograph of it
    (302: the primary comes back at the drug's address); 404 when nothing of the drug is live."""
    monograph = _live_monographs([drug.pk]).first()
    if monograph is None:
        raise Http404("Nothing of this drug is live")
    if monograph.is_primary:
        return (HttpResponsePermanentRedirect if permanent else HttpResponseRedirect)(drug.get_absolute_url())
    return HttpResponseRedirect(monograph.get_absolute_url())


# An A–Z with more entries than this is shown a letter a page: at 20,000 monographs (about 60,000 names
# with brands and synonyms) the whole list was 5 MB of HTML and took 4 s to build.
AZ_ONE_PAGE = 2000


def _az_group(name: str) -> str:
    """A name's letter: its first character's Latin letter, accents dropped (Ésomeprazole: E); "#" for a
    name that starts otherwise (a digit, a sign, another script).  So there are 27 groups at most."""
    base = unicodedata.normalize("NFKD", name[:1])[:1].upper()
    return base if "A" <= base <= "Z" else "#"


def _az_order(group: str) -> tuple[bool, str]:
    """Letters A–Z, names that start with no letter last."""
    return group == "#", group


AZ_TOKEN = re.compile(r"[a-z]|other")


def _az_token(group: str) -> str:
    """A letter group as it stands in the address of its page (/drugs/a-z/d/, /drugs/a-z/other/)."""
    return "other" if group == "#" else group.lower()


def _az_names() -> list[tuple[str, int, str | None]]:
    """Every entry of the drugs' A–Z as (name, drug id, kind): each drug with live content by its INN (kind
    None), its brands, and its aliases other than misspellings.  Plain values: no model is built."""
    live = Drug.objects.with_live_content().values("pk")
    kinds = dict(Alias.Kind.choices)
    names = [(name, pk, None) for pk, name in Drug.objects.filter(pk__in=live).values_list("pk", "name")]
    names += [
        (name, pk, "brand") for pk, name in BrandName.objects.filter(drug_id__in=live).values_list("drug_id", "name")
    ]
    names += [
        (name, pk, kinds[kind])
        for pk, name, kind in Alias.objects.filter(drug_id__in=live)
        .exclude(kind=Alias.Kind.MISSPELLING)
        .values_list("drug_id", "name", "kind")
    ]
    return names


def az_letters(names) -> list[tuple[str, str, int]]:
    """(group, address, entries) for each letter group of `names`; the addresses are anchors of /drugs/ while
    the A–Z fits on one page, and pages of their own beyond AZ_ONE_PAGE entries."""
    counts = Counter(_az_group(name) for name, _, _ in names)
    index = reverse("monographs:drug_index")
    return [
        (
            group,
            f"{index}#letter-{group}"
            if len(names) <= AZ_ONE_PAGE
            else reverse("monographs:drug_index_letter", args=[_az_token(group)]),
            count,
        )
        for group, count in sorted(counts.items(), key=lambda item: _az_order(item[0]))
    ]


@revalidate()
@require_safe
@whole_page(generation_stamp)
def drug_index(request, letter: str | None = None):
    """A–Z of drugs, with brand names and synonyms pointing to their drug's live page.  Misspellings are not
    entries (a reader must not learn them as names): they only redirect and feed search.

    A drug whose primary monograph is not live points to another live monograph of it; a drug with none
    is not listed (nor are its brands and aliases).  Beyond AZ_ONE_PAGE entries, /drugs/ lists the
    letters and each letter has a page (`letter`: its token, see _az_token)."""
    if letter is not None and not AZ_TOKEN.fullmatch(letter):
        raise Http404("No such letter in the A–Z")  # before any query: the address space is anyone's
    names = _az_names()
    letters = az_letters(names)
    one_page, current = len(names) <= AZ_ONE_PAGE, None
    if letter is not None:
        if one_page:
            raise Http404("The A–Z is one page")
        # Each of the 27 letters has its page, empty or not, so that every one of them is cached.
        current = "#" if letter == "other" else letter.upper()
        names = [entry for entry in names if _az_group(entry[0]) == current]
    elif not one_page:
        names = []
    addresses = {}
    for chunk in chunks({drug_id for _, drug_id, _ in names}):  # a letter of a large site: thousands of drugs
        for monograph in _live_monographs(chunk):
            addresses.setdefault(monograph.drug_id, (monograph.drug, monograph.get_absolute_url()))
    entries = sorted(
        # A drug whose last live monograph went between the two reads is left out, not a KeyError.
        (
            (name, addresses[drug_id][0], kind, addresses[drug_id][1])
            for name, drug_id, kind in names
            if drug_id in addresses
        ),
        key=lambda entry: (*_az_order(_az_group(entry[0])), entry[0].casefold()),
    )
    groups = [(group, list(items)) for group, items in groupby(entries, key=lambda entry: _az_group(entry[0]))]
    context = {"groups": groups, "letters": letters, "one_page": one_page, "current": current}
    return render(request, "monographs/drug_index.html", context)


def _drug_stamp(request, slug):
    """Which revision of the drug's primary monograph is live, and the content generation (asked once per
    request: 304 check and page cache)."""
    if not hasattr(request, "_drugref_stamp"):
        request._drugref_stamp = Revision.objects.live_stamp(drug_slug=slug)
    return request._drugref_stamp


def _monograph_stamp(request, slug):
    if not hasattr(request, "_drugref_stamp"):
        request._drugref_stamp = Revision.objects.live_stamp(monograph_slug=slug)
    return request._drugref_stamp


def _live_revision(stamp) -> Revision | None:
    """The revision a page's stamp names, with all its page shows beside the body (see
    `for_public_page`); None when there is no stamp or the revision stopped being live since it was read."""
    if stamp is None:
        return None
    return Revision.objects.for_public_page(stamp.revision_id)


def _published_at(stamp):
    """Last-Modified of a page: when its live revision went live on this site."""

    def last_modified(request, slug, **kwargs):
        found = stamp(request, slug, **kwargs)
        return found.published_at if found else None

    return last_modified


@revalidate(_published_at(_drug_stamp))
@require_safe
@whole_page(_drug_stamp)
def drug_detail(request, slug):
    stamp = _drug_stamp(request, slug)
    live = _live_revision(stamp)
    if live is not None:  # the primary monograph is live
        return monograph_page(request, live.monograph, live)
    drug = Drug.objects.filter(slug=slug).first()
    if drug is not None and _live_monographs([drug.pk]).exists():
        return _drug_redirect(drug, permanent=False)
    # A drug with nothing live (created directly, unreviewed) never shadows a live brand or alias.
    other = Alias.objects.filter(slug=slug).select_related("drug").first() or (
        BrandName.objects.filter(slug=slug).select_related("drug").first()
    )
    if other is None:
        raise Http404("No such drug")
    return _drug_redirect(other.drug, permanent=True)


@revalidate(_published_at(_monograph_stamp))
@require_safe
@whole_page(_monograph_stamp)
def monograph_detail(request, slug):
    live = _live_revision(_monograph_stamp(request, slug))
    if live is not None:
        monograph = live.monograph
    else:
        monograph = get_object_or_404(Monograph.objects.select_related("drug", "topic"), slug=slug)
    if monograph.is_primary or monograph.topic_id is not None:  # read at the drug's or the topic's address
        if live is None:
            # Answered like a slug that was never used: a redirect would tell anyone that an unpublished
            # monograph has this address, and the address of its drug or topic.
            raise Http404("No published revision")
        return HttpResponsePermanentRedirect(monograph.get_absolute_url())
    return monograph_page(request, monograph, live)


# Topics ------------------------------------------------------------------------------------------

# A reading level's address under its topic's ("" for the first level), and back.
LEVEL_BY_PATH = {path: level for level, path in Monograph.LEVEL_PATHS.items()}


def _live_topic_levels(topic_ids):
    """The topics' monographs with a live revision, lowest level first, each with `live` (a one-item list)."""
    return (
        Monograph.objects.filter(topic_id__in=topic_ids, revisions__status=Revision.Status.PUBLISHED)
        .select_related("topic")
        .prefetch_related(Prefetch("revisions", queryset=Revision.objects.live(), to_attr="live"))
        .order_by("topic_id", "level")
    )


@revalidate()
@require_safe
@whole_page(generation_stamp)
def topic_index(request):
    """A–Z of topics with a live reading level, each linking to its lowest live level."""
    first_levels = {}
    for monograph in _live_topic_levels(Topic.objects.with_live_content().values("pk")):
        first_levels.setdefault(monograph.topic_id, monograph)
    topics = sorted(first_levels.values(), key=lambda monograph: monograph.topic.name.casefold())
    groups = [
        (letter, list(items))
        for letter, items in groupby(
            topics, key=lambda m: m.topic.name[:1].upper() if m.topic.name[:1].isalpha() else "#"
        )
    ]
    return render(request, "monographs/topic_index.html", {"groups": groups})


def _topic_stamp(request, slug, level=""):
    """Which revision of the topic's reading level at this address is live, with the content generation
    (None: nothing live there, or no such level)."""
    if not hasattr(request, "_drugref_stamp"):
        number = LEVEL_BY_PATH.get(level)
        found = None if number is None else Revision.objects.live_stamp(topic_slug=slug, level=number)
        request._drugref_stamp = found
    return request._drugref_stamp


@revalidate(_published_at(_topic_stamp))
@require_safe
@whole_page(_topic_stamp)
def topic_detail(request, slug, level=""):
    """A reading level of a topic.  The topic's own address shows its first level; while that is not live,
    it sends readers (302) to the lowest live level."""
    number = LEVEL_BY_PATH.get(level)
    if number is None:
        raise Http404("No such reading level")
    if _topic_stamp(request, slug, level) is None:
        lowest = None if level else _live_topic_levels(Topic.objects.filter(slug=slug).values("pk")).first()
        if lowest is None:
            raise Http404("No such topic, or nothing of it is live at this level")
        return HttpResponseRedirect(lowest.get_absolute_url())
    monograph = Monograph.objects.select_related("topic").get(topic__slug=slug, level=number)
    return topic_monograph_page(request, monograph)


def citing_drugs(topic: Topic) -> list[Drug]:
    """Drugs whose live monographs link to one of the topic's addresses, old (its source uris) or new.

    The database looks for the addresses' common beginnings as Markdown link targets (one scan of the
    live bodies, on a page the whole-page cache keeps); Python then drops bodies that only share a
    beginning ("…/abscess-of-the-lip" for "…/abscess").
    """
    paths = list(LegacyPath.objects.filter(monograph__topic=topic).values_list("path", flat=True))
    paths.append(f"/topics/{topic.slug}")
    prefixes = {topic.source_key, f"/topics/{topic.slug}"} if topic.source_key else set(paths)
    link = re.compile(
        r"\]\((?:" + "|".join(re.escape(path) for path in paths) + r")(?:/(?:more-info|detailed))?/?[)#\s]"
    )
    candidates = (
        Revision.objects.live()
        .filter(monograph__drug__isnull=False)
        .filter(reduce(or_, (Q(body__contains=f"]({prefix}") for prefix in prefixes if prefix)))
        .values_list("monograph__drug_id", "body")
    )
    ids = {drug_id for drug_id, body in candidates if link.search(body)}
    return list(Drug.objects.filter(pk__in=ids).order_by("name")) if ids else []


def topic_monograph_page(request, monograph: Monograph, revision: Revision | None = None, preview: bool = False):
    """A topic's reading level: its live revision, or (staff preview) the one given, with the other live levels."""
    page = _page(request, monograph, revision, preview)
    levels = list(_live_topic_levels([monograph.topic_id]))
    if all(level.pk != monograph.pk for level in levels):  # a preview of a level not live yet
        levels = sorted([*levels, monograph], key=lambda level: level.level)
    context = {
        "topic": monograph.topic,
        "monograph": monograph,
        "revision": page.revision,
        "canonical_url": page.url,
        "body": page.rendered.html,
        "toc": page.rendered.toc,
        "faqs": page.rendered.faqs,
        "json_ld": script_json(json_ld(page)),
        "levels": levels,
        "citing_drugs": citing_drugs(monograph.topic),
        "preview": preview,
    }
    return render(request, "monographs/topic.html", context)


@revalidate()
@require_safe
@whole_page(generation_stamp)
def class_detail(request, slug):
    drug_class = get_object_or_404(DrugClass.objects.select_related("parent"), slug=slug)
    public = DrugClass.objects.public_ids()
    if drug_class.pk not in public:
        raise Http404("No live drug in this class")
    drugs = Drug.objects.with_live_content().filter(classes=drug_class)
    children = drug_class.children.filter(pk__in=public)
    return render(request, "monographs/class.html", {"drug_class": drug_class, "drugs": drugs, "children": children})


@revalidate()
@require_safe
@whole_page(generation_stamp)
def comparison_detail(request, slug):
    comparison = (
        Comparison.objects.live()
        .filter(slug=slug)
        .select_related("revision__monograph__drug", "revision__monograph__topic")
        .prefetch_related("attributes", "subjects__cells", "subjects__drug")
        .first()
    )
    if comparison is None:
        raise Http404("No such comparison")
    return render(
        request,
        "monographs/comparison.html",
        {"comparison": comparison, "table": render_comparison(comparison), "monograph": comparison.revision.monograph},
    )


@require_safe
def search_page(request):
    query = request.GET.get("q", "")
    results = search(query) if query.strip() else None
    return render(request, "monographs/search.html", {"query": query, "results": results})


# Close matches search for the words of the missing address and then for each word alone: anyone can ask
# for any address, so only its first few words are used.
NOT_FOUND_WORDS = 4


def page_not_found(request, exception=None):
    """A 404 that offers search, prefilled with the words of the missing address, and close matches."""
    words = re.findall(r"[^\W\d_]{3,}", request.path.rstrip("/").rsplit("/", 1)[-1])
    guess = " ".join(words[:NOT_FOUND_WORDS])
    results = close_matches(guess) if guess else None
    context = {"guess": guess, "results": results}
    return render(request, "404.html", context, status=404)


@whole_page(generation_stamp, content_type="application/xml")
def _sitemap_page(request):
    if fits_one_file():
        response = django_sitemap(request, sitemaps=SITEMAPS)
    else:
        response = django_sitemap_index(request, sitemaps=SITEMAPS, sitemap_url_name="sitemap_section")
    response.render()
    return response


@revalidate()
@require_safe
def sitemap_xml(request):
    """/sitemap.xml (Django's sitemap view) cached under the content generation: at 20,000 monographs it is
    3.5 MB and took 3–4 s a request.  Every address in one file while they fit (monographs/sitemaps.py),
    else an index of the sections' pages (`sitemap_section_xml`): either way it has no pages of its own."""
    if request.GET.get("p", "1") != "1":
        raise Http404("The sitemap has one page")
    response = _sitemap_page(request)
    response["X-Robots-Tag"] = "noindex, noodp, noarchive"  # as Django's view sends it
    return response


@whole_page(generation_stamp, content_type="application/xml", variant=lambda request, section, page: f"?p={page}")
def _sitemap_section_page(request, section: str, page: int):
    response = django_sitemap(request, sitemaps=SITEMAPS, section=section)  # reads ?p itself: the same page
    response.render()
    return response


# Page numbers a sitemap section may be asked for: six digits reach 50 billion addresses.
SITEMAP_PAGE = re.compile(r"[1-9][0-9]{0,5}")


@revalidate()
@require_safe
def sitemap_section_xml(request, section: str):
    """/sitemap-<section>.xml?p=N: a page of one section of the sitemap, as the index names them."""
    page = request.GET.get("p", "1")
    if section not in SITEMAPS or not SITEMAP_PAGE.fullmatch(page):
        raise Http404("No such sitemap page")  # checked before the cache: one key per page that can exist
    response = _sitemap_section_page(request, section=section, page=int(page))
    response["X-Robots-Tag"] = "noindex, noodp, noarchive"
    return response


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
