"""Every reader-visible fact outside a revision changes only through a proposed change someone else approves.

Each case posts the admin form as a browser would, as an Author (no other group), and checks every
public URL about the drug answers byte for byte as before; then the author's own approval is refused,
a proof-reader approves, and the change reaches pages and search at once.
"""

import pytest
from django.urls import reverse

from monographs import workflow
from monographs.models import Drug, DrugClass, LegacyPath, Monograph, ProposedChange, SearchEntry, WorkflowEvent
from monographs.workflow import WorkflowError

from . import factories
from .conftest import admin_form_data

READERS_SEE = [
    "/",
    "/drugs/",
    "/drugs/denosumab/",
    "/drugs/denosumab.json",
    "/drugs/denosumab/fhir.json",
    "/drugs/prolia/",
    "/drugs/xgeva/",
    "/drugs/denusomab/",
    "/monographs/denosumab-patient-information/",
    "/treatment/other/medication/miscellaneous/denusomab",
    "/classes/antiresorptive-agents/",
    "/classes/rank-ligand-rankl-inhibitor/",
    "/search/?q=prolia",
    "/search/?q=denosumab",
    "/sitemap.xml",
    "/feeds/updates/",
]

pytestmark = pytest.mark.django_db


def public(client) -> dict[str, tuple[int, bytes, str]]:
    client.logout()
    answers = {}
    for url in READERS_SEE:
        response = client.get(url)
        answers[url] = (response.status_code, response.content, response.get("Location", ""))
    return answers


def _drug_url(drug):
    return reverse("admin:monographs_drug_change", args=[drug.pk])


def _inline_key(data, suffix, value):
    return next(key for key, v in data.items() if key.endswith(suffix) and v == value)


def rename_brand(data):
    data[_inline_key(data, "-name", "Prolia®")] = "Prolia® 90 mg"


def ban(data):
    data["is_banned"] = "on"


def rename_drug(data):
    data["name"] = "Denosumab (renamed)"


def change_drug_slug(data):
    data["slug"] = "denosumab-new"


def add_alias(data):
    prefix = "aliases"
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    data.update(
        {f"{prefix}-{total}-name": "AMG 162", f"{prefix}-{total}-slug": "amg-162", f"{prefix}-{total}-kind": "synonym"}
    )
    data[f"{prefix}-TOTAL_FORMS"] = total + 1


def remove_misspelling(data):
    key = _inline_key(data, "-name", "Denusomab")
    data[key.replace("-name", "-DELETE")] = "on"


def drop_a_class(data):
    data["classes"] = [DrugClass.objects.get(slug="antiresorptive-agents").pk]


def remove_a_brand(data):
    key = _inline_key(data, "-name", "Xgeva®")
    data[key.replace("-name", "-DELETE")] = "on"


def rename_misspelling(data):
    data[_inline_key(data, "-name", "Denusomab")] = "Denosumabb"


DRUG_CHANGES = [
    rename_brand,
    remove_a_brand,
    ban,
    rename_drug,
    change_drug_slug,
    add_alias,
    rename_misspelling,
    remove_misspelling,
    drop_a_class,
]


def as_form(data):
    """admin_form_data gives model instances' pks for many-to-many fields as a list already."""
    return {key: value for key, value in data.items() if value is not None}


def propose(client, user, url, change):
    client.force_login(user)
    data = admin_form_data(client, url)
    if isinstance(data.get("classes"), list):
        data["classes"] = [getattr(c, "pk", c) for c in data["classes"]]
    change(data)
    response = client.post(url, as_form(data))
    assert response.status_code == 302, response.content.decode()[:3000]
    proposal = ProposedChange.objects.get()
    assert response["Location"] == reverse("admin:monographs_proposedchange_change", args=[proposal.pk])
    return proposal


def decide(client, user, proposal, action, comment=""):
    client.force_login(user)
    url = reverse("admin:monographs_proposedchange_decide", args=[proposal.pk, action])
    return client.post(url, {"comment": comment}, follow=True)


@pytest.mark.parametrize("change", DRUG_CHANGES, ids=lambda f: f.__name__)
def test_a_drug_change_waits_for_someone_else(client, seeded, alice, bob, change):
    before = public(client)
    proposal = propose(client, alice, _drug_url(Drug.objects.get(slug="denosumab")), change)
    assert proposal.status == ProposedChange.Status.PROPOSED and proposal.proposed_by == alice
    assert public(client) == before  # nothing a reader sees has changed

    # The author cannot approve it, not even with a crafted POST, not even as a proof-reader too.
    alice.groups.add(*bob.groups.all())
    response = decide(client, alice, proposal, "approve_change")
    assert "someone else must check it" in response.content.decode()
    assert ProposedChange.objects.get().status == ProposedChange.Status.PROPOSED
    assert public(client) == before

    decide(client, bob, proposal, "approve_change", "checked against the SmPC")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (ProposedChange.Status.APPLIED, bob)
    alice.groups.remove(*bob.groups.all())
    events = [(e.from_status, e.to_status, e.actor) for e in proposal.events.order_by("sequence")]
    assert events == [("", "proposed", alice), ("proposed", "applied", bob)]
    after = public(client)
    assert after != before  # the change reaches readers at once: no stale cached page


