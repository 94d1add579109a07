"""Workflow transitions on the models: the table of moves, the roles, four eyes, publishing."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from monographs.models import Credit, Monograph, Revision, WorkflowEvent
from monographs.workflow import MOVES, REVISION_BUTTONS, EditConflict, WorkflowError

from .conftest import make_user

S = Revision.Status
DOSE = "* **Osteoporosis (Prolia®):** 60 mg subcutaneously every 6 months."
NEW_DOSE = "* **Osteoporosis (Prolia®):** 60 mg subcutaneously every 3 months."


def edit(revision, user, old=DOSE, new=NEW_DOSE):
    revision.body = revision.body.replace(old, new)
    revision.save_draft(user, revision.version)


def to_review(draft, alice):
    edit(draft, alice)
    draft.submit(alice, "Dose interval corrected")
    return draft


def to_approved(draft, alice, bob):
    to_review(draft, alice)
    draft.approve(bob)
    return draft


def publish_new_dose() -> Revision:
    """The seed's denosumab monograph with NEW_DOSE, through the whole workflow: written, proof-read, published."""
    alice, bob, carol = (
        make_user("alice", "Authors"),
        make_user("bob", "Proof-readers"),
        make_user("carol", "Publishers"),
    )
    draft = to_approved(Monograph.objects.get(slug="denosumab").start_draft(alice), alice, bob)
    draft.publish(carol)
    return draft


def test_start_draft_copies_the_live_revision(draft, alice):
    live = Revision.objects.live().get(monograph=draft.monograph)
    assert (draft.status, draft.number, draft.based_on) == (S.DRAFT, 2, live)
    assert draft.body == live.body and draft.faqs.count() == live.faqs.count() == 10
    assert draft.created_by == alice and list(draft.editors.all()) == [alice]
    assert draft.proof_readers == []  # a new revision must be proof-read again


def test_start_draft_reopens_the_one_open_draft(draft, alice):
    assert Monograph.objects.get(slug="denosumab").start_draft(alice) == draft
    assert Revision.objects.open().filter(monograph=draft.monograph).count() == 1


def test_the_database_refuses_a_second_open_revision(draft):
    with pytest.raises(IntegrityError):
        Revision.objects.create(monograph=draft.monograph, number=99, title="x")


def test_the_whole_path_records_every_event(draft, alice, bob, carol):
    to_approved(draft, alice, bob)
    draft.publish(carol)
    old = Revision.objects.get(monograph=draft.monograph, number=1)
    assert (draft.status, old.status) == (S.PUBLISHED, S.SUPERSEDED)
    moves = [(e.from_status, e.to_status, e.actor) for e in draft.events.order_by("sequence")]
    assert moves == [
        ("", "draft", alice),
        ("draft", "draft", alice),  # the edit that to_approved makes
        ("draft", "in_review", alice),
        ("in_review", "approved", bob),
        ("approved", "published", carol),
    ]
    assert old.events.order_by("-sequence").first().to_status == "superseded"
    assert [a.name for a in draft.proof_readers] == ["Bob Tester"]
    assert draft.credits.get(role=Credit.Role.PROOF_READER).author.user == bob
    today = timezone.now().date()
    assert Monograph.objects.get(pk=draft.monograph_id).next_review == today.replace(year=today.year + 2)


FORBIDDEN = [(action, status) for action in REVISION_BUTTONS for status in S.values if status != MOVES[action].source]


@pytest.mark.parametrize(("action", "status"), FORBIDDEN)
def test_every_move_outside_the_table_is_refused(draft, root, action, status, alice):
    Revision.objects.filter(pk=draft.pk).update(status=S.SUPERSEDED if status == S.PUBLISHED else status)
    draft.refresh_from_db()
    args = {"schedule": (timezone.now() + dt.timedelta(days=1),), "submit": ("note",)}.get(action, ("comment",))
    if action == "publish":
        args = ()
    other = make_user("other", is_superuser=True)
    with pytest.raises(WorkflowError, match="Cannot"):
        getattr(draft, action)(other, *args)
    assert Revision.objects.get(pk=draft.pk).status == draft.status


def test_supersede_is_never_a_move_of_its_own(seeded, root):
    live = Revision.objects.live().first()
    from monographs.workflow import _check

    with pytest.raises(WorkflowError, match="made only by drugref itself"):
        _check(live, "supersede", root, "")


@pytest.mark.parametrize(
    ("persona", "action"),
    [
        ("bob", "submit"),  # proof-readers do not write
        ("carol", "submit"),
        ("oscar", "submit"),
    ],
)
def test_only_authors_submit(request, draft, persona, action):
    user = request.getfixturevalue(persona)
    with pytest.raises(WorkflowError, match="permission"):
        draft.submit(user, "note")


