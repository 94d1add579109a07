"""A large batch is read, and its pages rendered, by worker processes (monographs/workers.py, importers/loader.py):
the import must write, print and store exactly what an import read in one process does."""

from io import StringIO

import markdown
import pytest
from django.core.management import call_command

from monographs import prerender, workers
from monographs.models import RenderedRevision, Revision
from monographs.rendering import render_page

from .conftest import EXAMPLES, SOURCES

pytestmark = pytest.mark.django_db

# Every kind of document the tests keep: both seeds, tables, figures, topics, warnings.
BATCH = [SOURCES, EXAMPLES]  # EXAMPLES and its folders: faithful, topics, figures


@pytest.fixture
def in_workers(monkeypatch):
    """Worker processes for any batch, on a machine of any number of cores."""
    monkeypatch.setattr(workers, "PARALLEL_FROM", 2)
    monkeypatch.setattr(workers, "cores", lambda: 2)


def _dry_run() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_sources", *map(str, BATCH), "--dry-run", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_batch_read_by_workers_reports_what_one_process_reports(request):
    here = _dry_run()
    request.getfixturevalue("in_workers")
    with workers.pool(2) as pool:
        assert pool is not None
    assert _dry_run() == here
    assert "warning: " in here[1]  # the parser's warnings, logged in the workers, are printed here too


@pytest.fixture
def converted(monkeypatch):
    """The texts Python-Markdown converts in this process (not in worker processes)."""
    texts = []
    convert = markdown.Markdown.convert

    def counted(self, text):
        texts.append(text)
        return convert(self, text)

    monkeypatch.setattr(markdown.Markdown, "convert", counted)
    return texts


def assert_stored_by_workers(converted: list[str]) -> None:
    """Every live page is stored as rendering it here gives, and no body without tables was rendered
    here before this check."""
    live = list(Revision.objects.live().prefetch_related("comparisons"))
    without_tables = {revision.body for revision in live if not revision.comparisons.all()}
    assert without_tables
    assert not without_tables & set(converted)  # none rendered by this process: the workers did
    converted.clear()
    for revision in live:
        assert prerender.stored(revision) == render_page(revision), revision.source_file
    assert without_tables <= set(converted)  # and the check above rendered them here


def test_pages_rendered_by_workers_are_stored_as_this_process_would_render_them(in_workers, converted):
    call_command("import_sources", *map(str, BATCH), stdout=StringIO(), stderr=StringIO())
    assert Revision.objects.live().count() > 5
    assert_stored_by_workers(converted)


def test_rerender_and_loaddata_render_in_workers(in_workers, converted):
    call_command("import_sources", *map(str, BATCH), stdout=StringIO(), stderr=StringIO())
    RenderedRevision.objects.all().delete()
    converted.clear()
    call_command("rerender", stdout=StringIO())
    assert_stored_by_workers(converted)
    RenderedRevision.objects.all().delete()
    converted.clear()
    call_command("loaddata", "seed", verbosity=0)  # the seed's revisions are the two seeds' again
    assert_stored_by_workers(converted)
