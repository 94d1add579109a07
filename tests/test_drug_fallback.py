"""No dead ends: when a drug's primary monograph is not live, its A–Z entry, its address and its brand and alias
redirects lead to another live monograph of the drug, or disappear when there is none — never to a 404."""

import pytest
from bs4 import BeautifulSoup

from monographs.models import Alias, BrandName, Revision

pytestmark = pytest.mark.django_db

OTHER = "/monographs/denosumab-patient-information/"


def unpublish(carol, slug: str) -> None:
    Revision.objects.live().get(monograph__slug=slug).unpublish(carol, "Withdrawn for checking")


def a_to_z(client) -> dict[str, str]:
    """Every A–Z entry's text → the address it links to; each link is followed and must end in a page."""
    response = client.get("/drugs/")
    assert response.status_code == 200
    main = BeautifulSoup(response.content, "html.parser").find("main")
    entries = {}
    for item in main.select("section li"):
        href = item.find("a")["href"]
        entries[" ".join(item.get_text().split())] = href
        assert client.get(href, follow=True).status_code == 200, f"{item.get_text()} → {href}"
    return entries


def names_and_redirects():
    brands = list(BrandName.objects.filter(drug__slug="denosumab"))
    aliases = list(Alias.objects.filter(drug__slug="denosumab"))
    assert brands and aliases, "the seed gives denosumab brands and a misspelling"
    return brands + aliases


def test_with_the_primary_live_everything_points_to_the_drug_page(client, seeded):
    entries = a_to_z(client)
    assert entries["Denosumab"] == "/drugs/denosumab/"
    for other in names_and_redirects():
        response = client.get(f"/drugs/{other.slug}/")
        assert response.status_code == 301 and response["Location"] == "/drugs/denosumab/"


def test_without_a_live_primary_the_a_to_z_and_redirects_lead_to_the_other_live_monograph(client, seeded, carol):
    unpublish(carol, "denosumab")
    entries = a_to_z(client)
    assert entries["Denosumab"] == OTHER
    for other in names_and_redirects():
        listed = [] if getattr(other, "kind", "") == Alias.Kind.MISSPELLING else [OTHER]  # misspellings only redirect
        assert [href for text, href in entries.items() if text.startswith(other.name)] == listed
        response = client.get(f"/drugs/{other.slug}/")
        assert response.status_code == 302 and response["Location"] == OTHER, other.slug
    drug_page = client.get("/drugs/denosumab/")
    assert drug_page.status_code == 302 and drug_page["Location"] == OTHER
    assert client.get(OTHER).status_code == 200


def test_with_nothing_live_the_drug_disappears_from_the_a_to_z_and_its_redirects_go(client, seeded, carol):
    unpublish(carol, "denosumab")
    unpublish(carol, "denosumab-patient-information")
    entries = a_to_z(client)
    assert not [text for text, href in entries.items() if "denosumab" in href]
    assert client.get("/drugs/denosumab/").status_code == 404
    for other in names_and_redirects():
        assert other.name not in " ".join(entries)
        assert client.get(f"/drugs/{other.slug}/").status_code == 404