@pytest.mark.parametrize("persona", ["alice", "carol", "oscar"])
def test_only_proof_readers_approve(request, draft, alice, persona):
    to_review(draft, alice)
    user = request.getfixturevalue(persona)
    with pytest.raises(WorkflowError, match="permission"):
        draft.approve(user)
    assert Revision.objects.get(pk=draft.pk).status == S.IN_REVIEW


@pytest.mark.parametrize("persona", ["alice", "carol", "oscar"])
def test_only_proof_readers_request_changes(request, draft, alice, persona):
    to_review(draft, alice)
    with pytest.raises(WorkflowError, match="permission"):
        draft.request_changes(request.getfixturevalue(persona), "no")


@pytest.mark.parametrize("persona", ["alice", "bob", "oscar"])
def test_only_publishers_publish(request, draft, alice, bob, persona):
    to_approved(draft, alice, bob)
    with pytest.raises(WorkflowError, match="permission"):
        draft.publish(request.getfixturevalue(persona))
    assert Revision.objects.get(pk=draft.pk).status == S.APPROVED


def test_only_publishers_unpublish(seeded, alice, bob, carol):
    live = Revision.objects.live().first()
    for user in (alice, bob):
        with pytest.raises(WorkflowError, match="permission"):
            live.unpublish(user, "withdrawn")
    live.unpublish(carol, "Withdrawn pending a safety review")
    assert Revision.objects.get(pk=live.pk).status == S.UNPUBLISHED


def test_an_author_cannot_approve_their_own_revision_even_as_a_superuser(seeded, root):
    monograph = Monograph.objects.get(slug="denosumab")
    draft = monograph.start_draft(root)
    to_review(draft, root)
    with pytest.raises(WorkflowError, match="someone else must proof-read it"):
        draft.approve(root)
    assert Revision.objects.get(pk=draft.pk).status == S.IN_REVIEW


def test_a_proof_reader_who_edited_the_draft_cannot_approve_it(draft, alice):
    both = make_user("eve", "Authors", "Proof-readers")
    edit(draft, both)  # eve edits alice's draft
    draft.submit(alice, "note")
    with pytest.raises(WorkflowError, match="someone else"):
        draft.approve(both)


def test_a_proof_reader_credited_as_author_cannot_approve(draft, alice, bob):
    from monographs.workflow import author_for

    Credit.objects.create(revision=draft, author=author_for(bob), role=Credit.Role.AUTHOR, position=9)
    to_review(draft, alice)
    with pytest.raises(WorkflowError, match="someone else"):
        draft.approve(bob)


def test_only_approved_revisions_can_be_published(draft, alice, carol):
    to_review(draft, alice)
    with pytest.raises(WorkflowError, match="needs a revision that is approved"):
        draft.publish(carol)


def test_requesting_changes_needs_a_comment_and_reopens_the_draft(draft, alice, bob):
    to_review(draft, alice)
    with pytest.raises(WorkflowError, match="comment is required"):
        draft.request_changes(bob, "  ")
    draft.request_changes(bob, "Cite the source for the new interval")
    assert draft.status == S.DRAFT
    assert draft.events.order_by("-sequence").first().comment == "Cite the source for the new interval"


def test_submit_needs_a_change_note(draft, alice):
    with pytest.raises(WorkflowError, match="change note is required"):
        draft.submit(alice, "")


def test_unpublish_needs_a_comment(seeded, carol):
    with pytest.raises(WorkflowError, match="comment is required"):
        Revision.objects.live().first().unpublish(carol, "")


def test_submitted_revisions_cannot_be_saved(draft, alice):
    to_review(draft, alice)
    draft.body = "changed behind the proof-reader's back"
    with pytest.raises(WorkflowError, match="no longer a draft"):
        draft.save_draft(alice, draft.version)
    assert "changed behind" not in Revision.objects.get(pk=draft.pk).body


def test_a_stale_save_is_refused_and_nothing_is_overwritten(draft, alice):
    first = Revision.objects.get(pk=draft.pk)
    second = Revision.objects.get(pk=draft.pk)
    first.summary = "first editor's summary"
    first.save_draft(alice, first.version)
    second.summary = "second editor's summary"
    with pytest.raises(EditConflict):
        second.save_draft(alice, 1)
    assert Revision.objects.get(pk=draft.pk).summary == "first editor's summary"


