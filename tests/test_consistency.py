"""Consistency across monographs: the link graph, the findings, their dismissal and the report."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from monographs import consistency, linkgraph, workflow
from monographs.models import (
    Alias,
    BrandName,
    ComparisonCell,
    ComparisonReview,
    ConsistencyDismissal,
    ContentGeneration,
    DrugClass,
    InternalLink,
    LegacyPath,
    Monograph,
    Revision,
)

from . import factories
from .conftest import make_user

S = Revision.Status


def found() -> set[tuple[str, str]]:
    return {(f.kind, f.key) for f in consistency.findings()}


def approved(mono: Monograph, body: str) -> Revision:
    return factories.revision(mono, status=S.APPROVED, body=body)


# The link graph ---------------------------------------------------------------------------------


@pytest.fixture
def web(db):
    """Alpha links to Beta's drug page (by its slug and by its brand's), to Gamma's second monograph and
    to a legacy path of Gamma's; Beta links to Alpha."""
    beta = factories.drug("Betamab", brands=["Betabrand"])
    gamma = factories.drug("Gammacillin")
    alpha = factories.monograph(
        factories.drug("Alphazol"),
        body="See [betamab](/drugs/betamab/), [Betabrand](/drugs/betabrand/), "
        "[the gamma guide](/monographs/gamma-guide/) and [old gamma](/old/gamma).",
    )
    beta_mono = factories.monograph(beta, body="Unlike [alphazol](/drugs/alphazol/).")
    factories.monograph(gamma)
    guide = factories.monograph(gamma, primary=False, slug="gamma-guide", kind=Monograph.Kind.PATIENT)
    LegacyPath.objects.create(path="/old/gamma", monograph=guide)
    linkgraph.rebuild_all()
    return {"alpha": alpha, "beta": beta_mono, "guide": guide}


def test_the_graph_records_each_link_with_its_text_and_target(web):
    links = list(InternalLink.objects.filter(source=web["alpha"]).values_list("text", "target_kind", "target_key"))
    assert links == [
        ("betamab", "drug", "betamab"),
        ("Betabrand", "drug", "betabrand"),
        ("the gamma guide", "monograph", "gamma-guide"),
        ("old gamma", "path", "/old/gamma"),
    ]


def test_what_links_here_follows_every_name_of_the_target(web):
    assert [link.text for link in linkgraph.linking_to(web["beta"])] == ["betamab", "Betabrand"]
    assert [link.text for link in linkgraph.linking_to(web["guide"])] == ["the gamma guide", "old gamma"]
    assert [link.source for link in linkgraph.linking_to(web["alpha"])] == [web["beta"]]


def test_publishing_rebuilds_only_the_published_monographs_links(web):
    publisher = make_user("carol", "Publishers")
    others = set(InternalLink.objects.exclude(source=web["alpha"]).values_list("pk", flat=True))
    new = approved(web["alpha"], "Now only [the class](/classes/x/).")
    workflow.publish(new, publisher, confirm_broken_links=True)
    assert list(InternalLink.objects.filter(source=web["alpha"]).values_list("revision", "target_kind")) == [
        (new.pk, "class")
    ]
    # Beta's rows were not deleted and rewritten: the same primary keys are still there.
    assert set(InternalLink.objects.exclude(source=web["alpha"]).values_list("pk", flat=True)) == others
    assert list(linkgraph.linking_to(web["beta"])) == []


def test_unpublishing_removes_the_monographs_outgoing_links(web):
    publisher = make_user("carol", "Publishers")
    web["alpha"].live_revision.unpublish(publisher, "Withdrawn")
    assert not InternalLink.objects.filter(source=web["alpha"]).exists()
    assert InternalLink.objects.filter(source=web["beta"]).exists()


def test_rebuild_links_command_rebuilds_the_whole_graph(web):
    InternalLink.objects.all().delete()
    call_command("rebuild_links", verbosity=0)
    assert InternalLink.objects.count() == 5


def test_loaddata_builds_the_graph(seeded):
    assert InternalLink.objects.exists()


