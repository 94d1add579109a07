"""Search (monographs/search.py), the same behaviour on SQLite and on PostgreSQL."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monographs import workflow
from monographs.models import BrandName, Revision, SearchEntry, SearchWord
from monographs.search import LIMIT, reindex_all, reindex_monograph, search

from . import factories
from .conftest import EXAMPLES, make_user

pytestmark = pytest.mark.django_db


def titles(query):
    return [hit.entry.revision.title for hit in search(query).hits]


def indexed(mono):
    reindex_monograph(mono)
    return mono


@pytest.fixture
def bisphosphonates(db):
    alendronate = factories.drug("Alendronic acid", brands=["Fosamax"])
    zoledronate = factories.drug("Zoledronic acid", brands=["Aclasta"])
    risedronate = factories.drug("Risedronic acid")
    indexed(factories.monograph(alendronate, summary="A weekly tablet.", body="## Uses\n\nOsteoporosis."))
    indexed(
        factories.monograph(
            zoledronate, summary="A yearly infusion.", body="## Uses\n\nOften given when alendronic acid fails."
        )
    )
    indexed(factories.monograph(risedronate, summary="An alternative to alendronic acid.", body="Tablets."))


def test_a_name_match_ranks_above_a_summary_match_above_a_body_match(bisphosphonates):
    assert titles("alendronic") == ["Alendronic acid", "Risedronic acid", "Zoledronic acid"]
    assert [hit.matched_in for hit in search("alendronic").hits] == ["name", "summary", "text"]


def test_a_brand_name_finds_its_drug(bisphosphonates):
    assert titles("fosamax") == ["Alendronic acid"]
    assert titles("Aclasta") == ["Zoledronic acid"]


def test_every_word_of_the_query_must_match(bisphosphonates):
    assert titles("alendronic infusion") == ["Zoledronic acid"]


@pytest.mark.parametrize("typed", ["denusomab", "prollia", "xgiva", "denosumb", "Prolia", "XGEVA"])
def test_misspelt_names_and_brands_find_denosumab(seeded, typed):
    hits = search(typed).hits
    assert hits
    assert {hit.entry.monograph.drug.name for hit in hits} == {"Denosumab"}
    assert hits[0].tier == 3


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [("prollia", "Prolia"), ("xgiva", "Xgeva"), ("denusomab", "Denosumab"), ("prollia dose", "Prolia dose")],
)
def test_it_asks_did_you_mean(seeded, typed, suggestion):
    assert search(typed).suggestion == suggestion


@pytest.mark.parametrize("typed", ["denosumab", "prolia", "osteoporosis", "fracture"])
def test_it_does_not_correct_words_it_knows(seeded, typed):
    assert search(typed).hits
    assert search(typed).suggestion is None


def test_words_in_the_body_are_found_and_stems_match(seeded):
    assert titles("fractures") and titles("fracture")
    assert "Denusomab" in titles("bisphosphonates")


def test_a_misspelling_finds_the_names_it_is_a_slip_of_but_not_pages_that_merely_mention_them(bisphosphonates):
    """Rule 2: an alternative (a name word a slip away) counts in the names only, on both databases."""
    mentions = factories.drug("Ibandronic acid")
    indexed(factories.monograph(mentions, summary="A monthly tablet.", body="Switch from Fosamax if needed."))
    assert titles("fosamax") == ["Alendronic acid", "Ibandronic acid"]  # the word itself: name, then text
    assert titles("fosamx") == ["Alendronic acid"]  # its slip: the name only
    assert search("fosamx").suggestion == "Fosamax"


def test_nothing_and_stopwords_find_nothing(seeded):
    assert titles("") == []
    assert titles("the and of") == []
    assert titles("zzzzqx") == []


def test_drafts_are_never_found(db):
    drug = factories.drug("Alendronic acid")
    mono = factories.monograph(drug, body="Published text.")
    factories.revision(mono, status=Revision.Status.DRAFT, body="A draft about zebrafish.")
    only_draft = factories.monograph(
        factories.drug("Zebrafishumab"), status=Revision.Status.DRAFT, body="Zebrafish everywhere."
    )
    indexed(mono)
    indexed(only_draft)
    assert titles("zebrafish") == []
    assert titles("zebrafishumab") == []
    assert not SearchEntry.objects.filter(monograph=only_draft).exists()


def test_an_unpublished_revision_leaves_search_even_before_reindexing(db):
    mono = indexed(factories.monograph(factories.drug("Alendronic acid"), body="Weekly."))
    assert titles("alendronic") == ["Alendronic acid"]
    Revision.objects.filter(monograph=mono).update(status=Revision.Status.UNPUBLISHED)
    assert titles("alendronic") == []
    reindex_monograph(mono)
    assert not SearchEntry.objects.exists()


def test_publishing_a_new_revision_and_reindexing_replaces_the_indexed_text(db):
    mono = indexed(factories.monograph(factories.drug("Alendronic acid"), body="Take it weekly."))
    factories.publish_new_revision(mono, body="Take it monthly.")
    reindex_monograph(mono)
    assert titles("monthly") == ["Alendronic acid"]
    assert titles("weekly") == []


def test_snippets_escape_the_text_and_mark_the_matched_words(db):
    indexed(factories.monograph(factories.drug("Alendronic acid"), summary="<b>Weekly</b> & <script>x()</script>."))
    hit = search("weekly").hits[0]
    assert str(hit.snippet) == "&lt;b&gt;<mark>Weekly</mark>&lt;/b&gt; &amp; &lt;script&gt;x()&lt;/script&gt;."
    assert str(search("alendronic").hits[0].title) == "<mark>Alendronic</mark> acid"


def test_a_misspelt_word_is_highlighted_where_its_correct_form_stands(seeded):
    assert "<mark>Prolia</mark>" in str(search("prollia").hits[0].snippet)


def test_importing_a_document_indexes_it(db):
    call_command("import_sources", str(EXAMPLES), verbosity=0)
    assert "Alendronic acid" in titles("alendronic")


def test_loaddata_alone_gives_a_searchable_site(db, client):
    from monographs.models import ContentGeneration

    before = ContentGeneration.value()
    call_command("loaddata", "seed", verbosity=0)  # no reindex_search: the project's loaddata does it
    assert set(titles("denosumab")) == {"Denosumab", "Denusomab"}
    assert "Prolia" in client.get("/search/?q=prolia").content.decode()
    assert ContentGeneration.value() != before  # pages cached before the load are stale


def test_reindex_search_rebuilds_an_emptied_index(db):
    call_command("loaddata", "seed", verbosity=0)
    from monographs.models import SearchEntry

    SearchEntry.objects.all().delete()
    assert titles("denosumab") == []
    call_command("reindex_search", verbosity=0)
    assert set(titles("denosumab")) == {"Denosumab", "Denusomab"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored tsvector and its GIN index are PostgreSQL's")
def test_postgres_keeps_a_weighted_vector_under_a_gin_index(seeded):
    entry = SearchEntry.objects.get(monograph__slug="denosumab")
    assert "'prolia':" in entry.vector and "A" in entry.vector.split("'prolia':")[1].split(" ")[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'monographs_searchentry_vector_gin'")
        assert "USING gin (vector)" in cursor.fetchone()[0]
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == (1,)
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'monographs_searchentry'")
        indexes = dict(cursor.fetchall())
    assert "USING gin (name_vector)" in indexes["monographs_searchentry_name_vector_gin"]
    assert "USING gin (summary_vector)" in indexes["monographs_searchentry_summary_vector_gin"]
    assert "gin (names gin_trgm_ops)" in indexes["monographs_searchentry_names_trgm"]
    assert entry.name_vector and entry.summary_vector
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'monographs_searchword_word_trgm'")
        assert "gin (word gin_trgm_ops)" in cursor.fetchone()[0]
    assert SearchWord.objects.get(word="denusomab").correction == "Denosumab"
    assert SearchWord.objects.get(word="xgeva").written == "Xgeva"


def gin_pending_pages(cursor) -> int:
    """Pages still waiting in the GIN indexes' pending lists (merging them is how to count them)."""
    cursor.execute(
        """SELECT coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0)
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
            WHERE a.amname = 'gin'
              AND i.indrelid IN ('monographs_searchentry'::regclass, 'monographs_searchword'::regclass)"""
    )
    return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN indexes and planner statistics are PostgreSQL's")
