"""A publish updates the stored consistency findings in place: the next report page reads stored rows only,
and what it lists is what a full run of the checks finds."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.urls import reverse

from monographs import consistency, proposals, workflow
from monographs.models import ConsistencyFinding, Drug, DrugClass, Monograph, Revision

from . import factories
from .conftest import make_user
from .test_reliability import run_threads

S = Revision.Status


def stored() -> list[tuple]:
    """The stored run as the report pages through it."""
    return [
        (row.sort, row.kind, row.key, row.message, row.evidence, row.fixes, row.fingerprint, row.review)
        for row in ConsistencyFinding.objects.order_by("sort", "pk")
    ]


def as_rows(found) -> list[tuple]:
    return [
        (f.order, f.kind, f.key, f.message, list(f.evidence), [list(fix) for fix in f.fixes], f.fingerprint, f.review)
        for f in found
    ]


@pytest.fixture
def full_run(db, monkeypatch):
    """Stores a full run of the checks when called, then makes any further full run fail the test; returns
    the checks over the whole reference (to compare with), which do not store anything."""
    real = consistency._full

    def store_then_forbid():
        consistency.run_and_store()

        def forbidden():
            raise AssertionError("the checks ran over the whole reference")

        monkeypatch.setattr(consistency, "_full", forbidden)
        return lambda: real()[0]

    return store_then_forbid


def keys() -> set[tuple[str, str]]:
    return {(kind, key) for _, kind, key, *_ in stored()}


def publish(mono: Monograph, body: str) -> Revision:
    rev = mono.revisions.filter(status__in=[S.DRAFT, S.IN_REVIEW, S.APPROVED]).first()  # at most one is open
    if rev is None:
        rev = factories.revision(mono, status=S.APPROVED, body=body)
    else:
        Revision.objects.filter(pk=rev.pk).update(status=S.APPROVED, body=body)
        rev.refresh_from_db()
    workflow.publish(rev, make_user(f"pub{rev.pk}", "Publishers"), confirm_broken_links=True)
    return rev


def change(obj, **after) -> None:
    """A proposed change of a drug or class, approved: the way names and classes change."""
    if {**proposals.snapshot(obj), **after} == proposals.snapshot(obj):
        return  # nothing to propose
    proposal = workflow.propose(
        obj, {**proposals.snapshot(obj), **after}, make_user(f"p{obj.pk}{random.random()}", "Publishers")
    )
    workflow.approve_change(proposal, make_user(f"r{proposal.pk}", "Proof-readers"))


def drug_id(slug: str) -> int:
    return Monograph.objects.get(slug=slug).drug_id


def test_a_publish_that_makes_an_interaction_one_sided_is_listed_without_a_full_run(full_run, client):
    factories.monograph(factories.drug("Alphazol"), body="## Interactions\n\nAvoid with **Gammabrand**.")
    gamma = factories.monograph(
        factories.drug("Gammacillin", brands=["Gammabrand"]), body="## Interactions\n\nAlphazol raises levels."
    )
    everything = full_run()
    assert keys() == set()
    publish(gamma, "## Interactions\n\nNone known.")
    key = f"interaction:{drug_id('alphazol')}:{drug_id('gammacillin')}"
    assert keys() == {("interaction_one_sided", key)}
    assert stored() == as_rows(everything())
    client.force_login(make_user("bob", "Proof-readers"))
    page = client.get(reverse("admin:consistency")).content.decode()  # reads the stored rows: no full run
    assert "Alphazol&#x27;s Interactions section names Gammacillin" in page and "1 finding to look at" in page


def test_a_publish_that_names_the_drug_back_removes_the_finding_without_a_full_run(full_run):
    factories.monograph(factories.drug("Alphazol"), body="## Interactions\n\nAvoid with **Gammabrand**.")
    gamma = factories.monograph(factories.drug("Gammacillin", brands=["Gammabrand"]), body="## Uses\n\nNone.")
    factories.drug("Barenab")  # a finding the publish leaves alone
    everything = full_run()
    assert keys() == {
        ("interaction_one_sided", f"interaction:{drug_id('alphazol')}:{drug_id('gammacillin')}"),
        ("primary_missing", "drug:barenab"),
    }
    publish(gamma, "## Interactions\n\nAlphazol raises levels.")
    assert keys() == {("primary_missing", "drug:barenab")}
    assert stored() == as_rows(everything())


def test_a_new_brand_makes_another_drugs_unchanged_section_name_it(full_run):
    """Alphazol's section names “Newbrand”, no drug's name when the run is stored; Gammacillin is given
    that brand: Alphazol's section, not published again, now names Gammacillin, which does not name it."""
    factories.monograph(factories.drug("Alphazol"), body="## Interactions\n\nAvoid with Newbrand: it raises levels.")
    gamma = factories.drug("Gammacillin")
    factories.monograph(gamma, body="## Interactions\n\nNone known.")
    everything = full_run()
    assert keys() == set()
    change(gamma, brands=[{"name": "Newbrand", "slug": "newbrand", "notes": ""}])
    [finding] = consistency.cached_findings()
    assert finding.key == f"interaction:{drug_id('alphazol')}:{gamma.pk}"
    assert finding.evidence == (
        "Alphazol: Avoid with Newbrand: it raises levels.",
        "Gammacillin's Interactions section: None known.",
    )
    assert stored() == as_rows(everything())
    # And the brand taken away again: the finding goes.
    change(gamma, brands=[])
    assert keys() == set() and stored() == as_rows(everything())


