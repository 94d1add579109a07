"""Build content directly in the database for tests: drugs, monographs and revisions in any state."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.text import slugify

from monographs.models import (
    FAQ,
    Author,
    BrandName,
    Comparison,
    ComparisonAttribute,
    ComparisonCell,
    ComparisonSubject,
    Credit,
    Drug,
    DrugClass,
    Monograph,
    Revision,
)

WHEN = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def drug_class(name: str) -> DrugClass:
    return DrugClass.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0]


def drug(name: str, *, classes=(), brands=(), banned: bool = False) -> Drug:
    obj = Drug.objects.create(name=name, slug=slugify(name), is_banned=banned)
    for class_name in classes:
        obj.classes.add(drug_class(class_name))
    for brand in brands:
        BrandName.objects.create(drug=obj, name=brand, slug=slugify(brand))
    return obj


def revision(
    monograph: Monograph,
    *,
    status: str = Revision.Status.PUBLISHED,
    title: str | None = None,
    summary: str = "",
    body: str = "",
    faqs: int = 0,
    published_at: dt.datetime = WHEN,
    author: str = "Ada Author",
    proof_reader: str | None = "Pat Proof",
) -> Revision:
    number = monograph.revisions.count() + 1
    rev = Revision.objects.create(
        monograph=monograph,
        number=number,
        status=status,
        title=title or monograph.drug.name,
        summary=summary,
        body=body,
        change_note=f"Revision {number}",
        updated_at=published_at,
        reviewed_at=published_at if proof_reader else None,
        published_at=published_at if status in (Revision.Status.PUBLISHED, Revision.Status.SUPERSEDED) else None,
    )
    people = [(Credit.Role.AUTHOR, author)] + ([(Credit.Role.PROOF_READER, proof_reader)] if proof_reader else [])
    for role, name in people:
        person = Author.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0]
        Credit.objects.create(revision=rev, author=person, role=role, position=1, at=published_at)
    FAQ.objects.bulk_create(
        FAQ(revision=rev, position=n, question=f"Question {n}?", answer=f"Answer **{n}**.") for n in range(1, faqs + 1)
    )
    return rev


def monograph(drug_obj: Drug, *, primary: bool = True, kind: str = Monograph.Kind.REFERENCE, slug=None, **content):
    mono = Monograph.objects.create(
        slug=slug or drug_obj.slug, drug=drug_obj, kind=kind, is_primary=primary, next_review=dt.date(2027, 3, 1)
    )
    revision(mono, **content)
    return mono


def comparison(rev: Revision, slug: str, subjects: list[Drug], attributes=("Route",)) -> Comparison:
    table = Comparison.objects.create(revision=rev, slug=slug, caption=f"Comparison {slug}")
    columns = [
        ComparisonSubject.objects.create(comparison=table, position=n, label=subject.name, drug=subject)
        for n, subject in enumerate(subjects, start=1)
    ]
    for n, label in enumerate(attributes, start=1):
        row = ComparisonAttribute.objects.create(comparison=table, position=n, label=label)
        ComparisonCell.objects.bulk_create(
            ComparisonCell(subject=column, attribute=row, text=f"{label} of {column.label}") for column in columns
        )
    return table


def publish_new_revision(mono: Monograph, **content) -> Revision:
    """What the workflow's publish does, done directly: supersede the live revision, make the new one live."""
    from django.db import transaction

    with transaction.atomic():
        mono.revisions.live().update(status=Revision.Status.SUPERSEDED)
        return revision(mono, published_at=content.pop("published_at", timezone.now()), **content)