def test_renaming_a_brand_reaches_page_and_search_once_approved(client, seeded, alice, bob):
    proposal = propose(client, alice, _drug_url(Drug.objects.get(slug="denosumab")), rename_brand)
    client.logout()
    assert "Prolia® 90 mg" not in client.get("/drugs/denosumab/").content.decode()
    decide(client, bob, proposal, "approve_change")
    client.logout()
    assert "Prolia® 90 mg" in client.get("/drugs/denosumab/").content.decode()
    assert "Prolia® 90 mg" in SearchEntry.objects.get(monograph__slug="denosumab").names


def test_a_drug_slug_change_leaves_a_301(client, seeded, alice, bob):
    proposal = propose(client, alice, _drug_url(Drug.objects.get(slug="denosumab")), change_drug_slug)
    decide(client, bob, proposal, "approve_change")
    client.logout()
    response = client.get("/drugs/denosumab/")
    assert (response.status_code, response["Location"]) == (301, "/drugs/denosumab-new/")
    assert client.get("/drugs/denosumab-new/").status_code == 200
    assert proposal.events.last().details["redirects"] == ["/drugs/denosumab"]


MONOGRAPH_CHANGES = {
    "slug": lambda data, other: data.update(slug="denosumab-patients"),
    "is_primary": lambda data, other: data.update(is_primary=""),
    "drug": lambda data, other: data.update(drug=other.pk),
    "kind": lambda data, other: data.update(kind="reference"),
}


@pytest.mark.parametrize("field", MONOGRAPH_CHANGES)
def test_a_monograph_identity_change_waits_for_someone_else(client, seeded, alice, bob, field):
    other = factories.drug("Alendronic acid")
    slug = "denosumab" if field == "is_primary" else "denosumab-patient-information"
    monograph = Monograph.objects.get(slug=slug)
    url = reverse("admin:monographs_monograph_change", args=[monograph.pk])
    before = public(client)

    def change(data):
        data.pop("next_review", None)
        data.pop("source_key", None)
        if not data.get("is_primary"):
            data.pop("is_primary", None)
        MONOGRAPH_CHANGES[field](data, other)
        if data.get("is_primary") == "":
            data.pop("is_primary")

    proposal = propose(client, alice, url, change)
    assert public(client) == before
    decide(client, bob, proposal, "approve_change")
    assert ProposedChange.objects.get().status == ProposedChange.Status.APPLIED
    assert public(client) != before or field == "kind"


def test_a_monograph_slug_change_leaves_a_301(client, seeded, alice, bob):
    monograph = Monograph.objects.get(slug="denosumab-patient-information")
    url = reverse("admin:monographs_monograph_change", args=[monograph.pk])

    def change(data):
        data.pop("next_review", None)
        data.pop("source_key", None)
        data.pop("is_primary", None)
        data["slug"] = "denosumab-patients"

    decide(client, bob, propose(client, alice, url, change), "approve_change")
    client.logout()
    response = client.get("/monographs/denosumab-patient-information/")
    assert (response.status_code, response["Location"]) == (301, "/monographs/denosumab-patients/")
    assert LegacyPath.objects.filter(path="/monographs/denosumab-patient-information").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("description", "Drugs that slow bone loss."), ("name", "Bone antiresorptives"), ("parent", "parent")],
)
def test_a_class_change_waits_for_someone_else(client, seeded, alice, bob, field, value):
    drug_class = DrugClass.objects.get(slug="rank-ligand-rankl-inhibitor")
    if field == "parent":
        value = DrugClass.objects.get(slug="antiresorptive-agents").pk
    url = reverse("admin:monographs_drugclass_change", args=[drug_class.pk])
    before = public(client)
    proposal = propose(client, alice, url, lambda data: data.update({field: value}))
    assert public(client) == before
    decide(client, bob, proposal, "approve_change")
    assert ProposedChange.objects.get().status == ProposedChange.Status.APPLIED
    changed = DrugClass.objects.get(pk=drug_class.pk)
    assert (changed.parent_id if field == "parent" else getattr(changed, field)) == value
    assert public(client) != before


def test_self_approval_is_refused_even_for_a_superuser(seeded, root):
    drug = Drug.objects.get(slug="denosumab")
    after = {**workflow.proposals.snapshot(drug), "is_banned": True}
    proposal = workflow.propose(drug, after, root, "withdrawn in the EU")
    with pytest.raises(WorkflowError, match="someone else must check it"):
        workflow.approve_change(proposal, root)
    assert not Drug.objects.get(pk=drug.pk).is_banned