def test_publishing_needs_confirmation_of_broken_links(draft, alice, bob, carol):
    edit(draft, alice, "## Usage", "## Usage\n\nSee [the old page](/nowhere/at/all).")
    draft.submit(alice, "link")
    draft.approve(bob)
    with pytest.raises(WorkflowError, match="/nowhere/at/all"):
        draft.publish(carol)
    draft.publish(carol, confirm_broken_links=True)
    event = draft.events.order_by("-sequence").first()
    assert event.details == {"action": "publish", "broken_links_confirmed": ["/nowhere/at/all"]}


def test_links_to_live_pages_and_legacy_paths_are_not_broken(draft, alice):
    from monographs.links import broken_links

    edit(
        draft,
        alice,
        "## Usage",
        "## Usage\n\n[a](/drugs/denosumab/) [b](/drugs/prolia/) "
        "[c](/treatment/other/medication/miscellaneous/denusomab) [d](/classes/antiresorptive-agents/)",
    )
    assert broken_links(draft) == []


def test_publish_scheduled_publishes_what_is_due_once(draft, alice, bob, carol):
    to_approved(draft, alice, bob)
    draft.schedule(carol, timezone.now() + dt.timedelta(hours=1))
    call_command("publish_scheduled", stdout=StringIO())
    assert Revision.objects.get(pk=draft.pk).status == S.APPROVED  # not due yet
    Revision.objects.filter(pk=draft.pk).update(publish_at=timezone.now() - dt.timedelta(minutes=1))
    out = StringIO()
    call_command("publish_scheduled", stdout=out)
    call_command("publish_scheduled", stdout=out)
    draft.refresh_from_db()
    assert draft.status == S.PUBLISHED and draft.publish_at is None
    assert out.getvalue().count("published r2") == 1
    assert draft.events.order_by("-sequence").first().actor == carol


def test_a_scheduled_publish_that_loses_a_database_race_is_left_for_the_next_run(draft, alice, bob, carol, monkeypatch):
    """Two servers' cron runs publishing at once may meet on a row both change; the database makes one give
    way (a deadlock error): that run writes nothing of it, carries on, and the next run publishes it."""
    from django.db import OperationalError

    from monographs import workflow

    to_approved(draft, alice, bob)
    draft.schedule(carol, timezone.now() + dt.timedelta(hours=1))
    Revision.objects.filter(pk=draft.pk).update(publish_at=timezone.now() - dt.timedelta(minutes=1))
    real = workflow.publish

    def loses_the_race(revision, *args, **kwargs):
        real(revision, *args, **kwargs)  # written, then rolled back with the error
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(workflow, "publish", loses_the_race)
    assert workflow.publish_due() == ([], [])
    assert Revision.objects.get(pk=draft.pk).status == S.APPROVED
    monkeypatch.setattr(workflow, "publish", real)
    published, refused = workflow.publish_due()
    assert [r.pk for r in published] == [draft.pk] and refused == []


def test_a_scheduled_publish_that_lost_a_race_once_is_tried_again_in_the_same_run(
    draft, alice, bob, carol, monkeypatch, caplog
):
    """Two servers' runs at the same minute can deadlock at commit; the loser's transaction wrote nothing,
    the winner has committed by the time the error arrives, so the loser tries again at once."""
    from django.db import OperationalError

    from monographs import workflow

    to_approved(draft, alice, bob)
    draft.schedule(carol, timezone.now() + dt.timedelta(hours=1))
    Revision.objects.filter(pk=draft.pk).update(publish_at=timezone.now() - dt.timedelta(minutes=1))
    real, lost = workflow.publish, []

    def loses_once(revision, *args, **kwargs):
        real(revision, *args, **kwargs)
        if not lost:
            lost.append(revision.pk)
            raise OperationalError("deadlock detected")  # written, then rolled back with the error

    monkeypatch.setattr(workflow, "publish", loses_once)
    published, refused = workflow.publish_due()
    assert [r.pk for r in published] == [draft.pk] and refused == [] and lost == [draft.pk]
    assert WorkflowEvent.objects.filter(revision=draft, details__action="publish").count() == 1
    assert "deferred" not in caplog.text


def test_revert_copies_an_earlier_revision_into_a_new_draft(draft, alice, bob, carol):
    to_approved(draft, alice, bob)
    draft.publish(carol)
    old = Revision.objects.get(monograph=draft.monograph, number=1)
    with pytest.raises(WorkflowError, match="permission"):
        old.revert(alice)
    reverted = old.revert(carol)
    assert (reverted.number, reverted.status, reverted.body) == (3, S.DRAFT, old.body)
    assert DOSE in reverted.body


def test_nothing_unpublished_is_public(draft, alice, bob, client):
    to_approved(draft, alice, bob)
    assert NEW_DOSE.split("** ")[-1] not in client.get("/drugs/denosumab/").content.decode()
