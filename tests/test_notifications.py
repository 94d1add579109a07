"""Notifications: each move tells the people who need to know, in their inbox and by e-mail (Django's test
outbox), never the person who made it; anyone can turn a kind off; a rolled-back move tells nobody."""

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from monographs.models import Notification

from .conftest import make_user
from .test_workflow import edit, to_approved, to_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(alice, bob, carol):
    dora = make_user("dora", "Proof-readers")
    for user in (alice, bob, carol, dora):
        user.email = f"{user.username}@example.org"
        user.save()
    return {"alice": alice, "bob": bob, "carol": carol, "dora": dora}


def told(kind) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def mailed_to() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_a_submission_tells_the_proof_readers(draft, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        to_review(draft, team["alice"])
    assert told("submitted") == ["bob", "dora"]
    assert mailed_to() == ["bob@example.org", "dora@example.org"]
    assert "Change note: Dose interval corrected" in mail.outbox[0].body
    assert f"/admin/monographs/revision/{draft.pk}/change/" in mail.outbox[0].body


def test_an_approval_tells_the_publishers_and_the_authors(draft, team, django_capture_on_commit_callbacks):
    to_review(draft, team["alice"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        draft.approve(team["bob"])
    assert told("approved") == ["alice", "carol"]
    assert mailed_to() == ["alice@example.org", "carol@example.org"]


def test_a_change_request_tells_the_authors_with_the_comment(draft, team, django_capture_on_commit_callbacks):
    to_review(draft, team["alice"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        draft.request_changes(team["bob"], "The interval is 6 months in the SmPC")
    assert told("changes_requested") == ["alice"]
    assert mailed_to() == ["alice@example.org"]
    assert "Comment: The interval is 6 months in the SmPC" in mail.outbox[0].body


def test_publish_schedule_and_unpublish_tell_the_authors(draft, team, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    to_approved(draft, team["alice"], team["bob"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        draft.schedule(team["carol"], timezone.now() + dt.timedelta(days=2))
        draft.cancel_schedule(team["carol"])
        draft.publish(team["carol"])
        draft.unpublish(team["carol"], "Withdrawn pending a safety review")
    assert told("scheduled") == told("published") == told("unpublished") == ["alice"]
    assert [m.subject.rsplit(": ", 1)[1] for m in mail.outbox] == ["scheduled", "published", "unpublished"]
    assert "Comment: Withdrawn pending a safety review" in mail.outbox[2].body


def test_a_proof_reader_who_wrote_the_revision_is_not_asked_to_review_it(draft, team):
    erin = make_user("erin", "Authors", "Proof-readers")
    edit(draft, erin)
    draft.submit(erin, "Checked")
    assert told("submitted") == ["bob", "dora"]


def test_a_kind_turned_off_is_not_sent(client, draft, team, django_capture_on_commit_callbacks):
    client.force_login(team["alice"])
    kinds = [k for k in Notification.Kind.values if k != "approved"]
    response = client.post(reverse("admin:inbox"), {"kinds": kinds, "save_settings": "1"})
    assert response.status_code == 302
    page = client.get(reverse("admin:inbox")).content.decode()
    assert 'value="approved">' in page and 'value="published" checked>' in page
    to_review(draft, team["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        draft.approve(team["bob"])
    assert told("approved") == ["carol"]
    assert "alice@example.org" not in mailed_to()


def test_a_rolled_back_move_tells_nobody(draft, team, django_capture_on_commit_callbacks):
    edit(draft, team["alice"])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        draft.submit(team["alice"], "Checked")
        raise RuntimeError("the request failed after the move")
    assert told("submitted") == [] and mail.outbox == []


def test_the_inbox_lists_opens_and_marks_read(client, draft, team):
    to_review(draft, team["alice"])
    client.force_login(team["bob"])
    assert "Inbox (1 unread)" in client.get(reverse("admin:index")).content.decode()
    page = client.get(reverse("admin:inbox")).content.decode()
    notification = Notification.objects.get(recipient=team["bob"])
    assert notification.subject in page and "<strong>New:</strong>" in page
    response = client.get(reverse("admin:notification", args=[notification.pk]))
    assert response["Location"] == reverse("admin:monographs_revision_change", args=[draft.pk])
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "unread" not in client.get(reverse("admin:index")).content.decode().split('id="inbox-link"')[1][:80]


def test_nobody_opens_someone_elses_notification(client, draft, team):
    to_review(draft, team["alice"])
    notification = Notification.objects.get(recipient=team["bob"])
    client.force_login(team["dora"])
    assert client.get(reverse("admin:notification", args=[notification.pk])).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read(client, draft, team):
    to_review(draft, team["alice"])
    client.force_login(team["bob"])
    client.post(reverse("admin:inbox"), {"mark_all_read": "1"})
    assert not Notification.objects.filter(recipient=team["bob"], read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=team["dora"], read_at__isnull=True).exists()
