"""Who is told about a move on a revision, and how: a row in their inbox and an e-mail.

submitted → the proof-readers; approved → the publishers and the authors; changes requested → the
authors, with the comment; published, unpublished, scheduled → the authors.  "The authors" are the people
who wrote the revision: credited authors with an account, whoever edited it or opened it.  Nobody is told
about their own move, and anyone can turn a kind off for themselves (NotificationOptOut).

The inbox rows are written in the move's transaction (a rolled-back move tells nobody); the e-mails go
once it commits.  Django's e-mail framework sends them: the console in development, SMTP in production
(README, "E-mail").
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse

from .models import Notification, NotificationOptOut, Revision, WorkflowEvent

Kind = Notification.Kind

# A move's action (WorkflowEvent.details["action"]) → the kind of notification it sends.
KIND_OF_ACTION = {
    "submit": Kind.SUBMITTED,
    "approve": Kind.APPROVED,
    "request_changes": Kind.CHANGES_REQUESTED,
    "publish": Kind.PUBLISHED,
    "unpublish": Kind.UNPUBLISHED,
    "schedule": Kind.SCHEDULED,
}


def _group(name: str):
    return get_user_model().objects.filter(groups__name=name, is_active=True)


def _authors(revision: Revision) -> set:
    users = get_user_model().objects.filter(is_active=True)
    people = set(users.filter(author__credits__revision=revision, author__credits__role="author"))
    people |= set(users.filter(edited_revisions=revision))
    if revision.created_by_id:
        people |= set(users.filter(pk=revision.created_by_id))
    return people


def recipients(kind: str, revision: Revision, actor) -> list:
    if kind == Kind.SUBMITTED:
        writers = _authors(revision)
        people = {user for user in _group("Proof-readers") if user not in writers}
    elif kind == Kind.APPROVED:
        people = set(_group("Publishers")) | _authors(revision)
    else:
        people = _authors(revision)
    people.discard(actor)
    opted_out = set(NotificationOptOut.objects.filter(kind=kind).values_list("user_id", flat=True))
    return sorted((user for user in people if user.pk not in opted_out), key=lambda user: user.pk)


def _wording(kind: str, event: WorkflowEvent) -> tuple[str, str]:
    revision = event.revision
    who = (event.actor.get_full_name() or event.actor.get_username()) if event.actor else "drugref"
    name = f"“{revision.title}” (r{revision.number} of {revision.monograph.slug})"
    subject = f"[drugref] {revision.title} r{revision.number}: {Kind(kind).label}"
    lines = [f"{name} was {Kind(kind).label} by {who}."]
    if kind == Kind.SCHEDULED and revision.publish_at:
        lines.append(f"It goes live at {revision.publish_at:%Y-%m-%d %H:%M %Z}.")
    if kind == Kind.SUBMITTED and revision.change_note:
        lines.append(f"Change note: {revision.change_note}")
    if event.comment and kind in (Kind.CHANGES_REQUESTED, Kind.UNPUBLISHED, Kind.APPROVED):
        lines.append(f"Comment: {event.comment}")
    lines.append(
        f"Open it: {settings.DRUGREF_ADMIN_URL}{reverse('admin:monographs_revision_change', args=[revision.pk])}"
    )
    return subject, "\n\n".join(lines)


def on_moved(sender, event: WorkflowEvent, **kwargs) -> None:
    """Receiver of signals.moved: write each recipient's inbox row now, send the e-mails on commit."""
    kind = KIND_OF_ACTION.get(event.details.get("action"))
    if kind is None or event.revision_id is None:
        return
    subject, text = _wording(kind, event)
    people = recipients(kind, event.revision, event.actor)
    Notification.objects.bulk_create(
        Notification(recipient=user, kind=kind, event=event, subject=subject, text=text, created_at=event.at)
        for user in people
    )
    mails = [(subject, text, None, [user.email]) for user in people if user.email]
    if mails:
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True))


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