def test_rebuilding_the_index_leaves_the_gin_indexes_merged_and_the_planner_informed(db):
    call_command("loaddata", "seed", verbosity=0)
    with connection.cursor() as cursor:
        reindex_all()
        assert gin_pending_pages(cursor) == 0  # nothing left for the planner to price as a slow scan
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NULL AND relname = ANY(%s)",
            [["monographs_searchentry", "monographs_searchword", "monographs_revision", "monographs_monograph"]],
        )
        assert cursor.fetchall() == []
        _many(3)  # what a publish adds between rebuilds waits in the pending list: counting merges it
        assert gin_pending_pages(cursor) > 0


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SearchWord is filled on PostgreSQL only; SQLite finds misspellings through its FTS5 trigram table",
)
def test_rebuilding_the_index_drops_words_no_name_has_any_more(seeded):
    SearchWord.objects.create(word="oldbrandia", written="Oldbrandia")
    assert search("oldbrandie").suggestion == "Oldbrandia"
    reindex_all()
    assert not SearchWord.objects.filter(word="oldbrandia").exists()
    assert search("oldbrandie").suggestion is None


def _many(count, body="Rarely angioedema.", start=0, **content):
    """`count` monographs named Quux000ab… whose only mention of the word is in the body."""
    for n in range(start, start + count):
        indexed(factories.monograph(factories.drug(f"Quux{n:03d}ab"), body=body, **content))