def test_a_drug_put_in_a_contraindicated_class_is_listed_without_a_full_run(full_run):
    factories.monograph(factories.drug("Alphazol"), body="## Contraindications\n\nNot with bisphosphonates.")
    factories.drug_class("Bisphosphonate")
    beta = factories.drug("Betronate")
    factories.monograph(beta, body="## Interactions\n\nNone known.")
    everything = full_run()
    assert keys() == {("class_without_live_drug", "class:bisphosphonate")}
    change(beta, classes=["bisphosphonate"])
    klass = DrugClass.objects.get(slug="bisphosphonate").pk
    assert keys() == {("contraindication_class_one_sided", f"contraindication:{drug_id('alphazol')}:{klass}:{beta.pk}")}
    assert stored() == as_rows(everything())


def test_confirming_a_comparison_updates_the_stored_run(full_run):
    x, y = factories.drug("Xenomab"), factories.drug("Yotamab")
    xm = factories.monograph(x, body="## Dosage\n\n60 mg.")
    ym = factories.monograph(y, body="## Dosage\n\n5 mg.", status=S.APPROVED, proof_reader=None)
    rev = ym.revisions.get()
    factories.comparison(rev, "x-vs-y", [x, y], attributes=("Dose",))
    workflow.publish(rev, make_user("carol", "Publishers"), confirm_broken_links=True)
    everything = full_run()
    publish(xm, "## Dosage\n\n120 mg.")
    [finding] = consistency.cached_findings()
    assert finding.kind == "comparison_stale" and stored() == as_rows(everything())
    consistency.confirm_comparison(finding.review, make_user("bob", "Proof-readers"))
    assert keys() == set() and stored() == as_rows(everything())


# Incremental equals full, on randomised small webs ----------------------------------------------

DRUGS = ["Alphazol", "Betamab", "Gammacillin", "Deltamab", "Epsilonib", "Zetavir"]
BRANDS = ["Sharex", "Ownex", "Tri Brand", "Quadrix", "Alphazol"]
ALIASES = ["Betamab", "Ownex", "Oldzol", "co-trimax", "Quadrix"]
CLASSES = ["Bisphosphonate", "Statin", "Antiresorptive agent"]
MENTIONS = [*DRUGS, *BRANDS, *ALIASES, "co trimax", "food", "bisphosphonates", "statins", "antiresorptive agents"]


def body(rng: random.Random) -> str:
    def some() -> str:
        return " ".join(f"Avoid {rng.choice(MENTIONS)}." for _ in range(rng.randint(0, 3)))

    parts = [f"## Dosage\n\n{rng.choice([5, 60, 120])} mg daily."]
    if rng.random() < 0.8:
        parts.append(f"## Interactions\n\n{some()}")
    if rng.random() < 0.6:
        parts.append(f"## Contraindications\n\n{some()}")
    return "\n\n".join(parts)


def slugged(name: str) -> str:
    return name.lower().replace(" ", "-")


def random_web(rng: random.Random) -> None:
    classes = {name: factories.drug_class(name) for name in CLASSES}
    if rng.random() < 0.5:
        DrugClass.objects.filter(pk=classes["Bisphosphonate"].pk).update(parent=classes["Antiresorptive agent"])
    drugs = []
    for name in rng.sample(DRUGS, rng.randint(3, len(DRUGS))):
        brands = rng.sample(BRANDS, rng.randint(0, 2))
        drug = factories.drug(name, classes=rng.sample(CLASSES, rng.randint(0, 2)))
        for brand in brands:  # brand slugs are unique, names need not be
            drug.brands.create(name=brand, slug=f"{slugged(brand)}-{drug.pk}")
        for alias in rng.sample(ALIASES, rng.randint(0, 1)):
            drug.aliases.create(name=alias, slug=f"{slugged(alias)}-{drug.pk}")
        status = rng.choice([S.PUBLISHED, S.PUBLISHED, S.PUBLISHED, S.DRAFT, None])
        if status is not None:
            factories.monograph(drug, body=body(rng), status=status)
        drugs.append(drug)
    live = [m for m in Monograph.objects.filter(revisions__status=S.PUBLISHED) if m.revisions.count() == 1]
    if len(live) >= 2:  # a comparison, published through the workflow so that its reviews are recorded
        holder, other = live[0], live[1]
        rev = factories.revision(holder, status=S.APPROVED, body=holder.live_revision.body)
        factories.comparison(rev, "table", [holder.drug, other.drug], attributes=("Dose",))
        workflow.publish(rev, make_user("tabler", "Publishers"), confirm_broken_links=True)


