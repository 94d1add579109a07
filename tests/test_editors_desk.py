"""Finding things and knowing what comes next in the admin: search by any name, filters by person, open
drafts, "View on site" that never 404s, the dashboard's who/when/why, refusals in an editor's words."""

import pytest
from django.urls import reverse

from monographs.models import Monograph, Revision

from .test_workflow import to_review

pytestmark = pytest.mark.django_db
S = Revision.Status


def changelist(client, model: str, query: str = "") -> str:
    response = client.get(reverse(f"admin:monographs_{model}_changelist") + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("name", ["prolia", "xgeva", "denusomab", "denosumab"])
def test_monographs_and_revisions_are_found_by_brand_alias_and_inn(client, seeded, alice, name):
    client.force_login(alice)
    assert "denosumab-patient-information" in changelist(client, "monograph", f"?q={name}")
    assert "denosumab-patient-information" in changelist(client, "revision", f"?q={name}")


def test_revisions_filter_by_editor_and_the_dashboard_links_every_open_draft(client, draft, alice, bob):
    from .test_workflow import edit

    edit(draft, alice)
    client.force_login(bob)
    html = changelist(client, "revision", f"?editors__id__exact={alice.pk}")
    assert f'href="/admin/monographs/revision/{draft.pk}/change/' in html
    other = Revision.objects.exclude(pk=draft.pk).first()
    assert f'href="/admin/monographs/revision/{other.pk}/change/' not in html
    dashboard = client.get(reverse("admin:index")).content.decode()
    assert '?status__exact=draft">All open drafts (1)</a>' in dashboard


def test_view_on_site_opens_the_preview_for_anything_not_live(client, draft, alice):
    client.force_login(alice)
    page = client.get(reverse("admin:monographs_revision_change", args=[draft.pk])).content.decode()
    preview = reverse("admin:monographs_revision_preview", args=[draft.pk])
    assert f'href="{preview}"' in page
    assert client.get(preview).status_code == 200
    live = Revision.objects.live().get(monograph=draft.monograph)
    page = client.get(reverse("admin:monographs_revision_change", args=[live.pk])).content.decode()
    assert 'href="/drugs/denosumab/"' in page  # the live one: its public page


def test_a_new_monograph_views_on_site_as_its_preview(client, seeded, alice):
    from .conftest import add_dental_monograph

    client.force_login(alice)
    add_dental_monograph(client)
    monograph = Monograph.objects.get(slug="denosumab-dental")
    page = client.get(reverse("admin:monographs_monograph_change", args=[monograph.pk])).content.decode()
    assert reverse("admin:monographs_revision_preview", args=[monograph.revisions.get().pk]) in page


def test_a_revert_is_in_its_makers_drafts(client, seeded, carol):
    live = Revision.objects.live().get(monograph__slug="denosumab")
    restored = live.revert(carol)
    client.force_login(carol)
    dashboard = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:monographs_revision_change", args=[restored.pk]) in dashboard


def test_the_dashboard_says_who_submitted_when_and_why(client, draft, alice, bob):
    to_review(draft, alice)
    client.force_login(bob)
    dashboard = client.get(reverse("admin:index")).content.decode()
    assert f"Submitted by {alice.get_full_name()}" in dashboard and "ago</time>" in dashboard
    assert "“Dose interval corrected”" in dashboard


def test_a_refusal_names_the_move_in_an_editors_words(draft, alice):
    from monographs.workflow import WorkflowError

    to_review(draft, alice)
    with pytest.raises(WorkflowError, match="You do not have permission to send revisions back for changes"):
        draft.request_changes(alice, "no")


def test_every_page_has_a_favicon_that_exists(client, seeded, alice):
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg")
    client.force_login(alice)
    for url in ["/", "/drugs/denosumab/", "/nothing/here/", reverse("admin:index"), "/admin/monographs/revision/"]:
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in client.get(url).content.decode()
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/favicon.svg")


def test_a_sent_back_draft_shows_the_change_request_at_the_top_and_the_thread(client, draft, alice, bob):
    to_review(draft, alice)
    draft.request_changes(bob, "The interval is 6 months in the SmPC")
    client.force_login(alice)
    page = client.get(reverse("admin:monographs_revision_change", args=[draft.pk])).content.decode()
    request = page.split('id="change-request"')[1].split("</div>")[0]
    assert "Changes requested by Bob Tester" in request and "The interval is 6 months in the SmPC" in request
    thread = page.split('id="comment-thread"')[1].split("</details>")[0]
    assert "<strong>Alice Tester</strong> submitted" in thread and "Dose interval corrected" in thread
    assert "<strong>Bob Tester</strong> requested changes" in thread
    # Resubmitted, the request is history: in the thread, no longer at the top.
    from .test_workflow import edit

    edit(draft, alice, old="every 3 months", new="every 6 months")
    draft.submit(alice, "Interval back to 6 months")
    page = client.get(reverse("admin:monographs_revision_change", args=[draft.pk])).content.decode()
    assert 'id="change-request"' not in page and "The interval is 6 months in the SmPC" in page


def new_monograph(client, **fields):
    data = {
        "kind": "reference",
        "review_interval_months": 24,
        "legacy_paths-TOTAL_FORMS": 0,
        "legacy_paths-INITIAL_FORMS": 0,
        "revisions-TOTAL_FORMS": 0,
        "revisions-INITIAL_FORMS": 0,
        **fields,
    }
    return client.post(reverse("admin:monographs_monograph_add"), data, follow=True)


def test_one_screen_makes_a_new_drug_and_its_first_monograph(client, seeded, alice):
    from monographs.models import Drug

    client.force_login(alice)
    response = new_monograph(client, new_drug="Romosozumab", title="Romosozumab", body="## Dosage\n\n210 mg monthly.")
    drug = Drug.objects.get(name="Romosozumab")
    monograph = Monograph.objects.get(drug=drug)
    assert (monograph.slug, monograph.is_primary) == ("romosozumab", True)  # address from the title; primary
    draft = monograph.revisions.get()
    assert draft.body == "## Dosage\n\n210 mg monthly." and draft.status == S.DRAFT
    assert [c.author.user for c in draft.authors] == [alice]
    assert response.redirect_chain[-1][0] == reverse("admin:monographs_revision_change", args=[draft.pk])
    assert "press “Save and submit for review” when it is ready" in response.content.decode()
    assert client.get("/drugs/romosozumab/").status_code == 404  # nothing public before review


def test_a_typed_name_drugref_has_picks_that_drug_and_a_second_monograph_is_not_primary(client, seeded, alice):
    from monographs.models import Drug

    client.force_login(alice)
    new_monograph(client, new_drug="denosumab", title="Denosumab for men")
    monograph = Monograph.objects.get(slug="denosumab-for-men")
    assert monograph.drug == Drug.objects.get(slug="denosumab") and not monograph.is_primary
    assert Drug.objects.filter(name__iexact="denosumab").count() == 1


def test_a_slug_taken_gets_a_number_and_choosing_and_typing_a_drug_is_refused(client, seeded, alice):
    from monographs.models import Drug

    client.force_login(alice)
    new_monograph(client, drug=Drug.objects.get(slug="denosumab").pk, title="Denosumab")
    assert Monograph.objects.filter(slug="denosumab-2").exists()
    response = new_monograph(client, drug=Drug.objects.get(slug="denosumab").pk, new_drug="Romosozumab", title="X")
    assert "not both" in response.content.decode()
    assert not Drug.objects.filter(name="Romosozumab").exists()


def test_a_new_drug_that_clashes_is_refused_and_nothing_is_written(client, seeded, alice):
    from monographs.models import Drug

    client.force_login(alice)
    before = Drug.objects.count()
    response = new_monograph(client, new_drug="Denosumab!", title="")  # slug 'denosumab' is taken, no title
    assert response.status_code == 200 and "cannot be a new drug" in response.content.decode()
    assert Drug.objects.count() == before