def test_the_monograph_page_shows_what_links_here(web, client):
    client.force_login(make_user("bob", "Proof-readers"))
    response = client.get(reverse("admin:monographs_monograph_change", args=[web["beta"].pk]))
    html = response.content.decode()
    section = html[html.index('id="links-here"') :]
    assert "alphazol" in section and "Betabrand" in section and "r1" in section
    assert reverse("admin:monographs_revision_change", args=[web["alpha"].live_revision.pk]) in section


def test_the_unpublish_form_lists_the_links_left_pointing_at_nothing(web, client):
    client.force_login(make_user("carol", "Publishers"))
    response = client.get(reverse("admin:monographs_revision_change", args=[web["beta"].live_revision.pk]))
    html = response.content.decode()
    listed = html[html.index('id="unpublish-dangling"') : html.index('id="wf-unpublish-comment"')]
    assert "alphazol r1" in listed and "Betabrand" in listed and "/drugs/betabrand/" in listed
    gamma = Monograph.objects.get(slug="gammacillin")  # its guide is linked to, not its drug page
    response = client.get(reverse("admin:monographs_revision_change", args=[gamma.live_revision.pk]))
    assert "No other live monograph links here." in response.content.decode()


# Names that agree -------------------------------------------------------------------------------


def test_a_brand_claimed_by_two_drugs(db):
    factories.monograph(factories.drug("Onemab", brands=["Sharex"]))
    two = factories.drug("Twomab")
    factories.monograph(two)
    BrandName.objects.create(drug=two, name="SHAREX", slug="sharex-2")  # brand slugs are unique, names not
    factories.monograph(factories.drug("Threemab", brands=["Ownex"]))
    assert found() == {("brand_shared", "brand:sharex")}


def test_distinct_brands_agree(db):
    factories.monograph(factories.drug("Onemab", brands=["Sharex"]))
    factories.monograph(factories.drug("Twomab", brands=["Sharez"]))
    assert found() == set()


def test_an_alias_that_is_another_drugs_inn_or_brand(db):
    one = factories.drug("Onemab")
    factories.monograph(one)
    factories.monograph(factories.drug("Twomab", brands=["Twobrand"]))
    Alias.objects.create(drug=one, name="twomab", slug="twomab-alias")
    Alias.objects.create(drug=one, name="Twobrand", slug="twobrand-alias", kind=Alias.Kind.FORMER)
    Alias.objects.create(drug=one, name="Onemabum", slug="onemabum")
    twomab = Monograph.objects.get(slug="twomab").drug_id
    assert found() == {
        ("alias_clash", f"alias:twomab-alias:{twomab}:INN"),
        ("alias_clash", f"alias:twobrand-alias:{twomab}:brand"),
    }


def test_a_class_with_no_live_drug(db):
    factories.monograph(factories.drug("Livemab", classes=["Live class"]))
    factories.monograph(factories.drug("Draftmab", classes=["Draft class"]), status=S.DRAFT)
    parent = DrugClass.objects.create(name="Parent class", slug="parent-class")
    DrugClass.objects.filter(slug="live-class").update(parent=parent)
    DrugClass.objects.create(name="Empty class", slug="empty-class")
    kinds = {key for kind, key in found() if kind == "class_without_live_drug"}
    # A parent counts as live through its child.
    assert kinds == {"class:draft-class", "class:empty-class"}


def test_a_drug_whose_primary_monograph_is_missing_or_unpublished(db):
    factories.monograph(factories.drug("Livemab"))
    factories.monograph(factories.drug("Draftmab"), status=S.DRAFT)
    factories.monograph(factories.drug("Sidemab"), primary=False)
    factories.drug("Barenab")
    assert found() == {
        ("primary_missing", "drug:draftmab"),
        ("primary_missing", "drug:sidemab"),
        ("primary_missing", "drug:barenab"),
    }


# Interactions that agree ------------------------------------------------------------------------

ALPHA_BODY = """## Dosage

Take with water. Betamab is unrelated here.

## Interactions

Avoid with **Gammabrand**: it raises levels. Nothing else is known.

## Storage

Keep cool; Deltamab is stored the same way.
"""