def test_a_stale_proposal_is_refused_rather_than_undoing_a_later_change(seeded, alice, bob, carol):
    drug = Drug.objects.get(slug="denosumab")
    first = workflow.propose(drug, {**workflow.proposals.snapshot(drug), "name": "Denosumab A"}, alice)
    second = workflow.propose(drug, {**workflow.proposals.snapshot(drug), "is_banned": True}, carol)
    workflow.approve_change(first, bob)
    with pytest.raises(WorkflowError, match="changed after this was proposed"):
        workflow.approve_change(second, bob)
    drug.refresh_from_db()
    assert (drug.name, drug.is_banned) == ("Denosumab A", False)


def test_reject_and_withdraw_close_a_proposal_and_change_nothing(seeded, alice, bob, carol):
    drug = Drug.objects.get(slug="denosumab")
    snap = workflow.proposals.snapshot(drug)
    rejected = workflow.propose(drug, {**snap, "is_banned": True}, alice)
    with pytest.raises(WorkflowError, match="comment is required"):
        workflow.reject_change(rejected, bob, "")
    workflow.reject_change(rejected, bob, "Not withdrawn in the UK")
    withdrawn = workflow.propose(drug, {**snap, "name": "X"}, alice)
    with pytest.raises(WorkflowError, match="Only whoever wrote or proposed"):
        workflow.withdraw_change(withdrawn, carol)  # a publisher may propose, but this is not theirs
    workflow.withdraw_change(withdrawn, alice)
    assert [p.status for p in ProposedChange.objects.order_by("pk")] == ["rejected", "withdrawn"]
    assert workflow.proposals.snapshot(Drug.objects.get(pk=drug.pk)) == snap
    assert WorkflowEvent.objects.filter(proposal__isnull=False).count() == 4


def test_a_proposal_with_nothing_changed_is_not_made(client, seeded, alice):
    drug = Drug.objects.get(slug="denosumab")
    client.force_login(alice)
    url = _drug_url(drug)
    data = admin_form_data(client, url)
    data["classes"] = [getattr(c, "pk", c) for c in data["classes"]]
    response = client.post(url, as_form(data), follow=True)
    assert "Nothing changed" in response.content.decode()
    assert not ProposedChange.objects.exists()


def test_the_dashboard_lists_proposals_awaiting_me(client, seeded, alice, bob):
    drug = Drug.objects.get(slug="denosumab")
    proposal = workflow.propose(drug, {**workflow.proposals.snapshot(drug), "is_banned": True}, alice, "EMA notice")
    client.force_login(bob)
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:monographs_proposedchange_change", args=[proposal.pk]) in page and "EMA notice" in page
    client.force_login(alice)  # the proposer sees it as theirs, never as something to approve
    page = client.get(reverse("admin:index")).content.decode()
    assert "My proposed changes" in page and "awaiting your approval" not in page


def test_the_proposal_page_escapes_what_the_author_typed(client, seeded, alice, bob):
    attack = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    drug = Drug.objects.get(slug="denosumab")
    snap = workflow.proposals.snapshot(drug)
    snap["brands"][0]["name"] = attack
    proposal = workflow.propose(drug, snap, alice, attack)
    client.force_login(bob)
    page = client.get(reverse("admin:monographs_proposedchange_change", args=[proposal.pk])).content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_class_created_directly_stays_out_of_sight_until_a_live_drug_is_in_it(client, seeded, alice, bob):
    parent = DrugClass.objects.get(slug="antiresorptive-agents")
    before = public(client)
    client.force_login(alice)  # creating is direct: nothing about a new class is public yet
    response = client.post(
        reverse("admin:monographs_drugclass_add"),
        {"name": "Unreviewed subclass", "slug": "unreviewed-subclass", "parent": parent.pk, "description": "x"},
    )
    assert response.status_code == 302
    assert public(client) == before
    assert client.get("/classes/unreviewed-subclass/").status_code == 404
    drug = Drug.objects.get(slug="denosumab")
    snap = workflow.proposals.snapshot(drug)
    proposal = workflow.propose(drug, {**snap, "classes": [*snap["classes"], "unreviewed-subclass"]}, alice)
    workflow.approve_change(proposal, bob)
    assert client.get("/classes/unreviewed-subclass/").status_code == 200
    assert b"Unreviewed subclass" in client.get("/classes/antiresorptive-agents/").content


def test_a_drug_created_directly_cannot_take_over_a_brands_address(client, seeded, alice):
    client.force_login(alice)  # creating a drug is direct; it must not change what /drugs/prolia/ does
    response = client.post(
        reverse("admin:monographs_drug_add"),
        {
            "name": "Prolia impostor",
            "slug": "prolia",
            "brands-TOTAL_FORMS": 0,
            "brands-INITIAL_FORMS": 0,
            "aliases-TOTAL_FORMS": 0,
            "aliases-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302 and Drug.objects.filter(slug="prolia").exists()
    client.logout()
    answer = client.get("/drugs/prolia/")
    assert (answer.status_code, answer["Location"]) == (301, "/drugs/denosumab/")