def random_change(rng: random.Random) -> None:
    drug = rng.choice(list(Drug.objects.all()))
    what = rng.choice(["publish", "publish", "unpublish", "brands", "aliases", "classes", "rename", "reparent"])
    mono = Monograph.objects.filter(drug=drug, is_primary=True).first()
    if what == "publish" and mono is not None:
        publish(mono, body(rng))
    elif what == "unpublish" and mono is not None and mono.live_revision is not None:
        workflow.unpublish(mono.live_revision, make_user(f"u{rng.random()}", "Publishers"), "Withdrawn")
    elif what == "brands":
        names = rng.sample(BRANDS, rng.randint(0, 2))
        brands = [{"name": n, "slug": f"{slugged(n)}-{drug.pk}-{rng.randint(0, 10**6)}", "notes": ""} for n in names]
        change(drug, brands=brands)
    elif what == "aliases":
        names = rng.sample(ALIASES, rng.randint(0, 2))
        kinds = ["synonym", "former", "misspelling"]
        aliases = [
            {"name": n, "slug": f"{slugged(n)}-{drug.pk}-{rng.randint(0, 10**6)}", "kind": rng.choice(kinds)}
            for n in names
        ]
        change(drug, aliases=aliases)
    elif what == "classes":
        change(drug, classes=sorted(slugged(c) for c in rng.sample(CLASSES, rng.randint(0, 2))))
    elif what == "rename":
        change(drug, name=f"{drug.name}ex")
    elif what == "reparent":
        klass = DrugClass.objects.get(slug="bisphosphonate")
        parent = None if klass.parent_id else "antiresorptive-agent"
        change(klass, parent=parent)


@pytest.mark.parametrize("seed", range(24))
def test_the_stored_run_after_changes_is_what_a_full_run_finds(full_run, seed):
    rng = random.Random(seed)
    random_web(rng)
    everything = full_run()
    for _ in range(5):
        random_change(rng)
        assert consistency._current_run() is not None  # updated in place, not dropped
        assert stored() == as_rows(everything())


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises every writer, so there is no interleaving to test (CI runs both)",
)
def test_concurrent_publishes_each_update_the_stored_run(transactional_db):
    """Four publishes at once, each naming another drug: each updates the stored run after the one before
    it committed (none deadlocks), and the stored run is what a full run finds."""
    names = ["Alphazol", "Betamab", "Gammacillin", "Deltamab"]
    monos = [factories.monograph(factories.drug(name), body="## Interactions\n\nNone known.") for name in names]
    drafts = [
        factories.revision(mono, status=S.APPROVED, body=f"## Interactions\n\nAvoid {names[i - 1]}.")
        for i, mono in enumerate(monos)
    ]
    publishers = [make_user(f"pub{i}", "Publishers") for i in range(4)]
    consistency.run_and_store()
    results = run_threads(4, lambda i: workflow.publish(drafts[i], publishers[i], confirm_broken_links=True))
    assert results == [None] * 4
    assert consistency._current_run() is not None
    assert stored() == as_rows(consistency.findings())
    assert len(keys()) == 4  # each names the drug before it, which does not name it back


def test_dismissing_reads_the_stored_run_not_the_whole_reference(full_run):
    factories.monograph(factories.drug("Alphazol"), body="## Interactions\n\nAvoid with **Gammabrand**.")
    gamma = factories.monograph(
        factories.drug("Gammacillin", brands=["Gammabrand"]), body="## Interactions\n\nAlphazol raises levels."
    )
    full_run()
    publish(gamma, "## Interactions\n\nNone known.")  # the stored run is updated, and stays current
    [row] = consistency.ConsistencyFinding.objects.all()
    publisher = make_user("carol", "Publishers")
    consistency.dismiss(row.fingerprint, "Gammacillin's label says nothing either", publisher)
    assert consistency.report(cached=True).open == []
    with pytest.raises(consistency.DismissError, match="evidence changed"):
        consistency.dismiss("0" * 64, "fine", publisher)