def interaction_web(gamma_body: str):
    factories.monograph(factories.drug("Alphazol"), body=ALPHA_BODY)
    factories.monograph(factories.drug("Betamab"), body="## Interactions\n\nNone known.")
    factories.monograph(factories.drug("Gammacillin", brands=["Gammabrand"]), body=gamma_body)
    factories.monograph(factories.drug("Deltamab"), body="")


def test_an_interaction_named_on_one_side_only(db):
    interaction_web("## Drug interactions\n\nNone known.")
    alpha, gamma = (Monograph.objects.get(slug=s).drug_id for s in ("alphazol", "gammacillin"))
    findings = consistency.findings()
    assert [(f.kind, f.key) for f in findings] == [("interaction_one_sided", f"interaction:{alpha}:{gamma}")]
    assert findings[0].evidence == (
        "Alphazol: Avoid with Gammabrand: it raises levels.",
        "Gammacillin's Interactions section: None known.",
    )


def test_each_direction_is_checked(db):
    interaction_web("## Interactions\n\nAlphazol raises levels; so does betamab.")
    beta, gamma = (Monograph.objects.get(slug=s).drug_id for s in ("betamab", "gammacillin"))
    assert found() == {("interaction_one_sided", f"interaction:{gamma}:{beta}")}


def test_an_interaction_named_on_both_sides(db):
    interaction_web("### Interactions with other drugs\n\nAlphazol raises gammacillin levels.")
    assert found() == set()


def test_a_monograph_without_an_interactions_section_is_the_other_side(db):
    interaction_web("## Uses\n\nAlphazol is mentioned, but not under Interactions.")
    [finding] = consistency.findings()
    assert finding.evidence[-1] == "Gammacillin's live monograph has no Interactions section."


def test_names_outside_the_interactions_section_are_not_checked(db):
    factories.monograph(factories.drug("Alphazol"), body=ALPHA_BODY.replace("**Gammabrand**", "food"))
    factories.monograph(factories.drug("Betamab"))
    factories.monograph(factories.drug("Deltamab"))
    assert found() == set()


def test_the_section_ends_at_the_next_heading_of_its_level():
    body = "# Drug\n## Interactions\nOne.\n### Detail\nTwo.\n## Storage\nThree."
    assert consistency.interaction_section(body) == "One.\n### Detail\nTwo."
    assert consistency.interaction_section("## Uses\nNone.") is None


# Dismissal and the report -----------------------------------------------------------------------


def test_a_dismissed_finding_stays_dismissed_until_its_evidence_changes(db):
    interaction_web("## Interactions\n\nNone known.")
    publisher = make_user("carol", "Publishers")
    [finding] = consistency.findings()
    consistency.dismiss(finding.fingerprint, "Gammacillin's label says nothing either", publisher)
    result = consistency.report()
    assert result.open == [] and [f.key for f, _ in result.dismissed] == [finding.key]
    call_command("check_consistency", verbosity=0)  # exits 0: nothing left undismissed
    # Gammacillin's Interactions section changes (still without Alphazol): the evidence changed.
    gamma = Monograph.objects.get(slug="gammacillin")
    factories.publish_new_revision(gamma, body="## Interactions\n\nNone known; ask a pharmacist.")
    assert [f.key for f in consistency.report().open] == [finding.key]


def test_dismissing_needs_a_reason_and_a_current_finding(db):
    interaction_web("## Interactions\n\nNone known.")
    publisher = make_user("carol", "Publishers")
    [finding] = consistency.findings()
    with pytest.raises(consistency.DismissError, match="reason"):
        consistency.dismiss(finding.fingerprint, "  ", publisher)
    with pytest.raises(consistency.DismissError, match="evidence changed"):
        consistency.dismiss("0" * 64, "fine", publisher)
    assert not ConsistencyDismissal.objects.exists()


def test_check_consistency_exits_non_zero_with_findings_not_dismissed(db, capsys):
    factories.drug("Barenab")
    with pytest.raises(CommandError) as raised:
        call_command("check_consistency")
    assert raised.value.returncode == 1
    out = capsys.readouterr().out
    assert "Drugs without a live primary monograph (1)" in out and "Barenab has no primary monograph." in out


