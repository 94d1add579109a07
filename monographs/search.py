"""Search over live monographs: ranked, forgiving of misspellings, with highlighted snippets.

The index is `SearchEntry`, one row per monograph that has a live revision.  Whatever changes a
monograph's live revision calls `reindex_monograph(monograph)` afterwards (the importer does; so must
publish and unpublish); `reindex_drug(drug)` after a drug's names or brands change;
`manage.py reindex_search` rebuilds everything (e.g. after `loaddata`).  Results are also filtered on
the revision being live, so a stale entry can never show a draft or an unpublished page.

Ranking: a match in the names (INN, title, aliases, brand names) comes first, then one in the
summary, then one in the body.  Names forgive misspellings ("prollia", "xgiva", "denusomab").

- PostgreSQL: a stored `tsvector` (names weight A, summary B, body C; GIN-indexed) answers
  full-text queries, and pg_trgm's word similarity on the names catches misspellings.
- SQLite: the same rules in Python over every entry (fine for a few thousand monographs), with an
  edit distance standing in for trigrams.

"Did you mean …?" offers the closest name for a word that is not one, and the drug's name for a
recorded misspelling.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from functools import reduce

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Greatest
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

from .importers.cleaning import damerau_distance
from .models import Alias, Drug, Monograph, Revision, SearchEntry
from .rendering import render_page

MAX_QUERY = 200
LIMIT = 25
# pg_trgm word similarity from which a name is a candidate for a misspelling of a query word.
TRIGRAM_CANDIDATE = 0.3
SNIPPET_CHARS = 220
STOPWORDS = frozenset(
    "a an and are as at be by for from how i in is it of on or the to what when which who why with".split()  # noqa: SIM905
)
_WORD = re.compile(r"\w+")

NAME, SUMMARY, BODY = 3, 2, 1  # tiers: where a result matched, best first


# Indexing ---------------------------------------------------------------------------------------


def _plain_text(html: str) -> str:
    import html as html_lib

    return " ".join(html_lib.unescape(strip_tags(html.replace("<", " <"))).split())


def reindex_monograph(monograph: Monograph) -> SearchEntry | None:
    """Bring the monograph's search entry in line with its live revision; remove it when none is live."""
    revision = Revision.objects.live().filter(monograph=monograph).first()
    if revision is None:
        SearchEntry.objects.filter(monograph=monograph).delete()
        return None
    drug = monograph.drug
    aliases = list(drug.aliases.all())
    names = [drug.name, revision.title]
    names += [alias.name for alias in aliases if alias.kind != Alias.Kind.MISSPELLING]
    names += [brand.name for brand in drug.brands.all()]
    misspellings = [alias.name for alias in aliases if alias.kind == Alias.Kind.MISSPELLING]
    page = render_page(revision)
    body = " ".join([_plain_text(page.html)] + [f"{q} {_plain_text(a)}" for q, a in page.faqs])
    with transaction.atomic():
        entry, _ = SearchEntry.objects.update_or_create(
            monograph=monograph,
            defaults={
                "revision": revision,
                "names": "\n".join(dict.fromkeys(names + misspellings)),
                "misspellings": "\n".join(misspellings),
                "summary": revision.summary,
                "body": body,
            },
        )
        if connection.vendor == "postgresql":
            SearchEntry.objects.filter(pk=entry.pk).update(
                vector=SearchVector("names", weight="A", config="english")
                + SearchVector("summary", weight="B", config="english")
                + SearchVector("body", weight="C", config="english")
            )
    return entry


def reindex_drug(drug: Drug) -> None:
    """After a drug's names, aliases or brands change: every one of its monographs."""
    for monograph in drug.monographs.all():
        reindex_monograph(monograph)


def reindex_all() -> int:
    """Rebuild the whole index; returns the number of entries."""
    SearchEntry.objects.exclude(revision__status=Revision.Status.PUBLISHED).delete()
    count = 0
    for monograph in Monograph.objects.select_related("drug"):
        count += reindex_monograph(monograph) is not None
    return count


# Words ------------------------------------------------------------------------------------------


def stem(word: str) -> str:
    """A crude English stem, enough to match "fractures" with "fracture" and "doses" with "dose"."""
    word = word.casefold()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def query_terms(query: str) -> list[str]:
    """The words worth searching for: no stopwords (a query of stopwords alone finds nothing)."""
    return list(dict.fromkeys(t for t in words(query) if t not in STOPWORDS))


