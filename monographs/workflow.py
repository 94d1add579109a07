"""The editorial workflow: one table of allowed moves, and the transitions that follow it.

draft → in review → approved → published; in review → draft (changes requested); published →
superseded when a newer revision goes live; published → unpublished; revert copies any earlier revision
into a new draft.  Every transition is atomic, locks the rows it changes, checks the table and the
person's permission, and writes a WorkflowEvent.  The Revision and Monograph methods call these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from .models import (
    FAQ,
    Author,
    Comparison,
    ComparisonAttribute,
    ComparisonCell,
    ComparisonSubject,
    Credit,
    Monograph,
    Revision,
    WorkflowEvent,
    add_months,
    now,
)
from .pagecache import content_changed
from .search import reindex_monograph

S = Revision.Status


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    permission: str | None  # None: only the system makes this move (as part of another)
    comment_required: bool = False


MOVES = {
    "submit": Move(S.DRAFT, S.IN_REVIEW, "monographs.change_revision"),
    "request_changes": Move(S.IN_REVIEW, S.DRAFT, "monographs.review_revision", comment_required=True),
    "approve": Move(S.IN_REVIEW, S.APPROVED, "monographs.review_revision"),
    "schedule": Move(S.APPROVED, S.APPROVED, "monographs.publish_revision"),
    "publish": Move(S.APPROVED, S.PUBLISHED, "monographs.publish_revision"),
    "supersede": Move(S.PUBLISHED, S.SUPERSEDED, None),
    "unpublish": Move(S.PUBLISHED, S.UNPUBLISHED, "monographs.publish_revision", comment_required=True),
}


class WorkflowError(Exception):
    """A refused transition; the message says why, in words an editor understands."""


def _check(revision: Revision, action: str, user, comment: str) -> Move:
    move = MOVES[action]
    label = action.replace("_", " ")
    if revision.status != move.source:
        raise WorkflowError(
            f"Cannot {label} r{revision.number} of {revision.monograph.slug}: it is "
            f"{revision.get_status_display()}, and this needs a revision that is {S(move.source).label}."
        )
    if move.permission is None:
        raise WorkflowError(f"“{label}” happens only as part of publishing another revision.")
    if user is None or not user.has_perm(move.permission):
        raise WorkflowError(f"You do not have permission to {label} revisions.")
    if move.comment_required and not comment.strip():
        raise WorkflowError(f"A comment is required to {label}.")
    return move


def _record(revision: Revision, user, source: str, target: str, comment: str = "", details=None, at=None):
    sequence = (revision.events.aggregate(n=Max("sequence"))["n"] or 0) + 1
    return WorkflowEvent.objects.create(
        revision=revision,
        sequence=sequence,
        actor=user,
        from_status=source,
        to_status=target,
        comment=comment,
        details=details or {},
        at=at or now(),
    )


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


def is_own_work(revision: Revision, user) -> bool:
    """Whoever created or edited a revision, or is credited as its author, wrote it."""
    return (
        revision.created_by_id == user.pk
        or revision.editors.filter(pk=user.pk).exists()
        or revision.credits.filter(role=Credit.Role.AUTHOR, author__user=user).exists()
    )


def submit(revision: Revision, user, change_note: str) -> None:
    with transaction.atomic():
        locked = _locked(revision)
        move = _check(locked, "submit", user, change_note)
        if not (change_note or locked.change_note).strip():
            raise WorkflowError("A change note is required on submit: say what changed and why.")
        if change_note.strip():
            locked.change_note = change_note.strip()
        locked.status = move.target
        locked.save(update_fields=["status", "change_note"])
        _record(locked, user, move.source, move.target, locked.change_note)
    _refresh(revision, locked)


def request_changes(revision: Revision, user, comment: str) -> None:
    with transaction.atomic():
        locked = _locked(revision)
        move = _check(locked, "request_changes", user, comment)
        locked.status = move.target
        locked.save(update_fields=["status"])
        _record(locked, user, move.source, move.target, comment.strip())
    _refresh(revision, locked)


def approve(revision: Revision, user, comment: str = "") -> None:
    with transaction.atomic():
        locked = _locked(revision)
        move = _check(locked, "approve", user, comment)
        if is_own_work(locked, user):
            raise WorkflowError(
                "You wrote or edited this revision, so you cannot approve it: someone else must proof-read it."
            )
        moment = now()
        position = (locked.credits.filter(role=Credit.Role.PROOF_READER).aggregate(n=Max("position"))["n"] or 0) + 1
        Credit.objects.get_or_create(
            revision=locked,
            role=Credit.Role.PROOF_READER,
            author=author_for(user),
            defaults={"position": position, "at": moment},
        )
        locked.status = move.target
        locked.reviewed_at = moment
        locked.save(update_fields=["status", "reviewed_at"])
        _record(locked, user, move.source, move.target, comment.strip(), at=moment)
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
        move = _check(locked, "schedule", user, "")
        details = _confirm_links(locked, confirm_broken_links)
        locked.publish_at, locked.scheduled_by = at, user
        locked.save(update_fields=["publish_at", "scheduled_by"])
        _record(locked, user, move.source, move.target, f"Scheduled to go live at {at.isoformat()}", details)
    _refresh(revision, locked)


def publish(revision: Revision, user, confirm_broken_links: bool = False, comment: str = "") -> None:
    """Make an approved revision live; the previous live revision is superseded in the same transaction."""
    with transaction.atomic():
        monograph = Monograph.objects.select_for_update().get(pk=revision.monograph_id)
        locked = _locked(revision)
        move = _check(locked, "publish", user, comment)
        details = _confirm_links(locked, confirm_broken_links)
        moment = now()
        for live in Revision.objects.select_for_update().filter(monograph=monograph, status=S.PUBLISHED):
            live.status = S.SUPERSEDED
            live.save(update_fields=["status"])
            _record(live, user, S.PUBLISHED, S.SUPERSEDED, f"Superseded by r{locked.number}", at=moment)
        locked.status = move.target
        locked.published_at = moment
        locked.publish_at = None
        locked.save(update_fields=["status", "published_at", "publish_at"])
        _record(locked, user, move.source, move.target, comment.strip(), details, at=moment)
        monograph.next_review = add_months(moment.date(), monograph.review_interval_months)
        monograph.save(update_fields=["next_review"])
        reindex_monograph(monograph)  # in the transaction: a rollback takes the index back too
        content_changed()
    _refresh(revision, locked)


def unpublish(revision: Revision, user, comment: str) -> None:
    with transaction.atomic():
        locked = _locked(revision)
        move = _check(locked, "unpublish", user, comment)
        locked.status = move.target
        locked.save(update_fields=["status"])
        _record(locked, user, move.source, move.target, comment.strip())
        monograph = locked.monograph
        reindex_monograph(monograph)  # in the transaction: a rollback takes the index back too
        content_changed()
    _refresh(revision, locked)


def copy_revision(source: Revision, user, change_note: str = "") -> Revision:
    """A new draft of the same monograph with the content of `source` (FAQs, comparisons, authors)."""
    monograph = source.monograph
    number = (monograph.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    moment = now()
    draft = Revision.objects.create(
        monograph=monograph,
        number=number,
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
    return monograph.revisions.filter(status__in=[S.DRAFT, S.IN_REVIEW, S.APPROVED]).first()


def start_draft(monograph: Monograph, user) -> Revision:
    """The monograph's open draft, or a new one copied from its live (else latest) revision."""
    if not user.has_perm("monographs.add_revision"):
        raise WorkflowError("You do not have permission to start drafts.")
    with transaction.atomic():
        Monograph.objects.select_for_update().get(pk=monograph.pk)
        existing = open_revision(monograph)
        if existing is not None:
            if existing.status != S.DRAFT:
                raise WorkflowError(
                    f"r{existing.number} is {existing.get_status_display()}; "
                    "a new draft can start once it is published or sent back."
                )
            return existing
        source = monograph.revisions.live().first() or monograph.revisions.order_by("-number").first()
        if source is None:
            raise WorkflowError("This monograph has no revision to start from.")
        draft = copy_revision(source, user)
        _record(draft, user, "", S.DRAFT, f"Draft started from r{source.number}")
        return draft


def revert(revision: Revision, user) -> Revision:
    """A new draft copied from an earlier revision (publishers only)."""
    if not user.has_perm("monographs.publish_revision"):
        raise WorkflowError("You do not have permission to revert revisions.")
    with transaction.atomic():
        monograph = Monograph.objects.select_for_update().get(pk=revision.monograph_id)
        existing = open_revision(monograph)
        if existing is not None:
            raise WorkflowError(
                f"r{existing.number} is still open ({existing.get_status_display()}); finish or discard it first."
            )
        draft = copy_revision(revision, user, change_note=f"Revert to r{revision.number}")
        _record(draft, user, "", S.DRAFT, f"Reverted to the content of r{revision.number}")
        return draft


class EditConflict(WorkflowError):
    """Someone else saved the draft since this editor loaded it."""


EDITABLE_FIELDS = ("title", "summary", "body", "change_note")


def save_draft(revision: Revision, user, expected_version: int) -> None:
    """Save a draft's own fields only if nobody saved it since `expected_version` was read.

    The version is checked in the UPDATE itself, so two editors saving at once can never silently
    overwrite each other: exactly one UPDATE matches.
    """
    values = {field: getattr(revision, field) for field in EDITABLE_FIELDS}
    moment = now()
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