def test_the_report_is_for_proof_readers_and_publishers(db, client):
    factories.drug("Barenab")
    client.force_login(make_user("alice", "Authors"))
    assert client.get(reverse("admin:consistency")).status_code == 403
    assert client.post(reverse("admin:consistency"), {"fingerprint": "x", "reason": "y"}).status_code == 403
    client.force_login(make_user("bob", "Proof-readers"))
    response = client.get(reverse("admin:consistency"))
    assert response.status_code == 200
    assert "Barenab has no primary monograph." in response.content.decode()


def test_dismissing_from_the_report_records_who_and_why(db, client):
    factories.drug("Barenab")
    publisher = make_user("carol", "Publishers")
    client.force_login(publisher)
    [finding] = consistency.findings()
    response = client.post(
        reverse("admin:consistency"), {"fingerprint": finding.fingerprint, "reason": "Listed for comparisons only"}
    )
    assert response.status_code == 302
    dismissal = ConsistencyDismissal.objects.get()
    assert (dismissal.dismissed_by, dismissal.reason, dismissal.kind) == (
        publisher,
        "Listed for comparisons only",
        "primary_missing",
    )
    page = client.get(reverse("admin:consistency")).content.decode()
    assert "Dismissed by Carol Tester" in page and "Listed for comparisons only" in page


def test_the_dashboard_shows_the_count(db, client):
    factories.drug("Barenab")
    factories.drug("Otherab")
    client.force_login(make_user("bob", "Proof-readers"))
    # The dashboard never runs the checks itself: it shows the count of the last stored run.
    assert "Consistency across monographs (run the checks)" in client.get(reverse("admin:index")).content.decode()
    assert client.get(reverse("admin:consistency")).status_code == 200
    html = client.get(reverse("admin:index")).content.decode()
    assert "Consistency across monographs: 2 findings to look at" in html
    client.force_login(make_user("alice", "Authors"))
    assert 'id="consistency-link"' not in client.get(reverse("admin:index")).content.decode()


def test_the_stored_findings_follow_a_publish(db, client, django_capture_on_commit_callbacks):
    """The dashboard and the report share one stored run of the checks; a publish updates it."""
    mono = factories.monograph(factories.drug("Draftmab"), status=S.DRAFT)
    client.force_login(make_user("carol", "Publishers"))
    client.get(reverse("admin:consistency"))  # runs the checks and stores the run
    assert "1 finding to look at" in client.get(reverse("admin:index")).content.decode()
    rev = mono.revisions.get()
    Revision.objects.filter(pk=rev.pk).update(status=S.APPROVED)
    rev.refresh_from_db()
    assert "1 finding to look at" in client.get(reverse("admin:index")).content.decode()  # stored, still
    with django_capture_on_commit_callbacks(execute=True):
        workflow.publish(rev, make_user("pam", "Publishers"))
    assert "0 findings to look at" in client.get(reverse("admin:index")).content.decode()


def test_the_report_is_paged(db, client, monkeypatch):
    monkeypatch.setattr(consistency, "PAGE_SIZE", 2)
    for name in ("Aab", "Bab", "Cab"):
        factories.drug(name)
    client.force_login(make_user("bob", "Proof-readers"))
    first = client.get(reverse("admin:consistency")).content.decode()
    second = client.get(reverse("admin:consistency"), {"page": 2}).content.decode()
    assert "Aab has no" in first and "Bab has no" in first and "Cab has no" not in first
    assert "Cab has no" in second and "Page 2 of 2" in second


def test_check_consistency_stores_its_run_for_the_dashboard(db, client):
    factories.drug("Barenab")
    with pytest.raises(CommandError):
        call_command("check_consistency", verbosity=0)
    client.force_login(make_user("bob", "Proof-readers"))
    assert "1 finding to look at" in client.get(reverse("admin:index")).content.decode()


# Contraindications that name a class ------------------------------------------------------------