def is_close(term: str, word: str) -> bool:
    """A slip of the keyboard: one edit in a word of 4–7 letters, two in a longer one."""
    if len(term) < 4 or term == word or abs(len(term) - len(word)) > 2:
        return False
    allowed = 1 if len(term) < 8 else 2
    return damerau_distance(term, word) <= allowed


# Results ----------------------------------------------------------------------------------------


@dataclass
class Hit:
    entry: SearchEntry
    tier: int  # NAME, SUMMARY or BODY
    title: SafeString
    snippet: SafeString

    @property
    def url(self) -> str:
        return self.entry.monograph.get_absolute_url()

    @property
    def matched_in(self) -> str:
        return {NAME: "name", SUMMARY: "summary", BODY: "text"}[self.tier]


@dataclass
class Results:
    query: str
    hits: list[Hit] = field(default_factory=list)
    suggestion: str | None = None  # "Did you mean …?"


def _marks(terms: list[str]):
    stems = {stem(t) for t in terms}

    def matches(word: str) -> bool:
        word = word.casefold()
        return stem(word) in stems or any(is_close(t, word) for t in terms)

    return matches


def highlight(text: str, terms: list[str]) -> SafeString:
    """Escape all of `text`, then wrap each word matching a term in <mark>."""
    matches = _marks(terms)
    out, last = [], 0
    for match in _WORD.finditer(text):
        if matches(match.group()):
            out.append(escape(text[last : match.start()]))
            out.append(f"<mark>{escape(match.group())}</mark>")
            last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 — every piece above is escaped


