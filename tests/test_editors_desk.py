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