def contraindication_web(beta_body: str):
    factories.monograph(
        factories.drug("Alphazol"),
        body="## Contraindications\n\nDo not combine with **bisphosphonates** or food.",
    )
    factories.monograph(factories.drug("Betronate", classes=["Bisphosphonate"]), body=beta_body)
    factories.monograph(factories.drug("Deltamab", classes=["Monoclonal antibodies"]), body="")


def test_a_contraindicated_class_whose_drug_does_not_name_the_drug_back(db):
    contraindication_web("## Interactions\n\nNone known.")
    alpha, beta = (Monograph.objects.get(slug=s).drug_id for s in ("alphazol", "betronate"))
    klass = DrugClass.objects.get(slug="bisphosphonate").pk
    findings = consistency.findings()
    assert [(f.kind, f.key) for f in findings] == [
        ("contraindication_class_one_sided", f"contraindication:{alpha}:{klass}:{beta}")
    ]
    assert findings[0].evidence == (
        "Alphazol: Do not combine with bisphosphonates or food.",
        "Betronate's Interactions and Contraindications: None known.",
    )


def test_a_contraindicated_class_whose_drugs_name_the_drug_back(db):
    contraindication_web("## Contraindications\n\nAlphazol.")
    assert found() == set()


# Stale comparisons ------------------------------------------------------------------------------

X_BODY = "## Dosage\n\n60 mg every 6 months.\n\n## Storage\n\nBelow 25 degrees."


def stale_web():
    """Yotamab's monograph has a comparison with Xenomab as a column and a "Dose" row, published (through
    the workflow) while Xenomab r1 was live."""
    x, y = factories.drug("Xenomab"), factories.drug("Yotamab")
    xm = factories.monograph(x, body=X_BODY)
    ym = factories.monograph(y, body="## Dosage\n\n5 mg yearly.", status=S.APPROVED, proof_reader=None)
    rev = ym.revisions.get()
    factories.comparison(rev, "x-vs-y", [x, y], attributes=("Dose",))
    workflow.publish(rev, make_user("carol", "Publishers"), confirm_broken_links=True)
    return xm


def test_publishing_records_what_a_comparison_was_checked_against(db):
    xm = stale_web()
    review = ComparisonReview.objects.get(drug=xm.drug)
    assert review.against == xm.live_revision


def test_a_comparison_is_stale_when_numbers_in_the_sections_it_covers_change(db):
    xm = stale_web()
    factories.publish_new_revision(xm, body=X_BODY.replace("60 mg", "120 mg"))
    [finding] = consistency.comparisons_stale()
    assert finding.evidence == ("Dose: was 60 mg, 6 months; now 120 mg, 6 months",)
    assert "re-check" in finding.message and "Xenomab r1" in finding.message


def test_numbers_outside_the_covered_sections_leave_the_comparison_alone(db):
    xm = stale_web()
    factories.publish_new_revision(xm, body=X_BODY.replace("25 degrees", "30 degrees"))
    assert consistency.comparisons_stale() == []


def test_a_proof_reader_confirms_a_re_checked_comparison(db, client):
    xm = stale_web()
    factories.publish_new_revision(xm, body=X_BODY.replace("60 mg", "120 mg"))
    [finding] = consistency.comparisons_stale()
    with pytest.raises(consistency.ConfirmError):
        consistency.confirm_comparison(finding.review, make_user("alice", "Authors"))
    proof_reader = make_user("bob", "Proof-readers")
    client.force_login(proof_reader)
    assert 'name="confirm_review"' in client.get(reverse("admin:consistency")).content.decode()
    client.post(reverse("admin:consistency"), {"confirm_review": finding.review})
    review = ComparisonReview.objects.get(pk=finding.review)
    assert (review.against, review.confirmed_by) == (xm.live_revision, proof_reader)
    assert consistency.comparisons_stale() == []


def test_the_report_lists_findings_in_the_order_of_their_kinds(db):
    interaction_web("## Interactions\n\nNone known.")
    factories.drug("Barenab")
    factories.monograph(factories.drug("Onemab", brands=["Sharex"]))
    BrandName.objects.create(drug=Monograph.objects.get(slug="betamab").drug, name="Sharex", slug="sharex-2")
    kinds = [finding.kind for finding, _ in consistency.report().rows]
    assert kinds == ["interaction_one_sided", "brand_shared", "primary_missing"]