def snippet(entry: SearchEntry, terms: list[str]) -> SafeString:
    """A window of the summary or body around the first matched word, highlighted."""
    matches = _marks(terms)
    for text in (entry.summary, entry.body):
        found = next((m for m in _WORD.finditer(text) if matches(m.group())), None)
        if found is None:
            continue
        start = max(0, found.start() - SNIPPET_CHARS // 3)
        if start:
            start = text.find(" ", start) + 1 or start
        end = start + SNIPPET_CHARS
        if end < len(text):
            end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > found.end() else end
        window = text[start:end]
        return mark_safe(("… " if start else "") + highlight(window, terms) + (" …" if end < len(text) else ""))  # noqa: S308
    return highlight(_shorten(entry.summary or entry.body), terms)


def _shorten(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[: text.rfind(" ", 0, SNIPPET_CHARS)] + " …"


def _hit(entry: SearchEntry, tier: int, terms: list[str]) -> Hit:
    return Hit(entry=entry, tier=tier, title=highlight(entry.revision.title, terms), snippet=snippet(entry, terms))


def _live_entries():
    return SearchEntry.objects.filter(revision__status=Revision.Status.PUBLISHED).select_related(
        "revision", "monograph__drug"
    )


# Backends ---------------------------------------------------------------------------------------


def _find_python(terms: list[str]) -> list[Hit]:
    """Every term must match somewhere; the entry's tier is the best field any term matched in."""
    ranked = []
    for entry in _live_entries():
        name_words = words(entry.names)
        fields = [
            (NAME, {stem(w) for w in name_words}),
            (SUMMARY, {stem(w) for w in words(entry.summary)}),
            (BODY, {stem(w) for w in words(entry.body)}),
        ]
        tier, exact, fuzzy = 0, 0, 0
        for term in terms:
            found = [t for t, stems in fields if stem(term) in stems]
            if not found and any(is_close(term, w) for w in name_words):
                found, fuzzy = [NAME], fuzzy + 1
            elif found and found[0] == NAME:
                exact += 1
            if not found:
                break
            tier = max(tier, found[0])
        else:
            ranked.append(((-tier, -exact, fuzzy, entry.revision.title.casefold()), entry, tier))
    ranked.sort(key=lambda item: item[0])
    return [_hit(entry, tier, terms) for _, entry, tier in ranked[:LIMIT]]


def _find_postgres(terms: list[str]) -> list[Hit]:
    """Each term must hit the search vector or, allowing a typing slip, a name.

    pg_trgm's word similarity picks the candidates for a slip; it is coarse on short words
    ("xgiva" ~ "xgeva" scores 0.33, "alendronic" ~ "Risedronic" 0.5), so the same edit-distance rule
    as on SQLite (`is_close`) decides which candidates really are a slip.
    """
    entries = _live_entries()
    required, similarities = Q(), []
    for i, term in enumerate(terms):
        tsquery = SearchQuery(term, config="english", search_type="plain")
        entries = entries.annotate(
            **{
                f"sim{i}": TrigramWordSimilarity(Value(term), "names"),
                f"hit{i}": ExpressionWrapper(Q(vector=tsquery), output_field=BooleanField()),
            }
        )
        required &= Q(**{f"hit{i}": True}) | Q(**{f"sim{i}__gte": TRIGRAM_CANDIDATE})
        similarities.append(F(f"sim{i}"))
    anyterm = reduce(operator.or_, (SearchQuery(term, config="english", search_type="plain") for term in terms))
    entries = (
        entries.filter(required)
        .annotate(
            similarity=Greatest(*similarities) if len(similarities) > 1 else similarities[0],
            name_rank=SearchRank(F("vector"), anyterm, weights=[0.0, 0.0, 0.0, 1.0]),
            summary_rank=SearchRank(F("vector"), anyterm, weights=[0.0, 0.0, 1.0, 0.0]),
            rank=SearchRank(F("vector"), anyterm),
        )
        .order_by("-name_rank", "-similarity", "-summary_rank", "-rank", "revision__title")[: LIMIT * 4]
    )
    ranked = []
    for position, entry in enumerate(entries):
        name_words = words(entry.names)
        fuzzy = [
            not getattr(entry, f"hit{i}") and any(is_close(term, w) for w in name_words) for i, term in enumerate(terms)
        ]
        if not all(getattr(entry, f"hit{i}") or fuzzy[i] for i in range(len(terms))):
            continue  # a trigram candidate that no typing slip explains
        tier = NAME if entry.name_rank > 0 or any(fuzzy) else SUMMARY if entry.summary_rank > 0 else BODY
        ranked.append((-tier, position, entry, tier))
    ranked.sort(key=lambda item: item[:2])
    return [_hit(entry, tier, terms) for _, _, entry, tier in ranked[:LIMIT]]


def _name_candidates(terms: list[str]) -> list[SearchEntry]:
    """Entries whose names may hold the correction of a misspelt term."""
    entries = SearchEntry.objects.filter(revision__status=Revision.Status.PUBLISHED).select_related("monograph__drug")
    if connection.vendor != "postgresql":
        return list(entries)
    similarities = [TrigramWordSimilarity(Value(term), "names") for term in terms]
    best = Greatest(*similarities) if len(similarities) > 1 else similarities[0]
    return list(
        entries.annotate(similarity=best).filter(similarity__gte=TRIGRAM_CANDIDATE).order_by("-similarity")[:20]
    )


def suggest(terms: list[str]) -> str | None:
    """The query with misspelt names corrected, or None when there is nothing to correct."""
    candidates = _name_candidates(terms)
    misspelt = {}  # recorded misspelling → the drug's name
    vocabulary = {}  # name word → as written
    for entry in candidates:
        for name in entry.misspellings.splitlines():
            misspelt[name.casefold()] = entry.monograph.drug.name
        for word in _WORD.findall(entry.names):
            vocabulary.setdefault(word.casefold(), word)
    corrected, changed = [], False
    for term in terms:
        if term in misspelt:
            corrected.append(misspelt[term])
            changed = True
        elif term in vocabulary or len(term) < 4:
            corrected.append(term)
        else:
            close = sorted(
                (damerau_distance(term, w), w) for w in vocabulary if w not in misspelt and is_close(term, w)
            )
            corrected.append(vocabulary[close[0][1]] if close else term)
            changed |= bool(close)
    return " ".join(corrected) if changed else None


def search(query: str) -> Results:
    query = " ".join(query.split())[:MAX_QUERY]
    terms = query_terms(query)
    results = Results(query=query)
    if not terms:
        return results
    find = _find_postgres if connection.vendor == "postgresql" else _find_python
    results.hits = find(terms)
    results.suggestion = suggest(terms)
    return results


def close_matches(text: str) -> Results:
    """For a 404: the search for all the words, else for the first word that finds anything."""
    results = search(text)
    for word in [] if results.hits else query_terms(text):
        found = search(word)
        if found.hits:
            return found
    return results
