"""/drugs/<slug>.json: the live monograph as JSON."""

import pytest

from monographs.models import Revision

from . import factories

pytestmark = pytest.mark.django_db


def test_it_gives_the_live_monograph(client, seeded):
    response = client.get("/drugs/denosumab.json")
    assert response.status_code == 200
    data = response.json()
    assert data["url"] == "http://testserver/drugs/denosumab/"
    assert data["drug"]["name"] == "Denosumab"
    assert [b["name"] for b in data["drug"]["brands"]] == ["Prolia®", "Xgeva®"]
    assert data["revision"]["title"] == "Denosumab"
    assert "<h2" in data["revision"]["body_html"] and "## Usage" in data["revision"]["body_markdown"]
    assert len(data["faqs"]) == 10


def test_a_drug_without_live_content_is_404(client, db):
    factories.monograph(factories.drug("Alendronic acid"), status=Revision.Status.DRAFT)
    assert client.get("/drugs/alendronic-acid.json").status_code == 404
    assert client.get("/drugs/nothing.json").status_code == 404


def test_it_never_shows_a_draft(client, db):
    mono = factories.monograph(factories.drug("Alendronic acid"), summary="Live.")
    factories.revision(mono, status=Revision.Status.DRAFT, summary="Draft.")
    assert client.get("/drugs/alendronic-acid.json").json()["revision"]["summary"] == "Live."
