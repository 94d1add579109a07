"""The workflow through the admin: buttons, crafted POSTs, concurrent saves, diff, preview, dashboard."""

import re

from django.urls import reverse

from monographs.models import Monograph, Revision

from .conftest import add_dental_monograph, admin_form_data
from .test_workflow import DOSE, NEW_DOSE, to_approved, to_review

S = Revision.Status


def change_url(revision):
    return reverse("admin:monographs_revision_change", args=[revision.pk])


def workflow_url(revision, action):
    return reverse("admin:monographs_revision_workflow", args=[revision.pk, action])


def form_data(client, revision) -> dict:
    """The revision's change form as the browser would send it back."""
    return admin_form_data(client, change_url(revision))


def test_edit_opens_a_draft_from_the_live_revision(client, seeded, alice):
    client.force_login(alice)
    monograph = Monograph.objects.get(slug="denosumab")
    response = client.post(reverse("admin:monographs_monograph_edit", args=[monograph.pk]))
    draft = Revision.objects.get(monograph=monograph, status=S.DRAFT)
    assert response["Location"] == change_url(draft)
    assert client.post(reverse("admin:monographs_monograph_edit", args=[monograph.pk]))["Location"] == change_url(draft)


def test_an_author_saves_a_draft_through_the_form(client, draft, alice):
    client.force_login(alice)
    data = form_data(client, draft)
    data["body"] = data["body"].replace(DOSE, NEW_DOSE)
    response = client.post(change_url(draft), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    draft.refresh_from_db()
    assert NEW_DOSE in draft.body and draft.version == 2


def test_two_editors_saving_the_same_draft_never_overwrite_each_other(client, django_user_model, draft, alice):
    from django.test import Client

    from .conftest import make_user

    dave = make_user("dave", "Authors")
    first, second = Client(), Client()
    first.force_login(alice)
    second.force_login(dave)
    first_data, second_data = form_data(first, draft), form_data(second, draft)
    first_data["summary"] = "Alice's summary"
    second_data["summary"] = "Dave's summary"
    assert first.post(change_url(draft), first_data).status_code == 302
    response = second.post(change_url(draft), second_data)
    assert response.status_code == 200
    assert "Someone else saved this draft after you opened it" in response.content.decode()
    assert "Dave&#x27;s summary" in response.content.decode()  # his text is still in the form
    draft.refresh_from_db()
    assert draft.summary == "Alice's summary" and draft.version == 2


def test_the_status_cannot_be_set_through_the_form(client, draft, alice):
    client.force_login(alice)
    data = form_data(client, draft)
    data["status"] = "published"
    client.post(change_url(draft), data)
    assert Revision.objects.get(pk=draft.pk).status == S.DRAFT


def test_submitted_revisions_are_read_only_in_the_admin(client, draft, alice):
    to_review(draft, alice)
    client.force_login(alice)
    response = client.get(change_url(draft))
    assert 'name="body"' not in response.content.decode()
    client.post(change_url(draft), {"body": "rewritten", "expected_version": draft.version})
    assert Revision.objects.get(pk=draft.pk).body != "rewritten"


def test_saving_a_submitted_revision_is_refused_not_an_error(client, draft, alice):
    client.force_login(alice)
    data = form_data(client, draft)
    to_review(draft, alice)
    data["body"] = "rewritten after submission"
    response = client.post(change_url(draft), data)
    assert response.status_code == 403
    assert Revision.objects.get(pk=draft.pk).body != "rewritten after submission"
    page = client.get(change_url(draft)).content.decode()
    assert 'name="_save"' not in page and "Approve" not in page  # view-only; alice cannot approve her own


def test_a_crafted_post_cannot_approve_ones_own_revision_as_a_superuser(client, seeded, root):
    draft = Monograph.objects.get(slug="denosumab").start_draft(root)
    to_review(draft, root)
    client.force_login(root)
    response = client.post(workflow_url(draft, "approve"), follow=True)
    assert "someone else must proof-read it" in response.content.decode()
    assert Revision.objects.get(pk=draft.pk).status == S.IN_REVIEW


def test_a_crafted_post_cannot_publish_without_permission(client, draft, alice, bob):
    to_approved(draft, alice, bob)
    client.force_login(bob)
    response = client.post(workflow_url(draft, "publish"), follow=True)
    assert "You do not have permission to publish" in response.content.decode()
    assert Revision.objects.get(pk=draft.pk).status == S.APPROVED


def test_transitions_need_post(client, draft, alice):
    client.force_login(alice)
    assert client.get(workflow_url(draft, "submit")).status_code == 405


def test_transitions_need_a_csrf_token(draft, alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(workflow_url(draft, "submit"), {"change_note": "x"}).status_code == 403
    assert Revision.objects.get(pk=draft.pk).status == S.DRAFT


def test_anonymous_users_cannot_transition(client, draft):
    response = client.post(workflow_url(draft, "submit"), {"change_note": "x"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Revision.objects.get(pk=draft.pk).status == S.DRAFT


def test_the_three_roles_walk_the_path_through_the_buttons(client, draft, alice, bob, carol):
    from .test_workflow import edit

    edit(draft, alice)
    client.force_login(alice)
    client.post(workflow_url(draft, "submit"), {"change_note": "Interval corrected"})
    client.force_login(bob)
    client.post(workflow_url(draft, "approve"), {"comment": "Checked against the SmPC"})
    client.force_login(carol)
    client.post(workflow_url(draft, "publish"), {"confirm_publish": "on"})
    assert Revision.objects.get(pk=draft.pk).status == S.PUBLISHED
    client.logout()
    page = client.get("/drugs/denosumab/").content.decode()
    assert "every 3 months" in page and "Proof-read by Bob Tester" in page


def test_the_diff_highlights_a_changed_dose(client, draft, alice, bob):
    from .test_workflow import edit

    edit(draft, alice)
    draft.submit(alice, "Interval")
    client.force_login(bob)
    html = client.get(reverse("admin:monographs_revision_diff", args=[draft.pk])).content.decode()
    assert re.search(r'<del class="num">6 months</del><ins class="num">3 months</ins>', html)
    assert "Dosage › Standard Dosage › Adults:" in html
    assert "Numbers changed" in html


def test_the_diff_covers_summary_faqs_and_table_cells(client, seeded, alice):
    patient = Monograph.objects.get(slug="denosumab-patient-information").start_draft(alice)
    patient.summary = "New summary"
    patient.save_draft(alice, patient.version)
    cell = patient.comparisons.get().subjects.get(position=2).cells.get(attribute__position=1)
    cell.text = "biological agent (fully human monoclonal antibody)"
    cell.save()
    client.force_login(alice)
    html = client.get(reverse("admin:monographs_revision_diff", args=[patient.pk])).content.decode()
    assert "<ins>New summary</ins>" in html
    assert "Category × Denusomab" in html and "<ins>fully human </ins>" in html


def test_staff_preview_a_draft_but_the_public_never_sees_it(client, draft, alice):
    from .test_workflow import edit

    edit(draft, alice)
    preview = reverse("admin:monographs_revision_preview", args=[draft.pk])
    assert client.get(preview).status_code == 302  # to the login page
    assert "every 3 months" not in client.get("/drugs/denosumab/").content.decode()
    client.force_login(alice)
    page = client.get(preview).content.decode()
    assert "every 3 months" in page and "Preview" in page


def test_the_dashboard_shows_work_waiting_for_each_person(client, draft, alice, bob):
    to_review(draft, alice)
    client.force_login(bob)
    assert "Awaiting your review" in client.get("/admin/").content.decode()
    client.force_login(alice)
    page = client.get("/admin/").content.decode()
    assert "Awaiting your review" not in page  # her own revision is not hers to review


def test_the_monograph_list_filters_overdue_reviews(client, seeded, alice):
    client.force_login(alice)
    page = client.get(reverse("admin:monographs_monograph_changelist") + "?review=overdue").content.decode()
    assert "denosumab-patient-information" in page  # imported in 2018, review due 2020
    page = client.get(reverse("admin:monographs_monograph_changelist") + "?review=due30").content.decode()
    assert "denosumab-patient-information" not in page


def test_a_new_monograph_starts_with_a_draft(client, seeded, alice):

    client.force_login(alice)
    response = add_dental_monograph(client)
    draft = Revision.objects.get(monograph__slug="denosumab-dental")
    assert response["Location"] == change_url(draft)
    # Nobody is credited yet: the creator is credited when they write something (see test_credits.py).
    assert (draft.status, draft.title, draft.authors) == (S.DRAFT, "Denosumab and dental treatment", [])
    assert [(e.from_status, e.to_status, e.actor) for e in draft.events.all()] == [("", S.DRAFT, alice)]


def test_comparisons_are_edited_as_a_grid(client, seeded, alice):
    patient = Monograph.objects.get(slug="denosumab-patient-information").start_draft(alice)
    client.force_login(alice)
    data = form_data(client, patient)
    grid = [k for k in data if k.endswith("-grid")][0]
    assert "| Category | chemical agent | biological agent (monoclonal antibody) |" in data[grid]
    data[grid] = data[grid].replace("| fast |", "| fast (within days) |")
    response = client.post(change_url(patient), data)
    assert response.status_code == 302
    cell = patient.comparisons.get().subjects.get(position=2).cells.get(attribute__label="Onset of action")
    assert cell.text == "fast (within days)"


def test_a_ragged_grid_is_refused_with_the_line(client, seeded, alice):
    patient = Monograph.objects.get(slug="denosumab-patient-information").start_draft(alice)
    client.force_login(alice)
    data = form_data(client, patient)
    grid = [k for k in data if k.endswith("-grid")][0]
    data[grid] += "\n| Cost | cheap |"
    response = client.post(change_url(patient), data)
    assert response.status_code == 200
    assert "Line 9 has 2 cells; the header row has 3." in response.content.decode()
