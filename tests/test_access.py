"""Who may reach what: a role × URL × method matrix over the public site and the admin."""

import pytest
from django.test import Client
from django.urls import reverse

from monographs.models import Drug, Monograph, Revision, Topic, WorkflowEvent
from monographs.search import reindex_all

from . import factories
from .conftest import make_user

pytestmark = pytest.mark.django_db
SECRET = "Zzsecretword"
ROLES = ["anonymous", "oscar", "alice", "bob", "carol"]


@pytest.fixture
def world(seeded):
    """Seed content plus everything that must stay private: a draft, an approved revision, a withdrawn one."""
    people = {
        "oscar": make_user("oscar"),
        "alice": make_user("alice", "Authors"),
        "bob": make_user("bob", "Proof-readers"),
        "carol": make_user("carol", "Publishers"),
    }
    draft = Monograph.objects.get(slug="denosumab").start_draft(people["alice"])
    draft.body += f"\n\nA new sentence with {SECRET} in it."
    draft.summary = f"{SECRET} summary"
    draft.save_draft(people["alice"], draft.version)

    never = factories.monograph(factories.drug("Secretumab"), status=Revision.Status.DRAFT, body=SECRET)
    approved = factories.monograph(factories.drug("Approvamab"), status=Revision.Status.APPROVED, body=SECRET)
    withdrawn = factories.monograph(factories.drug("Withdrawnumab"), body=SECRET)
    withdrawn.revisions.update(status=Revision.Status.UNPUBLISHED)
    reindex_all()
    return {"people": people, "draft": draft, "private": [never, approved, withdrawn]}


def client_for(world, role, **kwargs):
    client = Client(**kwargs)
    if role != "anonymous":
        client.force_login(world["people"][role])
    return client


def public_urls(world):
    urls = [
        "/",
        "/drugs/",
        "/drugs/denosumab/",
        "/drugs/denosumab.json",
        "/drugs/denosumab/fhir.json",
        "/monographs/denosumab-patient-information/",
        "/classes/antiresorptive-agents/",
        "/compare/comparison-of-denusomab-and-bisphosphonates/",
        f"/search/?q={SECRET}",
        "/search/?q=secretumab",
        "/search/?q=approvamab",
        "/search/?q=withdrawnumab",
        "/feeds/updates/",
        "/sitemap.xml",
        "/sitemap-monographs.xml",
        "/sitemap-comparisons.xml",
        "/sitemap-classes.xml",
        "/robots.txt",
    ]
    for monograph in world["private"]:
        slug = monograph.drug.slug
        urls += [f"/drugs/{slug}/", f"/drugs/{slug}.json", f"/drugs/{slug}/fhir.json", f"/monographs/{slug}/"]
    return urls


@pytest.mark.parametrize("role", ROLES)
def test_unpublished_content_never_leaks_from_public_urls(world, role):
    client = client_for(world, role)
    for url in public_urls(world):
        response = client.get(url)
        assert response.status_code in (200, 301, 404), url
        body = response.content.decode()
        if url.startswith("/search/"):
            # The page repeats the query; what must not appear is a hit: a highlight or a link.
            assert "<mark>" not in body, url
            assert not any(f'href="/drugs/{m.drug.slug}/"' in body for m in world["private"]), url
            continue
        assert SECRET not in body, url
        for name in ("Secretumab", "Approvamab", "Withdrawnumab"):
            assert name not in body, (url, name)
    for monograph in world["private"]:
        assert client.get(f"/drugs/{monograph.drug.slug}/").status_code == 404


def test_an_unpublished_monographs_own_address_answers_like_a_missing_one(world):
    """/monographs/<slug>/ of a drug's primary monograph or a topic's level redirects to where it is read;
    while nothing of it is live, that redirect would tell anyone the slug is taken, and by which drug or
    topic."""
    drug = factories.drug("Embargomab")
    factories.monograph(drug, slug="embargo-plan", status=Revision.Status.DRAFT)
    topic = Topic.objects.create(name="Secret procedure", slug="secret-procedure")
    level = Monograph.objects.create(slug="secret-procedure-intro", kind="patient", topic=topic, level=1)
    factories.revision(level, status=Revision.Status.APPROVED, title="Secret procedure")
    missing = Client().get("/monographs/no-such-monograph/")
    for url in ("/monographs/embargo-plan/", "/monographs/secret-procedure-intro/"):
        response = Client().get(url)
        assert (response.status_code, response.get("Location")) == (missing.status_code, None), url