# Stale comparisons: drugs named only in the cells ----------------------------------------------


def cell_web(cell: str):
    """Yotamab's comparison has Yotamab and Zetamab as columns and a "Dose" row; one cell reads `cell`.
    Xenomab (brand Xenobrand) is no column of it.  Published through the workflow while Xenomab r1 is live."""
    x = factories.drug("Xenomab", brands=["Xenobrand"])
    y, z = factories.drug("Yotamab"), factories.drug("Zetamab")
    xm = factories.monograph(x, body=X_BODY)
    ym = factories.monograph(y, body="## Dosage\n\n5 mg yearly.", status=S.APPROVED, proof_reader=None)
    rev = ym.revisions.get()
    table = factories.comparison(rev, "y-vs-z", [y, z], attributes=("Dose",))
    ComparisonCell.objects.filter(subject__comparison=table, subject__position=2).update(text=cell)
    workflow.publish(rev, make_user("carol", "Publishers"), confirm_broken_links=True)
    return xm


@pytest.mark.parametrize("cell", ["Half the dose of Xenomab.", "As for **XENOBRAND** (see its label)."])
def test_a_comparison_naming_a_drug_in_its_cells_records_its_live_revision(db, cell):
    xm = cell_web(cell)
    assert ComparisonReview.objects.get(drug=xm.drug).against == xm.live_revision


def test_a_comparison_naming_a_drug_in_its_cells_is_stale_when_its_numbers_change(db, client):
    xm = cell_web("Half the dose of Xenomab.")
    factories.publish_new_revision(xm, body=X_BODY.replace("60 mg", "120 mg"))
    [finding] = consistency.comparisons_stale()
    assert finding.evidence == ("Dose: was 60 mg, 6 months; now 120 mg, 6 months",)
    assert "names Xenomab in its cells" in finding.message and "Xenomab r1" in finding.message
    client.force_login(make_user("bob", "Proof-readers"))
    page = client.get(reverse("admin:consistency")).content.decode()
    assert "names Xenomab in its cells" in page and "now 120 mg" in page


def test_a_comparison_whose_cells_do_not_name_the_drug_is_not_stale(db):
    xm = cell_web("Half the dose of the others.")
    factories.publish_new_revision(xm, body=X_BODY.replace("60 mg", "120 mg"))
    assert not ComparisonReview.objects.filter(drug=xm.drug).exists()
    assert consistency.comparisons_stale() == []


def test_the_names_read_for_cells_are_the_names_the_whole_index_finds(db):
    factories.drug("Xenomab", brands=["Xeno Brand"])
    factories.drug("Otherab")
    factories.drug("Unnamedab", brands=["Unbrand"])
    texts = ["Like xeno brand, not otherab-like", "Xenomab's dose"]
    whole = consistency.NameIndex()
    few = consistency.NameIndex.for_texts(texts)
    assert [few.named_in(t) for t in texts] == [whole.named_in(t) for t in texts]
    assert len(few.names) == 3 and len(whole.names) == 5  # only the names the texts hold


def test_a_page_of_the_report_reads_its_findings_from_the_stored_run(db, client, monkeypatch):
    monkeypatch.setattr(consistency, "PAGE_SIZE", 2)
    for name in ("Aab", "Bab", "Cab", "Dab", "Eab"):
        factories.drug(name)
    client.force_login(make_user("bob", "Proof-readers"))
    client.get(reverse("admin:consistency"))  # runs the checks and stores the run

    def no_run():
        raise AssertionError("the checks ran again")

    monkeypatch.setattr(consistency, "findings", no_run)
    third = client.get(reverse("admin:consistency"), {"page": 3}).content.decode()
    assert "Eab has no" in third and "Aab has no" not in third and "5 findings to look at" in third
    assert consistency.stored_open_count() == 5


def test_a_change_readers_see_makes_the_stored_run_stale(db):
    factories.drug("Barenab")
    consistency.report_page(1)
    assert consistency.stored_open_count() == 1
    ContentGeneration.move_on()
    assert consistency.stored_open_count() is None
