"""Bylines that tell the truth, submits that never lose text, and no dead ends in the workflow."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from monographs.models import Author, Credit, Monograph, Revision
from monographs.workflow import WorkflowError

from .conftest import add_dental_monograph, admin_form_data, make_user
from .test_workflow import DOSE, NEW_DOSE, edit, to_approved, to_review

S = Revision.Status
pytestmark = pytest.mark.django_db


def change_url(revision):
    return reverse("admin:monographs_revision_change", args=[revision.pk])


def byline(client, url="/drugs/denosumab/") -> str:
    client.logout()
    page = client.get(url).content.decode()
    start = page.index("Authored by") if "Authored by" in page else page.index("No author credited")
    return page[start : page.index("</", start)]


# ------------------------------------------------------------------------------------------------
# Credits


def test_whoever_edits_a_live_monograph_is_credited(draft, alice, bob, carol):
    before = [c.name for c in draft.authors]
    edit(draft, alice)
    assert [c.name for c in Revision.objects.get(pk=draft.pk).authors] == [*before, "Alice Tester"]


def test_pressing_edit_alone_credits_nobody(draft, alice):
    live = Revision.objects.live().get(monograph=draft.monograph)
    assert [c.author for c in draft.authors] == [c.author for c in live.authors]


def test_the_author_who_writes_an_empty_draft_is_credited_not_its_creator(client, seeded, alice):
    dora = make_user("dora", "Authors")
    client.force_login(alice)
    response = add_dental_monograph(client)
    draft = Revision.objects.get(monograph__slug="denosumab-dental")
    assert response.status_code == 302 and draft.authors == []
    client.force_login(dora)
    data = admin_form_data(client, change_url(draft))
    data.update(summary="What to tell your dentist.", body="## Before treatment\n\nTell your dentist.")
    assert client.post(change_url(draft), data).status_code == 302
    assert [c.author.user for c in Revision.objects.get(pk=draft.pk).authors] == [dora]
    event = draft.events.order_by("-sequence").first()
    assert (event.actor, event.details["changed"]) == (dora, ["summary", "body"])


def test_renaming_an_author_never_rewrites_a_signed_byline(client, draft, alice, bob, carol):
    to_approved(draft, alice, bob)
    draft.publish(carol)
    signed = byline(client)
    assert "Alice Tester" in signed and "Bob Tester" in signed
    Author.objects.filter(user=alice).update(name="Alicia Renamed")
    Author.objects.filter(user=bob).update(name="Robert Renamed")
    assert byline(client) == signed
    assert client.get("/drugs/denosumab.json").json()["revision"]["proof_readers"] == ["Bob Tester"]
    # A future draft shows the new name until it is signed off in turn.
    nxt = Monograph.objects.get(slug="denosumab").start_draft(alice)
    assert "Alicia Renamed" in [c.name for c in nxt.authors]


def test_an_editor_may_remove_only_their_own_credit(client, draft, alice):
    dora = make_user("dora", "Authors")
    edit(draft, alice)
    client.force_login(dora)
    data = admin_form_data(client, change_url(draft))
    prefix = "credits"
    rows = {data[f"{prefix}-{i}-author"]: i for i in range(int(data[f"{prefix}-TOTAL_FORMS"]))}
    alices = rows[Author.objects.get(user=alice).pk]
    response = client.post(change_url(draft), {**data, f"{prefix}-{alices}-DELETE": "on"})
    assert response.status_code == 200 and "You may remove only your own credit" in response.content.decode()
    assert draft.credits.filter(author__user=alice).exists()
    client.force_login(alice)
    data = admin_form_data(client, change_url(draft))
    assert client.post(change_url(draft), {**data, f"{prefix}-{alices}-DELETE": "on"}).status_code == 302
    assert not draft.credits.filter(author__user=alice).exists()


# ------------------------------------------------------------------------------------------------
# Submit


def test_submit_saves_the_typed_text_first(client, draft, alice):
    client.force_login(alice)
    data = admin_form_data(client, change_url(draft))
    data["body"] = data["body"].replace(DOSE, NEW_DOSE)
    data["change_note"] = "Dose interval corrected"
    response = client.post(change_url(draft), {**data, "_submit": "submit"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == S.IN_REVIEW and NEW_DOSE in draft.body and draft.change_note == "Dose interval corrected"


def test_a_refused_submit_keeps_the_text_as_a_draft(client, draft, alice):
    client.force_login(alice)
    data = admin_form_data(client, change_url(draft))
    data.update(body=data["body"].replace(DOSE, NEW_DOSE), change_note="")
    response = client.post(change_url(draft), {**data, "_submit": "submit"}, follow=True)
    assert "A change note is required" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == S.DRAFT and NEW_DOSE in draft.body


@pytest.mark.parametrize("field", ["title", "summary", "body"])
def test_an_empty_title_summary_or_body_cannot_be_submitted(draft, alice, field):
    setattr(draft, field, "   " if field != "title" else "")
    if field == "title":
        Revision.objects.filter(pk=draft.pk).update(title="")
        draft.refresh_from_db()
    else:
        draft.save_draft(alice, draft.version)
    with pytest.raises(WorkflowError, match=f"The {field} is empty"):
        draft.submit(alice, "note")
    assert Revision.objects.get(pk=draft.pk).status == S.DRAFT


# ------------------------------------------------------------------------------------------------
# No dead ends


def test_an_author_withdraws_their_submission_and_can_edit_again(draft, alice, bob):
    to_review(draft, alice)
    with pytest.raises(WorkflowError, match="Only whoever wrote"):
        draft.withdraw(make_user("dora", "Authors"))
    draft.withdraw(alice)
    assert draft.status == S.DRAFT
    assert Monograph.objects.get(slug="denosumab").start_draft(alice) == draft
    assert draft.events.order_by("-sequence").first().details["action"] == "withdraw"


def test_a_publisher_withdraws_an_approval_and_the_sign_off_goes_with_it(draft, alice, bob, carol):
    to_approved(draft, alice, bob)
    draft.schedule(carol, timezone.now() + dt.timedelta(days=1))
    with pytest.raises(WorkflowError, match="comment is required"):
        draft.withdraw_approval(carol, "")
    draft.withdraw_approval(carol, "The SmPC changed again")
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at, draft.reviewed_at) == (S.DRAFT, None, None)
    assert not draft.credits.filter(role=Credit.Role.PROOF_READER).exists()
    assert not draft.credits.exclude(signed_name="").exists()


def test_a_publisher_cancels_a_schedule(draft, alice, bob, carol):
    to_approved(draft, alice, bob)
    with pytest.raises(WorkflowError, match="not scheduled"):
        draft.cancel_schedule(carol)
    draft.schedule(carol, timezone.now() + dt.timedelta(days=1))
    with pytest.raises(WorkflowError, match="permission"):
        draft.cancel_schedule(alice)
    draft.cancel_schedule(carol)
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at) == (S.APPROVED, None)


def test_the_buttons_offer_withdraw_to_the_author_only(client, draft, alice, bob):
    to_review(draft, alice)
    client.force_login(alice)
    assert "Withdraw my submission" in client.get(change_url(draft)).content.decode()
    client.force_login(bob)
    page = client.get(change_url(draft)).content.decode()
    assert "Withdraw my submission" not in page and "Approve" in page