@pytest.mark.parametrize("role", ROLES)
def test_public_pages_change_nothing_and_refuse_other_methods(world, role):
    client = client_for(world, role)
    for url in ("/", "/drugs/", "/drugs/denosumab/", "/search/?q=x"):
        assert client.post(url).status_code == 405, url


def admin_urls(world):
    draft = world["draft"]
    monograph = draft.monograph
    return [
        reverse("admin:monographs_revision_changelist"),
        reverse("admin:monographs_revision_change", args=[draft.pk]),
        reverse("admin:monographs_revision_diff", args=[draft.pk]),
        reverse("admin:monographs_revision_preview", args=[draft.pk]),
        reverse("admin:monographs_monograph_changelist"),
        reverse("admin:monographs_monograph_change", args=[monograph.pk]),
        reverse("admin:monographs_drug_changelist"),
        reverse("admin:monographs_workflowevent_changelist"),
    ]


EXPECTED_ADMIN_GET = {"anonymous": 302, "oscar": 403, "alice": 200, "bob": 200, "carol": 200}


@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_by_role(world, role):
    client = client_for(world, role)
    for url in admin_urls(world):
        response = client.get(url)
        assert response.status_code == EXPECTED_ADMIN_GET[role], (url, response.status_code)
        if role == "anonymous":
            assert response["Location"].startswith("/admin/login/")


def state(world):
    return (
        list(Revision.objects.order_by("pk").values_list("pk", "status", "version", "body")),
        WorkflowEvent.objects.count(),
        Drug.objects.count(),
    )


def state_changing_requests(world):
    draft = world["draft"]
    workflow = [
        (reverse("admin:monographs_revision_workflow", args=[draft.pk, action]), {"comment": "c", "change_note": "n"})
        for action in ("submit", "approve", "request_changes", "publish", "schedule", "unpublish", "revert")
    ]
    return workflow + [
        (reverse("admin:monographs_monograph_edit", args=[draft.monograph_id]), {}),
        (
            reverse("admin:monographs_revision_change", args=[draft.pk]),
            {"title": "hijacked", "body": "hijacked", "expected_version": draft.version},
        ),
        (reverse("admin:monographs_drug_add"), {"name": "Hijackamab", "slug": "hijackamab"}),
        ("/markdownx/upload/", {}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_state_change_needs_a_csrf_token(world, role):
    client = client_for(world, role, enforce_csrf_checks=True)
    before = state(world)
    for url, data in state_changing_requests(world):
        assert client.post(url, data).status_code in (302, 403), url
    assert state(world) == before


@pytest.mark.parametrize("role", ROLES)
def test_state_changes_never_happen_on_get(world, role):
    client = client_for(world, role)
    before = state(world)
    for url, data in state_changing_requests(world):
        client.get(url, data)
    assert state(world) == before


@pytest.mark.parametrize("role", ["anonymous", "oscar"])
def test_outsiders_change_nothing_even_with_a_token(world, role):
    client = client_for(world, role)
    before = state(world)
    for url, data in state_changing_requests(world):
        assert client.post(url, data).status_code in (302, 403), url
    assert state(world) == before


def test_four_eyes_holds_for_a_proof_reader_who_edited(world):
    editor = make_user("eve", "Authors", "Proof-readers")
    draft = world["draft"]
    draft.refresh_from_db()
    draft.body += "\n\nEve's line."
    draft.save_draft(editor, draft.version)
    draft.submit(world["people"]["alice"], "note")
    client = client_for({"people": {"eve": editor}}, "eve")
    client.post(reverse("admin:monographs_revision_workflow", args=[draft.pk, "approve"]))
    assert Revision.objects.get(pk=draft.pk).status == Revision.Status.IN_REVIEW
