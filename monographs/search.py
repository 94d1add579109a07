"""Search over live monographs: ranked, forgiving of misspellings, with highlighted snippets.

The index is `SearchEntry`, one row per monograph that has a live revision.  It follows
monographs.signals.content_changed, which whatever changes a monograph's live revision or a drug's
names announces (publish, unpublish, the importer — once per batch); `manage.py reindex_search`
rebuilds everything, and the project's `loaddata` runs it.  Results are also filtered on
the revision being live, so a stale entry can never show a draft or an unpublished page.

The rules, the same on both databases:

1. Each word of the query but stopwords is a term.  Names that share trigrams with a term of four
   letters or more are candidates for its correction; their words within a typing slip of it
   (`is_close`) are the term's alternatives ("prollia" → Prolia, "xgiva" → Xgeva).
2. A monograph matches when every term (stemmed) occurs in it, or one of its alternatives in its names.
3. Results come tier by tier, best first: a term or an alternative in the names (exact matches before
   slips), then a term in the summary (ranked), then the rest — pages whose text merely mentions the
   words — A–Z by title.  Ranking that last tier would mean reading the full text of every page that
   matched (12,000 of 20,000 for a common side effect) on every query; sorting by title walks an index
   and stops after the last result shown.

Each query therefore reads only what it shows:

- PostgreSQL: GIN-indexed tsvectors — `vector` (names A, summary B, body C) decides what matches,
  the small `name_vector` and `summary_vector` the tier and rank — and a pg_trgm GIN index on the
  names for the candidates.
- SQLite: an FTS5 table over names, summary and body (column filters give the tiers, bm25 the rank)
  and an FTS5 trigram table over the names, both kept by triggers (migration 0006).

"Did you mean …?" offers the closest name for a word that is not one, and the drug's name for a
recorded misspelling.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce

from django.contrib.postgres.search import SearchVector, TrigramSimilarity
from django.db import connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Greatest
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import now

from .importers.cleaning import damerau_distance
from .models import Alias, Drug, Monograph, Revision, SearchEntry, SearchWord
from .prerender import page_of
from .rendering import html_text
from .signals import changed_monograph_ids, chunks, release

MAX_QUERY = 200
REINDEX_CHUNK = 50  # live revisions read at once by a rebuild
LIMIT = 25
CANDIDATES = 20  # names per term considered as corrections of a slip
# A name word is a candidate for the correction of a query word from a pg_trgm similarity of 0.3
# (pg_trgm's default `similarity_threshold`; "xgiva" ~ "xgeva" scores 0.33); `is_close` then decides.
SNIPPET_CHARS = 220
STOPWORDS = frozenset(
    "a an and are as at be by for from how i in is it of on or the to what when which who why with".split()  # noqa: SIM905
)
_WORD = re.compile(r"\w+")

NAME, SUMMARY, BODY = 3, 2, 1  # tiers: where a result matched, best first


# Indexing ---------------------------------------------------------------------------------------


def _postgres_vectors(entries) -> None:
    """Fill the PostgreSQL vectors from the text columns (SQLite's FTS5 triggers need no such step)."""
    if connection.vendor == "postgresql":
        entries.update(
            vector=SearchVector("names", weight="A", config="english")
            + SearchVector("summary", weight="B", config="english")
            + SearchVector("body", weight="C", config="english"),
            name_vector=SearchVector("names", config="english"),
            summary_vector=SearchVector("summary", config="english"),
        )


def _entry_fields(monograph: Monograph, revision: Revision, body: str | None = None) -> dict:
    drug = monograph.drug
    aliases = list(drug.aliases.all()) if drug else []
    names = [drug.name if drug else monograph.topic.name, revision.title]
    names += [alias.name for alias in aliases if alias.kind != Alias.Kind.MISSPELLING]
    names += [brand.name for brand in drug.brands.all()] if drug else []
    misspellings = [alias.name for alias in aliases if alias.kind == Alias.Kind.MISSPELLING]
    if body is None:
        page = page_of(revision)  # stored when the revision went live: one rendering for the page and the index
        answers = zip(page.faqs, page.faq_texts, strict=True)
        body = " ".join([html_text(page.html)] + [f"{question} {text}" for (question, _), text in answers])
    return {  # ENTRY_FIELDS
        "revision": revision,
        "title": revision.title,
        "names": "\n".join(dict.fromkeys(names + misspellings)),
        "misspellings": "\n".join(misspellings),
        "summary": revision.summary,
        "body": body,
    }


ENTRY_FIELDS = ["revision", "title", "names", "misspellings", "summary", "body"]


def words_of_names(names: str, misspellings: str, drug_name: str) -> list[tuple[str, str, str]]:
    """(word, as written, correction) for each word of an entry's names; a recorded misspelling of
    one word is corrected to the drug's name."""
    misspelt = {name.casefold() for name in misspellings.splitlines()}
    rows = {}
    for written in _WORD.findall(names):
        word = written.casefold()
        rows.setdefault(word, (word, written, drug_name if word in misspelt else ""))
    return list(rows.values())


def _add_words(entries) -> None:
    """PostgreSQL: add the entries' name words to SearchWord (see the model)."""
    if connection.vendor == "postgresql":
        rows = {}
        entries = entries.select_related("monograph__drug").only("names", "misspellings", "monograph__drug__name")
        for entry in entries.iterator(chunk_size=2000):
            drug_name = entry.monograph.drug.name if entry.monograph.drug else ""  # a topic has no misspellings
            for word, written, correction in words_of_names(entry.names, entry.misspellings, drug_name):
                rows.setdefault(word, SearchWord(word=word[:300], written=written[:300], correction=correction[:300]))
        SearchWord.objects.bulk_create(rows.values(), ignore_conflicts=True, batch_size=2000)


def _name_words(names) -> dict[str, str]:
    """Each word of some entries' names, as `words_of_names` keys it, with a spelling of it as written."""
    return {word.casefold(): word for text in names for word in _WORD.findall(text)}


def _drop_words_no_longer_named(words: dict[str, str]) -> None:
    """PostgreSQL: remove from SearchWord those of `words` (words a reindex took out of some entries'
    names) that no entry names any more, so "Did you mean" never offers the name of a page that is no
    longer live (unpublished, retired) or a name taken off a drug.  Each word is looked for in the
    names through their trigram index (ILIKE), and confirmed as a whole word."""
    if connection.vendor != "postgresql" or not words:
        return
    gone = []
    with connection.cursor() as cursor:
        for word, written in words.items():
            pattern = "%" + written.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            cursor.execute(f"SELECT names FROM {SearchEntry._meta.db_table} WHERE names ILIKE %s", [pattern])  # noqa: S608
            if not any(word in _name_words([names]) for (names,) in cursor.fetchall()):
                gone.append(word[:300])
    SearchWord.objects.filter(word__in=gone).delete()


def reindex_monograph(monograph: Monograph) -> SearchEntry | None:
    """Bring the monograph's search entry in line with its live revision; remove it when none is live."""
    reindex_monographs([monograph.pk])
    return SearchEntry.objects.filter(monograph=monograph).first()


def reindex_monographs(ids) -> None:
    """Bring the entries of the monographs `ids` in line with their live revisions (removing those with
    none), CHUNK monographs at a time: a few queries per chunk however many there are, so an import's
    one announcement of 20,000 documents costs no more per document than a publish of one."""
    for chunk in chunks(ids):
        revisions = (
            Revision.objects.live()
            .filter(monograph_id__in=chunk)
            .select_related("monograph__drug", "monograph__topic", "prerendered")
            .prefetch_related("monograph__drug__aliases", "monograph__drug__brands")
            .order_by()
        )
        live = {revision.monograph_id: revision for revision in revisions}
        named_before = (  # PostgreSQL's word list outlives the entries (see _drop_words_no_longer_named)
            _name_words(SearchEntry.objects.filter(monograph_id__in=chunk).values_list("names", flat=True))
            if connection.vendor == "postgresql"
            else {}
        )
        SearchEntry.objects.filter(monograph_id__in=chunk).exclude(monograph_id__in=list(live)).delete()
        existing = dict(SearchEntry.objects.filter(monograph_id__in=list(live)).values_list("monograph_id", "pk"))
        new, changed, at = [], [], now()
        for monograph_id, revision in live.items():
            fields = _entry_fields(revision.monograph, revision)
            entry = SearchEntry(pk=existing.get(monograph_id), monograph_id=monograph_id, indexed_at=at, **fields)
            (changed if entry.pk else new).append(entry)
        SearchEntry.objects.bulk_create(new)
        SearchEntry.objects.bulk_update(changed, [*ENTRY_FIELDS, "indexed_at"])
        entries = SearchEntry.objects.filter(monograph_id__in=list(live))
        _postgres_vectors(entries)
        _add_words(entries)
        named_now = _name_words(entry.names for entry in new + changed)
        _drop_words_no_longer_named({word: written for word, written in named_before.items() if word not in named_now})


def on_content_changed(sender, monographs=(), drugs=(), **kwargs) -> None:
    """Receiver of monographs.signals.content_changed: reindex what changed, in the caller's transaction
    (every monograph of a drug named: its names, brands and aliases are in each one's entry)."""
    reindex_monographs(changed_monograph_ids(monographs, drugs))


def reindex_all(rerender: bool = False) -> int:
    """Rebuild the whole index; returns the number of entries.

    An entry already built from the live revision keeps its body text (rendering every page is what
    makes a rebuild slow) unless `rerender` is set, e.g. after a change to the renderer; names, title
    and summary are always rebuilt, and the PostgreSQL vectors in one statement at the end.
    """
    SearchEntry.objects.exclude(revision__status=Revision.Status.PUBLISHED).delete()
    built = dict(SearchEntry.objects.values_list("revision_id", "id"))
    count = 0
    with transaction.atomic():
        revisions = Revision.objects.live().select_related("monograph__drug", "monograph__topic", "prerendered")
        revisions = revisions.prefetch_related("monograph__drug__aliases", "monograph__drug__brands")
        # In chunks: holding every live revision (bodies and all) at once grew a rebuild — and so
        # loaddata, which ends with one — with the corpus.  Small ones: each row carries the revision's
        # Markdown and its rendered page, and 200 of them made a 600-document load peak 14 MB higher.
        for revision in revisions.order_by("pk").iterator(chunk_size=REINDEX_CHUNK):
            monograph = revision.monograph
            if revision.pk in built and not rerender:
                body = SearchEntry.objects.filter(pk=built[revision.pk]).values_list("body", flat=True)[0]
                fields = _entry_fields(monograph, revision, body=body)
            else:
                fields = _entry_fields(monograph, revision)
            SearchEntry.objects.update_or_create(monograph=monograph, defaults=fields)
            release([revision])
            count += 1
        _postgres_vectors(SearchEntry.objects.all())
        SearchWord.objects.all().delete()  # words of names no longer indexed go
        _add_words(SearchEntry.objects.all())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Rewriting every row leaves the new entries in each GIN index's pending list (GIN's
            # fast update), which the planner prices so high that it reads every vector instead
            # (6.5 ms against 0.1 ms for the summary tier at 1,000 monographs): merge them now.
            cursor.execute(
                """SELECT gin_clean_pending_list(i.indexrelid)
                     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
                    WHERE a.amname = 'gin' AND i.indrelid::regclass::text = ANY(%s)""",
                [[SearchEntry._meta.db_table, SearchWord._meta.db_table]],
            )
            # Fresh planner statistics after rewriting every row — and for the tables a search joins:
            # straight after a `loaddata` (the usual reason to reindex) PostgreSQL believes a handful of
            # revisions are published, walks them all, and a 0.5 ms query takes 12 ms.
            for model in (SearchEntry, SearchWord, Revision, Monograph, Drug):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
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

    @property
    def is_capped(self) -> bool:
        """As many hits as a search returns: there may be more."""
        return len(self.hits) >= LIMIT

    @property
    def has_text_matches(self) -> bool:
        return any(hit.tier == BODY for hit in self.hits)


@functools.lru_cache(maxsize=64)
def _marker(terms: tuple[str, ...], alternatives: frozenset[str]):
    """(pattern, matches) for the words to mark: `matches` says whether a word matches a term (stemmed)
    or an alternative found for a misspelt one; `pattern` finds the only words that could (a stem less
    its last letter starts every word with that stem), so the rest of a text is never looked at."""
    stems = {stem(t) for t in terms}

    def matches(word: str) -> bool:
        word = word.casefold()
        return word in alternatives or stem(word) in stems

    prefixes = sorted({stem(t)[:-1] or stem(t) for t in terms} | alternatives)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, prefixes)) + r")\w*", re.IGNORECASE)
    return pattern, matches