def test_pages_that_only_mention_the_words_come_last_a_to_z_after_names_and_summaries(db):
    _many(LIMIT + 5)
    indexed(factories.monograph(factories.drug("Angioedemab"), summary="Not the word.", body="Angioedema."))
    indexed(factories.monograph(factories.drug("Zeta"), summary="Angioedema is rare.", body="Text."))
    hits = search("angioedema").hits
    assert len(hits) == LIMIT
    assert [hit.tier for hit in hits[:2]] == [3, 2]  # "Angioedemab" is a slip away from the word: a name
    assert [hit.entry.revision.title for hit in hits[:2]] == ["Angioedemab", "Zeta"]
    body = [hit.entry.revision.title for hit in hits[2:]]
    assert body == sorted(body) and body[0] == "Quux000ab" and len(body) == LIMIT - 2


def test_a_search_costs_the_same_number_of_queries_however_many_pages_match(db):
    _many(3)

    def queries(query):
        with CaptureQueriesContext(connection) as ctx:
            search(query)
        return len(ctx)

    few = {q: queries(q) for q in ("quux001ab", "qux001ab", "angioedema", "rarely angioedema")}
    _many(LIMIT * 2, body="Rarely angioedema again.", start=100)
    assert {q: queries(q) for q in few} == few


def test_rebuilding_the_index_keeps_the_rendered_text_unless_asked_to_render_again(db):
    mono = indexed(factories.monograph(factories.drug("Alendronic acid"), body="Take it weekly."))
    SearchEntry.objects.filter(monograph=mono).update(body="stale text", names="stale")
    assert reindex_all() == 1
    entry = SearchEntry.objects.get(monograph=mono)
    assert entry.body == "stale text" and "Alendronic acid" in entry.names  # names are always rebuilt
    assert titles("alendronic") == ["Alendronic acid"]
    call_command("reindex_search", "--rerender", verbosity=0)
    assert "weekly" in SearchEntry.objects.get(monograph=mono).body
    assert titles("weekly") == ["Alendronic acid"]


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="FTS5 tables and their triggers exist on SQLite only; the PostgreSQL indexes have their own test above",
)
def test_sqlite_keeps_fts5_tables_in_step_with_the_entries_by_triggers(db):
    """A migration that rebuilds the entries' table would drop these triggers; this test would see it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'monographs_searchentry'")
        assert {row[0] for row in cursor.fetchall()} == {
            "monographs_searchentry_ai",
            "monographs_searchentry_ad",
            "monographs_searchentry_au",
        }
    mono = indexed(factories.monograph(factories.drug("Alendronic acid"), body="Take it weekly."))
    assert titles("weekly") == ["Alendronic acid"]
    SearchEntry.objects.filter(monograph=mono).update(body="Take it monthly.")
    assert titles("weekly") == [] and titles("monthly") == ["Alendronic acid"]
    SearchEntry.objects.filter(monograph=mono).delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM monographs_searchtext WHERE monographs_searchtext MATCH 'monthly'")
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT count(*) FROM monographs_searchname")
        assert cursor.fetchone() == (0,)


def test_a_name_no_longer_live_is_never_suggested(seeded):
    """ "Did you mean" offers only names of live pages: not an unpublished drug's, nor a brand taken off."""
    gone = indexed(factories.monograph(factories.drug("Withdrawnumab", brands=["Retiredbrand"])))
    assert search("withdrawnumb").suggestion == "Withdrawnumab"
    BrandName.objects.filter(name="Retiredbrand").delete()
    reindex_monograph(gone)
    assert search("retiredbrnd").suggestion is None
    assert search("withdrawnumb").suggestion == "Withdrawnumab"
    workflow.unpublish(gone.live_revision, make_user("pam", "Publishers"), "Withdrawn for safety")
    assert search("withdrawnumb").suggestion is None
    assert search("prollia").suggestion == "Prolia"  # the others' words stay
