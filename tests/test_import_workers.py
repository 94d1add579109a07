"""A large batch is read, and its pages rendered, by worker processes (importers/loader.py, PARALLEL_FROM):
the import must write, print and store exactly what an import read in one process does."""

from io import StringIO

import markdown
import pytest
from django.core.management import call_command

from monographs import prerender
from monographs.importers import loader
from monographs.models import Revision
from monographs.rendering import render_page

from .conftest import EXAMPLES, SOURCES

pytestmark = pytest.mark.django_db

# Every kind of document the tests keep: both seeds, tables, figures, topics, warnings.
BATCH = [SOURCES, EXAMPLES]  # EXAMPLES and its folders: faithful, topics, figures


@pytest.fixture
def workers(monkeypatch):
    """Worker processes for any batch, on a machine of any number of cores."""
    monkeypatch.setattr(loader, "PARALLEL_FROM", 2)
    monkeypatch.setattr(loader, "_cores", lambda: 2)


def _dry_run() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_sources", *map(str, BATCH), "--dry-run", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_batch_read_by_workers_reports_what_one_process_reports(monkeypatch):
    here = _dry_run()
    monkeypatch.setattr(loader, "PARALLEL_FROM", 2)
    monkeypatch.setattr(loader, "_cores", lambda: 2)
    assert loader._workers(list(range(2)), None) is not None
    in_workers = _dry_run()
    assert in_workers == here
    assert "warning: " in here[1]  # the parser's warnings, logged in the workers, are printed here too


def test_pages_rendered_by_workers_are_stored_as_this_process_would_render_them(workers, monkeypatch):
    converted = []
    convert = markdown.Markdown.convert

    def counted(self, text):
        converted.append(text)
        return convert(self, text)

    monkeypatch.setattr(markdown.Markdown, "convert", counted)
    call_command("import_sources", *map(str, BATCH), stdout=StringIO(), stderr=StringIO())
    live = list(Revision.objects.live().prefetch_related("comparisons"))
    without_tables = {revision.body for revision in live if not revision.comparisons.all()}
    assert len(without_tables) > 5
    assert not without_tables & set(converted)  # none rendered by this process: the workers did
    converted.clear()
    for revision in live:
        assert prerender.stored(revision) == render_page(revision), revision.source_file
    assert without_tables <= set(converted)  # and the check above rendered them here
