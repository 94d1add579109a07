"""Before a publisher unpublishes a monograph, retires a drug or a change of address is approved, the admin
lists the links in other live monographs that lose their page and what will answer each — and the site
then answers exactly that."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monographs import linkgraph, proposals, workflow
from monographs.models import LegacyPath, Monograph, ProposedChange, Revision, Topic, WorkflowEvent

from . import factories
from .conftest import make_user

S = Revision.Status

LINKS = (
    "See [betamab](/drugs/betamab/), [Betabrand](/drugs/betabrand/), [its data](/drugs/betamab.json), "
    "[the beta guide](/monographs/beta-guide/), [bisphosphonates](/classes/bisphosphonates/) and "
    "[the old beta page](/old/beta)."
)


@pytest.fixture
def web(db):
    """Alphazol links to every address of Betamab (drug page, brand, JSON, its patient guide, its class and
    a legacy path of its primary monograph); Betamab has a second live monograph, the patient guide."""
    beta = factories.drug("Betamab", brands=["Betabrand"], classes=["Bisphosphonates"])
    primary = factories.monograph(beta)
    guide = factories.monograph(beta, primary=False, slug="beta-guide", kind=Monograph.Kind.PATIENT)
    LegacyPath.objects.create(path="/old/beta", monograph=primary)
    alpha = factories.monograph(factories.drug("Alphazol"), body=LINKS)
    linkgraph.rebuild_all()
    return {"beta": beta, "primary": primary, "guide": guide, "alpha": alpha}


def announced(dangling) -> dict[str, str]:
    return {d.link.href: str(d) for d in dangling}


def answers(client, href: str) -> str:
    """What the site answers, in the words of linkgraph.Dangling: "301 → /x/", "404", or "200"."""
    response = client.get(href)
    location = response.headers.get("Location")
    return f"{response.status_code} → {location}" if location else str(response.status_code)


def check_site_answers(client, expected: dict[str, str]) -> None:
    for href, answer in expected.items():
        assert answers(client, href) == answer.split(", then ")[0], href


def test_unpublishing_a_primary_monograph_lists_the_links_and_their_redirects(web, client):
    client.force_login(make_user("carol", "Publishers"))
    html = client.get(reverse("admin:monographs_revision_change", args=[web["primary"].live_revision.pk])).content
    listed = html.decode()[html.decode().index('id="unpublish-dangling"') :]
    assert "alphazol r1" in listed
    assert "the redirect 302 → /monographs/beta-guide/" in listed  # the drug page sends readers to the guide
    assert "nothing: this link will answer 404" in listed  # its JSON and its legacy path
    expected = announced(linkgraph.if_unpublished([web["primary"]]))
    assert expected == {
        "/drugs/betamab/": "302 → /monographs/beta-guide/",
        "/drugs/betabrand/": "302 → /monographs/beta-guide/",
        "/drugs/betamab.json": "404",
        "/old/beta": "404",
    }
    workflow.unpublish(web["primary"].live_revision, make_user("pam", "Publishers"), "Withdrawn")
    check_site_answers(client, expected)


def test_unpublishing_the_last_monograph_leaves_links_answering_404(web, client):
    pam = make_user("pam", "Publishers")
    workflow.unpublish(web["guide"].live_revision, pam, "Merged")
    expected = announced(linkgraph.if_unpublished([web["primary"]]))
    assert set(expected.values()) == {"404"} and "/drugs/betamab/" in expected
    client.force_login(make_user("carol", "Publishers"))
    html = client.get(reverse("admin:monographs_revision_change", args=[web["primary"].live_revision.pk])).content
    assert "the redirect" not in html.decode()[html.decode().index('id="unpublish-dangling"') :]
    workflow.unpublish(web["primary"].live_revision, pam, "Withdrawn")
    check_site_answers(client, expected)


def test_a_link_by_an_old_slug_kept_by_a_redirect_links_here(web):
    LegacyPath.objects.create(path="/drugs/old-beta", monograph=web["primary"])
    gamma = factories.monograph(factories.drug("Gammacillin"), body="Formerly [old beta](/drugs/old-beta/).")
    linkgraph.rebuild_monograph(gamma)
    assert "old beta" in [link.text for link in linkgraph.linking_to(web["primary"])]


def propose(obj, user, **changes) -> ProposedChange:
    return workflow.propose(obj, {**proposals.snapshot(obj), **changes}, user, "")


def test_a_drugs_new_slug_lists_what_the_old_addresses_will_answer(web, client):
    publisher = make_user("carol", "Publishers")
    proposal = propose(web["beta"], publisher, slug="betamab-new")
    client.force_login(publisher)
    html = client.get(reverse("admin:monographs_proposedchange_change", args=[proposal.pk])).content.decode()
    listed = html[html.index('id="proposal-dangling"') :]
    assert "alphazol r1" in listed and "the redirect 301 → /drugs/betamab-new/" in listed
    expected = announced(linkgraph.if_changed(web["beta"], proposal.before, proposal.after))
    assert expected == {"/drugs/betamab/": "301 → /drugs/betamab-new/", "/drugs/betamab.json": "404"}
    workflow.approve_change(proposal, make_user("bob", "Proof-readers"))
    check_site_answers(client, expected)


def test_a_removed_brand_and_a_renamed_class_answer_404(web, client):
    publisher = make_user("carol", "Publishers")
    drug_change = propose(web["beta"], publisher, brands=[])
    assert announced(linkgraph.if_changed(web["beta"], drug_change.before, drug_change.after)) == {
        "/drugs/betabrand/": "404"
    }
    klass = web["beta"].classes.get()
    class_change = propose(klass, publisher, slug="bps")  # nothing keeps a class's old address
    expected = announced(linkgraph.if_changed(klass, class_change.before, class_change.after))
    assert expected == {"/classes/bisphosphonates/": "404"}
    workflow.approve_change(class_change, make_user("bob", "Proof-readers"))
    check_site_answers(client, expected)


def test_a_monographs_new_slug_and_a_removed_legacy_path(web, client):
    publisher = make_user("carol", "Publishers")
    guide_change = propose(web["guide"], publisher, slug="beta-patients")
    expected = announced(linkgraph.if_changed(web["guide"], guide_change.before, guide_change.after))
    assert expected == {"/monographs/beta-guide/": "301 → /monographs/beta-patients/"}
    primary_change = propose(web["primary"], publisher, legacy_paths=[])
    assert announced(linkgraph.if_changed(web["primary"], primary_change.before, primary_change.after)) == {
        "/old/beta": "404"
    }
    workflow.approve_change(guide_change, make_user("bob", "Proof-readers"))
    check_site_answers(client, expected)


def test_a_topics_new_slug_redirects_each_level(db, client):
    topic = Topic.objects.create(name="Abscess", slug="abscess")
    level = Monograph.objects.create(slug="abscess-basic", topic=topic, level=1, kind=Monograph.Kind.PATIENT)
    factories.revision(level, title="Abscess")
    linking = factories.monograph(factories.drug("Alphazol"), body="See [abscess](/topics/abscess/).")
    linkgraph.rebuild_monograph(linking)
    assert [link.text for link in linkgraph.linking_to(level)] == ["abscess"]
    proposal = propose(topic, make_user("carol", "Publishers"), slug="skin-abscess")
    expected = announced(linkgraph.if_changed(topic, proposal.before, proposal.after))
    assert expected == {"/topics/abscess/": "301 → /topics/skin-abscess/"}
    workflow.approve_change(proposal, make_user("bob", "Proof-readers"))
    check_site_answers(client, expected)


def test_a_change_of_address_nothing_links_to_lists_nothing(web, client):
    publisher = make_user("carol", "Publishers")
    proposal = propose(web["alpha"].drug, publisher, slug="alphazol-new")
    client.force_login(publisher)
    html = client.get(reverse("admin:monographs_proposedchange_change", args=[proposal.pk])).content.decode()
    assert "No other live monograph links here." in html[html.index('id="proposal-dangling"') :]


def test_retiring_a_drug_lists_its_monographs_and_the_links_left_answering_404(web, client):
    client.force_login(make_user("carol", "Publishers"))
    url = reverse("admin:monographs_drug_retire", args=[web["beta"].pk])
    html = client.get(url).content.decode()
    assert "beta-guide" in html[html.index('id="retire-monographs"') :]
    listed = html[html.index('id="retire-dangling"') :]
    assert "alphazol r1" in listed and "the redirect" not in listed
    expected = announced(linkgraph.if_retired(web["beta"]))
    assert set(expected) == {
        "/drugs/betamab/",
        "/drugs/betabrand/",
        "/drugs/betamab.json",
        "/monographs/beta-guide/",
        "/old/beta",
    }
    assert set(expected.values()) == {"404"}
    response = client.post(url, {"comment": "Withdrawn from the market", "confirm_retire": "on"})
    assert response.status_code == 302
    assert not Revision.objects.live().filter(monograph__drug=web["beta"]).exists()
    assert WorkflowEvent.objects.filter(to_status=S.UNPUBLISHED, comment="Withdrawn from the market").count() == 2
    check_site_answers(client, expected)


def test_retiring_needs_a_publisher_a_reason_and_a_confirmation(web, client):
    url = reverse("admin:monographs_drug_retire", args=[web["beta"].pk])
    client.force_login(make_user("alice", "Authors"))
    assert client.get(url).status_code == 403
    assert client.post(url, {"comment": "x", "confirm_retire": "on"}).status_code == 403
    client.force_login(make_user("carol", "Publishers"))
    client.post(url, {"comment": "Withdrawn"})  # not confirmed
    client.post(url, {"comment": " ", "confirm_retire": "on"})  # no reason
    assert Revision.objects.live().filter(monograph__drug=web["beta"]).count() == 2
    change_page = client.get(reverse("admin:monographs_drug_change", args=[web["beta"].pk])).content.decode()
    assert 'id="retire-drug"' in change_page


def test_a_link_to_an_unpublished_primary_monographs_own_address_answers_404(web, client):
    """/monographs/<slug>/ of a primary monograph redirects to the drug's page only while it is live."""
    gamma = factories.monograph(factories.drug("Gammacillin"), body="See [betamab](/monographs/betamab/).")
    linkgraph.rebuild_monograph(gamma)
    expected = announced(linkgraph.if_unpublished([web["primary"]]))
    assert expected["/monographs/betamab/"] == "404"
    workflow.unpublish(web["primary"].live_revision, make_user("pam", "Publishers"), "Withdrawn")
    check_site_answers(client, expected)
