"""The editorial workflow: one table of allowed moves, and the transitions that follow it.

Revisions: draft → in review → approved → published; in review → draft (changes requested, or the
author withdraws the submission); approved → draft (a publisher withdraws the approval); published →
superseded when a newer revision goes live; published → unpublished.  A monograph is created with its
first draft; start-draft and revert copy a revision into a new draft; the importer publishes a source
document's content (a system move).

Proposed changes (a drug's names, brands, aliases, classes and ban; a class; a monograph's slug, drug,
kind and primary flag): proposed → applied (someone else approves it) | rejected | withdrawn.

Every transition is atomic, locks the rows it changes, checks the table and the person's permission,
and writes a WorkflowEvent through `_record`, the one place events are numbered.  No status is written
anywhere else.  Changes readers can see are announced through monographs.signals, never by calling the
search index or the page cache from here.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from . import proposals, signals
from .models import (
    FAQ,
    Author,
    Comparison,
    ComparisonAttribute,
    ComparisonCell,
    ComparisonSubject,
    Credit,
    Monograph,
    ProposedChange,
    Revision,
    WorkflowEvent,
    add_months,
    now,
)
from .signals import announce

logger = logging.getLogger(__name__)

S = Revision.Status
P = ProposedChange.Status
REVIEW, PUBLISH = "monographs.review_revision", "monographs.publish_revision"


@dataclass(frozen=True)
class Move:
    source: str  # "" for a move that creates the revision or proposal
    target: str
    permission: str | None  # None: only the system makes this move (as part of another, or the importer)
    comment_required: bool = False
    own_work: str = "any"  # "forbidden": whoever wrote it may not make it; "required": only they may


MOVES = {
    # Revisions
    "create": Move("", S.DRAFT, "monographs.add_monograph"),
    "start_draft": Move("", S.DRAFT, "monographs.add_revision"),
    "revert": Move("", S.DRAFT, PUBLISH),
    "edit": Move(S.DRAFT, S.DRAFT, "monographs.change_revision"),
    "submit": Move(S.DRAFT, S.IN_REVIEW, "monographs.change_revision"),
    "withdraw": Move(S.IN_REVIEW, S.DRAFT, "monographs.change_revision", own_work="required"),
    "request_changes": Move(S.IN_REVIEW, S.DRAFT, REVIEW, comment_required=True),
    "approve": Move(S.IN_REVIEW, S.APPROVED, REVIEW, own_work="forbidden"),
    "withdraw_approval": Move(S.APPROVED, S.DRAFT, PUBLISH, comment_required=True),
    "schedule": Move(S.APPROVED, S.APPROVED, PUBLISH),
    "cancel_schedule": Move(S.APPROVED, S.APPROVED, PUBLISH),
    "publish": Move(S.APPROVED, S.PUBLISHED, PUBLISH),
    "supersede": Move(S.PUBLISHED, S.SUPERSEDED, None),
    "unpublish": Move(S.PUBLISHED, S.UNPUBLISHED, PUBLISH, comment_required=True),
    "import": Move("", S.PUBLISHED, None),
    # Proposed changes
    "propose": Move("", P.PROPOSED, "monographs.propose_change"),
    "approve_change": Move(P.PROPOSED, P.APPLIED, REVIEW, own_work="forbidden"),
    "reject_change": Move(P.PROPOSED, P.REJECTED, REVIEW, comment_required=True),
    "withdraw_change": Move(P.PROPOSED, P.WITHDRAWN, "monographs.propose_change", own_work="required"),
}

# The moves an editor makes with a button on a revision's page, in the order they are offered.
REVISION_BUTTONS = [
    "submit",
    "withdraw",
    "approve",
    "request_changes",
    "publish",
    "schedule",
    "cancel_schedule",
    "withdraw_approval",
    "unpublish",
]
PROPOSAL_BUTTONS = ["approve_change", "reject_change", "withdraw_change"]


class WorkflowError(Exception):
    """A refused transition; the message says why, in words an editor understands."""


def _describe(obj) -> str:
    if obj is None:
        return "monographs"
    if isinstance(obj, Revision):
        return f"r{obj.number} of {obj.monograph.slug}"
    return f"the proposed change to {obj.get_target_display()} “{obj.object_name}”"


def is_own_work(obj, user) -> bool:
    """Whoever created or edited a revision, or is credited as its author, wrote it; whoever proposed a
    change made it."""
    if user is None:
        return False
    if isinstance(obj, ProposedChange):
        return obj.proposed_by_id == user.pk
    return (
        obj.created_by_id == user.pk
        or obj.editors.filter(pk=user.pk).exists()
        or obj.credits.filter(role=Credit.Role.AUTHOR, author__user=user).exists()
    )


def may(obj, action: str, user) -> bool:
    """Whether `user` may make `action` on `obj` now (what the buttons show; the moves check again)."""
    try:
        _check(obj, action, user, "x")
    except WorkflowError:
        return False
    return True


# Each move in an editor's words, for refusals: "You do not have permission to send revisions back …".
PHRASES = {
    "create": "create monographs",
    "start_draft": "start drafts",
    "revert": "restore earlier versions",
    "edit": "edit drafts",
    "submit": "submit revisions for review",
    "withdraw": "withdraw submissions",
    "request_changes": "send revisions back for changes",
    "approve": "approve revisions",
    "withdraw_approval": "withdraw approvals",
    "schedule": "schedule revisions",
    "cancel_schedule": "cancel schedules",
    "publish": "publish revisions",
    "unpublish": "unpublish monographs",
    "propose": "propose changes",
    "approve_change": "approve proposed changes",
    "reject_change": "reject proposed changes",
    "withdraw_change": "withdraw proposed changes",
}


def _check(obj, action: str, user, comment: str) -> Move:
    move = MOVES[action]
    label = action.replace("_", " ")
    if move.source and obj.status != move.source:
        noun = "revision" if isinstance(obj, Revision) else "proposal"
        raise WorkflowError(
            f"Cannot {label} {_describe(obj)}: it is {obj.get_status_display()}, and this needs a {noun} that is "
            f"{type(obj).Status(move.source).label}."
        )
    if move.permission is None:
        raise WorkflowError(f"“{label}” is made only by drugref itself, as part of another step.")
    if user is None or not user.has_perm(move.permission):
        raise WorkflowError(f"You do not have permission to {PHRASES.get(action, label)} ({_describe(obj)}).")
    if move.comment_required and not comment.strip():
        raise WorkflowError(f"A comment is required to {label}.")
    if move.own_work == "forbidden" and is_own_work(obj, user):
        if isinstance(obj, Revision):
            raise WorkflowError(
                "You wrote or edited this revision, so you cannot approve it: someone else must proof-read it."
            )
        raise WorkflowError("You proposed this change, so you cannot approve it: someone else must check it.")
    if move.own_work == "required" and not is_own_work(obj, user):
        raise WorkflowError(f"Only whoever wrote or proposed {_describe(obj)} may {label} it.")
    return move


def _record(obj, action: str, user, comment: str = "", details=None, at=None, first: bool = False) -> WorkflowEvent:
    """The one place events are written and numbered: the move's source and target come from the table.
    `first`: `obj` was created in this transaction, so this is its first event."""
    move = MOVES[action]
    owner = {"revision": obj} if isinstance(obj, Revision) else {"proposal": obj}
    sequence = 1 if first else (obj.events.aggregate(n=Max("sequence"))["n"] or 0) + 1
    event = WorkflowEvent.objects.create(
        **owner,
        sequence=sequence,
        actor=user,
        from_status=move.source,
        to_status=move.target,
        comment=comment,
        details={"action": action, **(details or {})},
        at=at or now(),
    )
    signals.moved.send(sender=None, event=event)  # notifications (monographs/notifications.py)
    return event


def _move(obj, action: str, user, comment: str = "", details=None, at=None, fields=()) -> None:
    """Set the status the table names for `action`, save it with `fields`, and record the event."""
    obj.status = MOVES[action].target
    obj.save(update_fields=["status", *fields])
    _record(obj, action, user, comment, details, at)


def _locked(revision: Revision) -> Revision:
    return Revision.objects.select_for_update().select_related("monograph").get(pk=revision.pk)


def _refresh(revision: Revision, locked: Revision) -> None:
    for field in ("status", "version", "reviewed_at", "published_at", "publish_at", "scheduled_by_id", "change_note"):
        setattr(revision, field, getattr(locked, field))


def author_for(user) -> Author:
    """The Author a user is credited as, created from their name on first need."""
    author = Author.objects.filter(user=user).first()
    if author:
        return author
    name = user.get_full_name().strip() or user.get_username()
    base = slugify(name) or f"user-{user.pk}"
    slug, n = base, 1
    while Author.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return Author.objects.create(name=name, slug=slug, user=user)


def credit_author(revision: Revision, author: Author) -> Credit:
    """Credit `author` as an author of a draft (after those already credited), once."""
    position = (revision.credits.filter(role=Credit.Role.AUTHOR).aggregate(n=Max("position"))["n"] or 0) + 1
    credit, _ = Credit.objects.get_or_create(
        revision=revision, role=Credit.Role.AUTHOR, author=author, defaults={"position": position}
    )
    return credit


def _sign_credits(revision: Revision) -> None:
    """Keep each credited name as it stands now: renaming an Author later never rewrites this byline."""
    for credit in revision.credits.select_related("author"):
        credit.signed_name = credit.author.name
        credit.save(update_fields=["signed_name"])


def _next_number(monograph: Monograph) -> int:
    return (monograph.revisions.aggregate(n=Max("number"))["n"] or 0) + 1


# ------------------------------------------------------------------------------------------------
# Revisions


def create_monograph(user, title: str, monograph: Monograph, body: str = "", drug=None) -> Monograph:
    """Save a new monograph (an unsaved instance) with its first draft: the title, and the body if given.
    With `drug` (an unsaved Drug), the new drug is saved with it, in the same transaction."""
    move = _check(None, "create", user, "")
    if not title.strip():
        raise WorkflowError("A new monograph needs the title of its first draft.")
    with transaction.atomic():
        if drug is not None:
            drug.save()
            monograph.drug = drug
        monograph.save()
        moment = now()
        draft = Revision.objects.create(
            monograph=monograph,
            number=1,
            status=move.target,
            title=title.strip(),
            body=body,
            created_by=user,
            created_at=moment,
            updated_at=moment,
        )
        if body.strip():
            draft.editors.add(user)  # whoever writes a draft's content is its author
            credit_author(draft, author_for(user))
        _record(draft, "create", user, "Monograph created", at=moment)
    return monograph


def submit(revision: Revision, user, change_note: str = "") -> None:
    with transaction.atomic():
        locked = _locked(revision)
        _check(locked, "submit", user, change_note)
        empty = [
            label
            for label, value in (("title", locked.title), ("summary", locked.summary), ("body", locked.body))
            if not (value or "").strip()
        ]
        if empty:
            raise WorkflowError(
                f"The {' and the '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty: "
                f"write {'it' if len(empty) == 1 else 'them'} before submitting for review."
            )
        if not (change_note or locked.change_note).strip():
            raise WorkflowError("A change note is required on submit: say what changed and why.")
        if change_note.strip():
            locked.change_note = change_note.strip()
        _move(locked, "submit", user, locked.change_note, fields=["change_note"])
    _refresh(revision, locked)


def withdraw(revision: Revision, user, comment: str = "") -> None:
    """The author takes a submission back to draft before anyone approved it."""
    with transaction.atomic():
        locked = _locked(revision)
        _check(locked, "withdraw", user, comment)
        _move(locked, "withdraw", user, comment.strip() or "Submission withdrawn by its author")
    _refresh(revision, locked)


def request_changes(revision: Revision, user, comment: str) -> None:
    with transaction.atomic():
        locked = _locked(revision)
        _check(locked, "request_changes", user, comment)
        _move(locked, "request_changes", user, comment.strip())
    _refresh(revision, locked)


def approve(revision: Revision, user, comment: str = "") -> None:
    with transaction.atomic():
        locked = _locked(revision)
        _check(locked, "approve", user, comment)
        moment = now()
        position = (locked.credits.filter(role=Credit.Role.PROOF_READER).aggregate(n=Max("position"))["n"] or 0) + 1
        Credit.objects.get_or_create(
            revision=locked,
            role=Credit.Role.PROOF_READER,
            author=author_for(user),
            defaults={"position": position, "at": moment},
        )
        _sign_credits(locked)
        locked.reviewed_at = moment
        _move(locked, "approve", user, comment.strip(), at=moment, fields=["reviewed_at"])
    _refresh(revision, locked)


def withdraw_approval(revision: Revision, user, comment: str) -> None:
    """A publisher sends an approved (or scheduled) revision back to draft; its sign-off is undone."""
    with transaction.atomic():
        locked = _locked(revision)
        _check(locked, "withdraw_approval", user, comment)
        locked.credits.filter(role=Credit.Role.PROOF_READER).delete()
        locked.credits.update(signed_name="")
        locked.reviewed_at, locked.publish_at, locked.scheduled_by = None, None, None
        _move(locked, "withdraw_approval", user, comment.strip(), fields=["reviewed_at", "publish_at", "scheduled_by"])
    _refresh(revision, locked)


def _confirm_links(locked: Revision, confirm_broken_links: bool) -> dict:
    from .links import broken_links

    broken = broken_links(locked)
    if broken and not confirm_broken_links:
        raise WorkflowError(
            f"{len(broken)} internal link(s) lead nowhere: {', '.join(broken)}. Confirm to publish anyway."
        )
    return {"broken_links_confirmed": broken} if broken else {}


def schedule(revision: Revision, user, at: dt.datetime, confirm_broken_links: bool = False) -> None:
    with transaction.atomic():
        locked = _locked(revision)
        _check(locked, "schedule", user, "")
        details = _confirm_links(locked, confirm_broken_links)
        locked.publish_at, locked.scheduled_by = at, user
        _move(
            locked,
            "schedule",
            user,
            f"Scheduled to go live at {at.isoformat()}",
            details,
            fields=["publish_at", "scheduled_by"],
        )
    _refresh(revision, locked)


def cancel_schedule(revision: Revision, user, comment: str = "") -> None:
    with transaction.atomic():
        locked = _locked(revision)
        _check(locked, "cancel_schedule", user, comment)
        if locked.publish_at is None:
            raise WorkflowError(f"r{locked.number} is not scheduled.")
        was = locked.publish_at
        locked.publish_at, locked.scheduled_by = None, None
        _move(
            locked,
            "cancel_schedule",
            user,
            comment.strip() or f"Schedule for {was.isoformat()} cancelled",
            fields=["publish_at", "scheduled_by"],
        )
    _refresh(revision, locked)


def _supersede_live(monograph: Monograph, user, comment: str, at: dt.datetime) -> None:
    # Unordered: the default order (monograph, then its drug's name) would outer-join the nullable drug,
    # and PostgreSQL cannot lock the nullable side of an outer join.
    for live in Revision.objects.select_for_update().filter(monograph=monograph).live().order_by():
        _move(live, "supersede", user, comment, at=at)


def publish(revision: Revision, user, confirm_broken_links: bool = False, comment: str = "") -> None:
    """Make an approved revision live; the previous live revision is superseded in the same transaction."""
    with transaction.atomic():
        monograph = Monograph.objects.select_for_update().get(pk=revision.monograph_id)
        locked = _locked(revision)
        _check(locked, "publish", user, comment)
        details = _confirm_links(locked, confirm_broken_links)
        moment = now()
        _supersede_live(monograph, user, f"Superseded by r{locked.number}", moment)
        locked.published_at = moment
        locked.publish_at = None
        _move(locked, "publish", user, comment.strip(), details, at=moment, fields=["published_at", "publish_at"])
        monograph.next_review = add_months(moment.date(), monograph.review_interval_months)
        monograph.save(update_fields=["next_review"])
        announce(monographs=[monograph])
    _refresh(revision, locked)


# How often publish_due tries a revision whose transaction the database chose to abort (a deadlock with
# another app server's run of the same command).
DUE_ATTEMPTS = 2


def _publish_one_due(due, pk: int, monograph_id: int) -> tuple[Revision | None, WorkflowError | None]:
    """Publish one due revision in a transaction of its own: (the revision, None) when published, (the
    revision, why) when refused, (None, None) when another run has it or it is no longer due."""
    with transaction.atomic():
        monographs = Monograph.objects.select_for_update(skip_locked=True).filter(pk=monograph_id)
        if monographs.order_by("pk").first() is None:
            return None, None  # being published elsewhere right now
        revision = due.select_related("monograph", "scheduled_by").filter(pk=pk).first()
        if revision is None:
            return None, None  # published, withdrawn or rescheduled since the list was read
        try:
            publish(revision, revision.scheduled_by, confirm_broken_links=True, comment="Scheduled publication")
        except WorkflowError as exc:
            return revision, exc
    return revision, None


def publish_due(at: dt.datetime | None = None) -> tuple[list[Revision], list[tuple[Revision, WorkflowError]]]:
    """Publish the approved revisions whose go-live time has come, each as the publisher who scheduled it
    (who confirmed any broken links then); returns those published and those refused, with the reason.

    Safe when every app server's cron runs it at the same moment: each revision is published in a
    transaction of its own that first locks its monograph with SKIP LOCKED, so a run passes over a monograph
    that another run (or an editor) is publishing, and reads the revision again under the lock, when one
    already published is no longer due.  A revision passed over is published by the run that held it, or by
    the next run.
    """
    moment = at or timezone.now()  # not now(), which drops the fraction of a second
    due = Revision.objects.filter(status=S.APPROVED, publish_at__lte=moment)
    published, refused = [], []
    for pk, monograph_id in due.order_by("publish_at", "pk").values_list("pk", "monograph_id"):
        for attempt in range(1, DUE_ATTEMPTS + 1):
            try:
                revision, refusal = _publish_one_due(due, pk, monograph_id)
                break
            except DatabaseError:
                # Another run's publish of another monograph met this one on a row both change (the
                # content generation, a comparison both name, a deferred foreign-key check at commit) and
                # the database chose this transaction to give way: nothing of it was written.  The other
                # has committed by now, so it is tried again; after that it stays due for the next run.
                if attempt == DUE_ATTEMPTS:
                    logger.warning(
                        "scheduled publication of revision %s deferred: a concurrent publish", pk, exc_info=True
                    )
                revision = refusal = None
        if refusal is not None:
            refused.append((revision, refusal))
        elif revision is not None:
            published.append(revision)
    return published, refused


def unpublish(revision: Revision, user, comment: str) -> None:
    with transaction.atomic():
        locked = _locked(revision)
        _check(locked, "unpublish", user, comment)
        _move(locked, "unpublish", user, comment.strip())
        announce(monographs=[locked.monograph])
    _refresh(revision, locked)


def retire_drug(drug, user, comment: str) -> list[Revision]:
    """Take a drug off the site: every live revision of its monographs is unpublished (each an
    `unpublish`, with its checks and its event), all or none."""
    if not comment.strip():
        raise WorkflowError("Say why the drug is retired.")
    with transaction.atomic():
        revisions = list(Revision.objects.live().filter(monograph__drug=drug).select_related("monograph"))
        if not revisions:
            raise WorkflowError(f"Nothing of {drug} is live: there is nothing to retire.")
        for revision in revisions:
            unpublish(revision, user, comment)
    return revisions


def publish_import(
    monograph: Monograph, *, at: dt.datetime, comment: str, supersede_comment: str, credits, first=False, **content
):
    """The importer's publish: a source document's content goes live as a new revision, superseding the
    live one.  The document's own authorship is its sign-off, so its credits are signed as they stand.

    `credits` is a list of (role, Author, signed_at); `content` the revision's fields.  The caller adds
    FAQs and tables, then announces the change (it knows which drug's names changed too).  `first`: the
    caller created the monograph in this transaction, so no revision of it exists to lock, supersede or
    number after (a new monograph of a large import: four queries fewer).
    """
    with transaction.atomic():
        if not first:
            Monograph.objects.select_for_update().get(pk=monograph.pk)
            _supersede_live(monograph, None, supersede_comment, at)
        revision = Revision.objects.create(
            monograph=monograph,
            number=1 if first else _next_number(monograph),
            status=MOVES["import"].target,
            **content,
        )
        positions: dict[str, int] = {}
        rows = []
        for role, author, signed_at in credits:
            positions[role] = positions.get(role, 0) + 1
            rows.append(
                Credit(
                    revision=revision,
                    author=author,
                    role=role,
                    position=positions[role],
                    at=signed_at,
                    signed_name=author.name,
                )
            )
        Credit.objects.bulk_create(rows)
        _record(revision, "import", None, comment, at=at, first=True)
    return revision


def copy_revision(source: Revision, user, change_note: str = "") -> Revision:
    """A new draft of the same monograph with the content of `source` (FAQs, comparisons, authors)."""
    monograph = source.monograph
    moment = now()
    draft = Revision.objects.create(
        monograph=monograph,
        number=_next_number(monograph),
        status=S.DRAFT,
        title=source.title,
        summary=source.summary,
        body=source.body,
        change_note=change_note,
        created_at=moment,
        updated_at=moment,
        created_by=user,
        based_on=source,
    )
    draft.editors.add(user)
    for credit in source.credits.filter(role=Credit.Role.AUTHOR):
        Credit.objects.create(revision=draft, author=credit.author, role=credit.role, position=credit.position)
    FAQ.objects.bulk_create(
        FAQ(revision=draft, position=f.position, question=f.question, answer=f.answer) for f in source.faqs.all()
    )
    for comparison in source.comparisons.all():
        copy = Comparison.objects.create(
            revision=draft, slug=comparison.slug, caption=comparison.caption, footnotes=comparison.footnotes
        )
        subjects = {
            s.pk: ComparisonSubject.objects.create(
                comparison=copy, position=s.position, label=s.label, drug=s.drug, drug_class=s.drug_class
            )
            for s in comparison.subjects.all()
        }
        attributes = {
            a.pk: ComparisonAttribute.objects.create(comparison=copy, position=a.position, label=a.label)
            for a in comparison.attributes.all()
        }
        ComparisonCell.objects.bulk_create(
            ComparisonCell(subject=subjects[c.subject_id], attribute=attributes[c.attribute_id], text=c.text)
            for c in ComparisonCell.objects.filter(subject__comparison=comparison)
        )
    return draft


def open_revision(monograph: Monograph) -> Revision | None:
    return monograph.revisions.open().first()


def start_draft(monograph: Monograph, user) -> Revision:
    """The monograph's open draft, or a new one copied from its live (else latest) revision."""
    _check(None, "start_draft", user, "")
    with transaction.atomic():
        Monograph.objects.select_for_update().get(pk=monograph.pk)
        existing = open_revision(monograph)
        if existing is not None:
            if existing.status == S.IN_REVIEW:
                raise WorkflowError(
                    f"r{existing.number} is in review; its author can withdraw the submission, or a proof-reader "
                    "can send it back, and then it opens as the draft."
                )
            if existing.status == S.APPROVED:
                raise WorkflowError(
                    f"r{existing.number} is approved; publish it, or (publishers) withdraw its approval to edit it."
                )
            return existing
        source = monograph.revisions.live().first() or monograph.revisions.order_by("-number").first()
        if source is None:
            raise WorkflowError("This monograph has no revision to start from.")
        draft = copy_revision(source, user)
        _record(draft, "start_draft", user, f"Draft started from r{source.number}")
        return draft


def revert(revision: Revision, user) -> Revision:
    """A new draft copied from an earlier revision (publishers only)."""
    _check(None, "revert", user, "")
    with transaction.atomic():
        monograph = Monograph.objects.select_for_update().get(pk=revision.monograph_id)
        existing = open_revision(monograph)
        if existing is not None:
            raise WorkflowError(
                f"r{existing.number} is still open ({existing.get_status_display()}); finish or discard it first."
            )
        draft = copy_revision(revision, user, change_note=f"Revert to r{revision.number}")
        _record(draft, "revert", user, f"Reverted to the content of r{revision.number}")
        return draft


class EditConflict(WorkflowError):
    """Someone else saved the draft since this editor loaded it."""


EDITABLE_FIELDS = ("title", "summary", "body", "change_note")
CONTENT_FIELDS = ("title", "summary", "body")  # what readers see; the change note is for the reviewers


def save_draft(revision: Revision, user, expected_version: int, parts_changed=()) -> None:
    """Save a draft's own fields only if nobody saved it since `expected_version` was read.

    The version is checked in the UPDATE itself, so two editors saving at once can never silently
    overwrite each other: exactly one UPDATE matches.  Whoever changes what readers will see — a field
    here, or `parts_changed` (FAQs, tables, saved by the caller) — is credited as an author, and the
    edit is recorded with what it changed.
    """
    if user is None or not user.has_perm(MOVES["edit"].permission):
        raise WorkflowError("You do not have permission to edit revisions.")
    values = {field: getattr(revision, field) for field in EDITABLE_FIELDS}
    moment = now()
    with transaction.atomic():
        stored = Revision.objects.filter(pk=revision.pk).values(*EDITABLE_FIELDS).first() or {}
        updated = Revision.objects.filter(pk=revision.pk, version=expected_version, status=S.DRAFT).update(
            **values, updated_at=moment, version=expected_version + 1
        )
        if not updated:
            current = Revision.objects.filter(pk=revision.pk).values_list("status", "version").first()
            if current and current[0] != S.DRAFT:
                raise WorkflowError(
                    f"r{revision.number} is no longer a draft (it is {S(current[0]).label}); it cannot change."
                )
            raise EditConflict(
                "Someone else saved this draft after you opened it, so your changes were not saved. "
                "Your text is still in the form: copy it, reload the page, and merge your changes."
            )
        revision.version, revision.updated_at = expected_version + 1, moment
        revision.editors.add(user)
        changed = [field for field in EDITABLE_FIELDS if stored.get(field) != values[field]] + list(parts_changed)
        if any(part not in ("change_note",) for part in changed):
            credit_author(revision, author_for(user))
        if changed:
            _record(revision, "edit", user, "Changed: " + ", ".join(changed), {"changed": changed}, at=moment)


# ------------------------------------------------------------------------------------------------
# Proposed changes


def propose(obj, after: dict, user, note: str = "") -> ProposedChange:
    """Propose that `obj` (a Drug, DrugClass or Monograph) become `after` (see monographs/proposals.py)."""
    _check(None, "propose", user, note)
    before = proposals.snapshot(type(obj).objects.get(pk=obj.pk))  # `obj` may hold a form's unsaved values
    if before == after:
        raise WorkflowError("Nothing changed, so there is nothing to propose.")
    with transaction.atomic():
        proposal = ProposedChange.objects.create(
            target=proposals.target_of(obj),
            object_id=obj.pk,
            object_name=str(obj)[:300],
            before=before,
            after=after,
            note=note.strip(),
            proposed_by=user,
            status=MOVES["propose"].target,
        )
        _record(proposal, "propose", user, note.strip())
    return proposal


def _locked_proposal(proposal: ProposedChange) -> ProposedChange:
    return ProposedChange.objects.select_for_update().get(pk=proposal.pk)


def approve_change(proposal: ProposedChange, user, comment: str = "") -> None:
    """Someone other than the proposer approves: the change is applied at once, in this transaction."""
    with transaction.atomic():
        locked = _locked_proposal(proposal)
        _check(locked, "approve_change", user, comment)
        target = locked.target_model.objects.select_for_update().filter(pk=locked.object_id).order_by("pk").first()
        if target is None:
            raise WorkflowError(f"The {locked.get_target_display()} “{locked.object_name}” no longer exists.")
        try:
            refresh = proposals.apply(locked, target)
        except proposals.ApplyError as exc:
            raise WorkflowError(str(exc)) from exc
        locked.decided_by, locked.decided_at = user, now()
        _move(
            locked,
            "approve_change",
            user,
            comment.strip(),
            {"redirects": refresh["redirects"]},
            at=locked.decided_at,
            fields=["decided_by", "decided_at"],
        )
        announce(drugs=refresh["drugs"], monographs=refresh.get("monographs", []))
    proposal.status, proposal.decided_by, proposal.decided_at = locked.status, user, locked.decided_at


def _close_proposal(proposal: ProposedChange, action: str, user, comment: str) -> None:
    with transaction.atomic():
        locked = _locked_proposal(proposal)
        _check(locked, action, user, comment)
        locked.decided_by, locked.decided_at = user, now()
        _move(locked, action, user, comment.strip(), at=locked.decided_at, fields=["decided_by", "decided_at"])
    proposal.status, proposal.decided_by, proposal.decided_at = locked.status, user, locked.decided_at


def reject_change(proposal: ProposedChange, user, comment: str) -> None:
    _close_proposal(proposal, "reject_change", user, comment)


def withdraw_change(proposal: ProposedChange, user, comment: str = "") -> None:
    _close_proposal(proposal, "withdraw_change", user, comment)