def _marked_words(text: str, terms: list[str], alternatives: Iterable[str] = ()):
    pattern, matches = _marker(tuple(terms), frozenset(alternatives))
    return (m for m in pattern.finditer(text) if matches(m.group()))


def highlight(text: str, terms: list[str], alternatives: Iterable[str] = ()) -> SafeString:
    """Escape all of `text`, then wrap each word matching a term (or an alternative) in <mark>."""
    out, last = [], 0
    for match in _marked_words(text, terms, alternatives):
        out.append(escape(text[last : match.start()]))
        out.append(f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 — every piece above is escaped


def snippet(entry: SearchEntry, terms: list[str], alternatives: Iterable[str] = ()) -> SafeString:
    """A window of the summary or body around the first matched word, highlighted."""
    for text in (entry.summary, entry.body):
        found = next(_marked_words(text, terms, alternatives), None)
        if found is None:
            continue
        start = max(0, found.start() - SNIPPET_CHARS // 3)
        if start:
            start = text.find(" ", start) + 1 or start
        end = start + SNIPPET_CHARS
        if end < len(text):
            end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > found.end() else end
        window = text[start:end]
        marked = highlight(window, terms, alternatives)
        return mark_safe(("… " if start else "") + marked + (" …" if end < len(text) else ""))  # noqa: S308
    return highlight(_shorten(entry.summary or entry.body), terms, alternatives)


def _shorten(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[: text.rfind(" ", 0, SNIPPET_CHARS)] + " …"


def _hit(entry: SearchEntry, tier: int, terms: Terms) -> Hit:
    alternatives = terms.name_words
    return Hit(
        entry=entry,
        tier=tier,
        title=highlight(entry.revision.title, terms.terms, alternatives),
        snippet=snippet(entry, terms.terms, alternatives),
    )


def _live_entries():
    """Live entries with what a result shows (not the revisions' Markdown, which may be long)."""
    return (
        SearchEntry.objects.filter(revision__status=Revision.Status.PUBLISHED)
        .select_related("revision", "monograph__drug", "monograph__topic")
        .only(
            *("title", "names", "misspellings", "summary", "body", "monograph", "revision"),
            *("revision__title", "revision__status", "revision__monograph"),
            *("monograph__slug", "monograph__kind", "monograph__is_primary", "monograph__drug"),
            *("monograph__drug__name", "monograph__drug__slug"),
            *("monograph__topic", "monograph__level", "monograph__topic__name", "monograph__topic__slug"),
        )
    )


# Backends ---------------------------------------------------------------------------------------


@dataclass
class Terms:
    """The query's terms, their alternatives (name words a slip away) and the names consulted."""

    terms: list[str]
    alternatives: dict[str, list[str]] = field(default_factory=dict)
    vocabulary: dict[str, str] = field(default_factory=dict)  # name word near a term → as written
    misspelt: dict[str, str] = field(default_factory=dict)  # recorded misspelling → its drug's name

    @functools.cached_property
    def name_words(self) -> list[str]:
        """The terms and their alternatives (asked by every tier query and every hit; built once)."""
        return list(dict.fromkeys(self.terms + [w for alts in self.alternatives.values() for w in alts]))


def _correctable(term: str) -> bool:
    return len(term) >= 4


class Postgres:
    @staticmethod
    def candidates(terms: list[str]) -> list[tuple[str, str, str]]:
        """(word, as written, correction) of the name words most like a term (pg_trgm, GIN-indexed)."""
        similar = reduce(operator.or_, (Q(word__trigram_similar=term) for term in terms))
        similarities = [TrigramSimilarity("word", Value(term)) for term in terms]
        similarity = Greatest(*similarities) if len(similarities) > 1 else similarities[0]
        found = SearchWord.objects.filter(similar).annotate(similarity=similarity).order_by("-similarity", "word")
        return list(found.values_list("word", "written", "correction")[: CANDIDATES * len(terms)])

    @staticmethod
    def tier(terms: Terms, tier: int, limit: int) -> list[int]:
        """In plain SQL, as Django would write it: building these nested queries through the ORM (a
        dozen alternatives, three times a query) cost more than PostgreSQL then spent answering them."""
        params: list = []  # filled as the SQL is written, fragment by fragment, in the order it reads

        def any_of(words) -> str:
            params.extend(words)
            return "(" + " || ".join(["plainto_tsquery('english'::regconfig, %s)"] * len(words)) + ")"

        def every(alternatives) -> str:
            return " && ".join(any_of([term, *alternatives.get(term, [])]) for term in terms.terms)

        def lacks(column: str, query: str) -> str:  # also true where the column is NULL, like .exclude()
            return f"NOT COALESCE(e.{column} @@ {query}, false)"

        select = "SELECT e.id, e.title, e.names FROM monographs_searchentry e"
        select += " JOIN monographs_revision r ON r.id = e.revision_id WHERE r.status = %s"
        params.append(Revision.Status.PUBLISHED)
        if tier == NAME:
            where = f"e.vector @@ ({every(terms.alternatives)}) AND e.name_vector @@ {any_of(terms.name_words)}"
            exact = f"e.name_vector @@ {any_of(terms.terms)}"
            order = f"COALESCE({exact}, false) DESC, ts_rank(e.name_vector, {any_of(terms.name_words)}) DESC"
        else:
            # An alternative counts in the names only (rule 2), and these tiers leave out every page
            # with a term or an alternative in its names: here only the terms themselves match.  (Letting
            # alternatives match the body as well showed pages that merely mention a near-miss name, and
            # its OR of a dozen words made PostgreSQL expect a thousand matches and walk the whole title
            # index for none: 130 ms at 20,000 monographs.)
            where = f"e.vector @@ ({every({})}) AND {lacks('name_vector', any_of(terms.name_words))}"
            if tier == SUMMARY:
                where += f" AND e.summary_vector @@ {any_of(terms.terms)}"
                order = f"ts_rank(e.summary_vector, {any_of(terms.terms)}) DESC"
            else:
                where += f" AND {lacks('summary_vector', any_of(terms.terms))}"
                order = None
        order = ", ".join(filter(None, [order, "e.title ASC", "e.id ASC"]))
        params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute(f"{select} AND {where} ORDER BY {order} LIMIT %s", params)
            return cursor.fetchall()


class SQLite:
    """FTS5: `monographs_searchtext` (porter-stemmed names, summary, body) and `monographs_searchname`
    (trigrams of the names, each framed by newlines)."""

    @staticmethod
    def _quote(word: str) -> str:
        return '"' + word.replace('"', '""') + '"'

    @classmethod
    def candidates(cls, terms: list[str]) -> list[tuple[str, str, str]]:
        """(word, as written, correction) of the words in the names sharing most trigrams with a term."""
        ids = []
        with connection.cursor() as cursor:
            for term in terms:
                framed = f"\n{term}\n"
                trigrams = dict.fromkeys(framed[i : i + 3] for i in range(len(framed) - 2))
                cursor.execute(
                    "SELECT s.rowid FROM monographs_searchname s"
                    " JOIN monographs_searchentry e ON e.id = s.rowid"
                    " JOIN monographs_revision r ON r.id = e.revision_id"
                    " WHERE monographs_searchname MATCH %s AND r.status = %s ORDER BY s.rank LIMIT %s",
                    [" OR ".join(map(cls._quote, trigrams)), Revision.Status.PUBLISHED, CANDIDATES],
                )
                ids += [row[0] for row in cursor.fetchall() if row[0] not in ids]
        entries = SearchEntry.objects.filter(pk__in=ids).order_by("pk")
        rows = entries.values_list("names", "misspellings", "monograph__drug__name")
        return [row for names, misspellings, drug in rows for row in words_of_names(names, misspellings, drug or "")]

    @classmethod
    def tier(cls, terms: Terms, tier: int, limit: int) -> list[int]:
        def any_of(words, column):
            return f"{{{column}}} : (" + " OR ".join(cls._quote(w) for w in words) + ")"

        every = " AND ".join(
            "("
            + " OR ".join([cls._quote(term), *(any_of([alt], "names") for alt in terms.alternatives.get(term, []))])
            + ")"
            for term in terms.terms
        )
        in_names, in_summary = any_of(terms.name_words, "names"), any_of(terms.terms, "summary")
        ranked = (
            "SELECT e.id, e.title, e.names FROM monographs_searchtext f"
            " JOIN monographs_searchentry e ON e.id = f.rowid"
            " JOIN monographs_revision r ON r.id = e.revision_id"
            " WHERE monographs_searchtext MATCH %s AND r.status = %s ORDER BY {order}, e.id LIMIT %s"
        )
        if tier == NAME:
            match = f"({every}) AND {in_names}"
            # Exact matches before slips (the subquery's parameter comes before the LIMIT's), then
            # the rank on the names alone.
            exact = "f.rowid IN (SELECT rowid FROM monographs_searchtext WHERE monographs_searchtext MATCH %s) DESC"
            sql = ranked.format(order=f"{exact}, bm25(monographs_searchtext, 1.0, 0.0, 0.0), e.title")
            params = [match, Revision.Status.PUBLISHED, any_of(terms.terms, "names"), limit]
        elif tier == SUMMARY:
            match = f"(({every}) AND {in_summary}) NOT {in_names}"
            sql = ranked.format(order="bm25(monographs_searchtext, 0.0, 1.0, 0.0), e.title")  # the summary alone
            params = [match, Revision.Status.PUBLISHED, limit]
        else:
            # Pages that only mention the words, A–Z: walk the title index and stop at the limit,
            # keeping the entries FTS5 matched (`+` keeps SQLite from looking them up one by one and
            # then sorting them all: 82 ms against 8 ms for a word in 12,800 of 20,000 pages).
            sql = (
                "SELECT e.id, e.title, e.names FROM monographs_searchentry e"
                " JOIN monographs_revision r ON r.id = e.revision_id"
                " WHERE +e.id IN (SELECT rowid FROM monographs_searchtext WHERE monographs_searchtext MATCH %s)"
                " AND r.status = %s ORDER BY e.title, e.id LIMIT %s"
            )
            params = [f"({every}) NOT ({in_names} OR {in_summary})", Revision.Status.PUBLISHED, limit]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def _backend():
    return Postgres if connection.vendor == "postgresql" else SQLite


def find_terms(query_words: list[str]) -> Terms:
    """Each term's alternatives: the candidates' name words a typing slip away from it."""
    terms = Terms(query_words)
    correctable = list(filter(_correctable, query_words))
    for word, written, correction in _backend().candidates(correctable) if correctable else []:
        terms.vocabulary.setdefault(word, written)
        if correction:
            terms.misspelt[word] = correction
    for term in correctable:
        close = [word for word in terms.vocabulary if is_close(term, word)]
        if close:
            terms.alternatives[term] = close
    return terms


def _name_order(terms: Terms):
    """Within the names tier: the term in the title, then the term (not a slip) in the names, then A–Z."""
    stems = {stem(t) for t in terms.terms}

    def key(row: tuple[int, str, str]):
        pk, title, names = row
        in_title = bool(stems & {stem(w) for w in words(title)})
        in_names = bool(stems & {stem(w) for w in words(names)})
        return (not in_title, not in_names, title.casefold(), pk)

    return key


def find(terms: Terms) -> list[Hit]:
    """Up to LIMIT hits, tier by tier, each tier in its own order.

    The names tier is drawn a few times over (exact matches first, by the database's rank) and put in
    order here, with the same rule on both databases.
    """
    backend = _backend()
    found = [(row[0], NAME) for row in sorted(backend.tier(terms, NAME, LIMIT * 4), key=_name_order(terms))]
    found = found[:LIMIT]
    for tier in (SUMMARY, BODY):
        if len(found) < LIMIT:
            found += [(row[0], tier) for row in backend.tier(terms, tier, LIMIT - len(found))]
    entries = _live_entries().in_bulk([pk for pk, _ in found])
    return [_hit(entries[pk], tier, terms) for pk, tier in found if pk in entries]


def suggest(terms: Terms) -> str | None:
    """The query with misspelt names corrected, or None when there is nothing to correct."""
    misspelt, vocabulary = terms.misspelt, terms.vocabulary
    corrected, changed = [], False
    for term in terms.terms:
        if term in misspelt:
            corrected.append(misspelt[term])
            changed = True
        elif term in vocabulary or not _correctable(term):
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
    results = Results(query=query)
    query_words = query_terms(query)
    if not query_words:
        return results
    terms = find_terms(query_words)
    results.hits = find(terms)
    results.suggestion = suggest(terms)
    return results


def close_matches(text: str) -> Results:
    """For a 404: the pages whose names are the address's words or a slip away from them — for all the
    words, else for the first word that finds any.  A word that merely occurs in some page's text
    ("/this/does/not/exist/") is no reason to offer that page."""

    def named(query: str) -> Results:
        results = search(query)
        results.hits = [hit for hit in results.hits if hit.tier == NAME]
        return results

    results = named(text)
    for word in [] if results.hits else query_terms(text):
        found = named(word)
        if found.hits:
            return found
    return results
