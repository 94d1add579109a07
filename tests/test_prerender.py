"""Pre-rendered pages: stored when a revision goes live, served without rendering, rebuilt for a new
renderer, never in a fixture."""

import json
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command

from monographs import rendering
from monographs.models import InternalLink, RenderedRevision, Revision
from monographs.search import search

from .conftest import SEED_B
from .test_workflow import to_approved

PAGE = "/drugs/denosumab/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_rendering(monkeypatch):
    """Rendering a page (or any Markdown) now fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the page was rendered although its HTML is stored")

    monkeypatch.setattr(rendering, "render_document", refuse)


def live_row(slug="denosumab") -> RenderedRevision:
    return RenderedRevision.objects.get(revision=Revision.objects.live().get(monograph__slug=slug))


def test_loaddata_of_a_fixture_gives_pages_served_from_their_stored_html(client, monkeypatch):
    assert not Revision.objects.exists()
    call_command("loaddata", "seed", verbosity=0)  # the plain command an operator types
    live = Revision.objects.live()
    assert RenderedRevision.objects.filter(revision__in=live).count() == live.count() > 0
    row = live_row()
    assert row.renderer_version == rendering.RENDERER_VERSION
    assert [hit.entry.monograph.slug for hit in search("denosumab").hits][:1] == ["denosumab"]
    expected = rendering.render_page(live.get(monograph__slug="denosumab"))
    assert (row.html, [tuple(f[:2]) for f in row.faqs]) == (expected.html, expected.faqs)

    calls = []
    monkeypatch.setattr(rendering, "render_document", lambda *a, **k: calls.append(a) or rendering.Rendered(""))
    html = client.get(PAGE).content.decode()
    assert calls == []
    assert row.html in html and "<details" in html
    assert "Prolia" in html


def test_without_its_stored_html_the_page_is_rendered_live_and_the_same(seeded, client):
    from_stored = client.get(PAGE).content
    RenderedRevision.objects.all().delete()
    cache.clear()
    assert client.get(PAGE).content == from_stored


def test_publishing_stores_the_new_live_revision_rendered(draft, alice, bob, carol):
    to_approved(draft, alice, bob)
    draft.publish(carol)
    row = live_row()
    assert row.revision_id == draft.pk and "every 3 months" in row.html


def test_importing_stores_each_live_revision_rendered_once(db, monkeypatch):
    rendered = []
    real = rendering.render_page
    monkeypatch.setattr(rendering, "render_page", lambda revision: rendered.append(revision.pk) or real(revision))
    from monographs import prerender

    monkeypatch.setattr(prerender, "render_page", rendering.render_page)
    call_command("import_sources", str(SEED_B), verbosity=0)
    live = Revision.objects.live().get()
    assert rendered == [live.pk]  # the page and the search index share one rendering
    assert live.prerendered.renderer_version == rendering.RENDERER_VERSION


def test_served_from_stored_html_without_rendering(seeded, client, no_rendering):
    response = client.get(PAGE)
    assert response.status_code == 200 and live_row().html in response.content.decode()


def test_a_new_renderer_version_renders_live_until_rerender_rebuilds_every_page(seeded, client, monkeypatch):
    live = Revision.objects.live().count()
    monkeypatch.setattr(rendering, "RENDERER_VERSION", rendering.RENDERER_VERSION + 1)
    calls = []
    real = rendering.render_document
    monkeypatch.setattr(rendering, "render_document", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert client.get(PAGE).status_code == 200
    assert calls, "a page stored by another renderer version must be rendered live"

    out = StringIO()
    call_command("rerender", stdout=out)
    assert f"{live} page(s) rendered by renderer version {rendering.RENDERER_VERSION}" in out.getvalue()
    assert set(RenderedRevision.objects.values_list("renderer_version", flat=True)) == {rendering.RENDERER_VERSION}
    out = StringIO()
    call_command("rerender", stdout=out)
    assert "0 page(s) rendered" in out.getvalue()

    cache.clear()
    calls.clear()
    assert client.get(PAGE).status_code == 200 and calls == []


@pytest.mark.parametrize("labels", [(), ("monographs",), ("monographs.renderedrevision",)])
def test_stored_html_never_appears_in_dumpdata(seeded, labels):
    """Nor any other derived table: the search index, the link graph."""
    assert InternalLink.objects.exists()  # the seed's pages link to each other
    html = live_row().html
    out = StringIO()
    call_command("dumpdata", *labels, natural_foreign=True, natural_primary=True, stdout=out)
    models = {record["model"] for record in json.loads(out.getvalue())}
    derived = {"monographs.renderedrevision", "monographs.searchentry", "monographs.searchword"}
    assert not models & (derived | {"monographs.internallink"})
    assert html[:200] not in out.getvalue()
