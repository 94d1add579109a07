"""Snapshots of what readers see of a drug, a class, a topic or a monograph's identity, and how one is applied.

A proposed change (models.ProposedChange) stores two snapshots: the object as it was proposed against
(`before`) and as it would be (`after`).  The admin builds `after` from its forms without writing
anything; monographs/workflow.py applies it, once someone else approved it, through `apply`.  A
snapshot is plain JSON: names and slugs, never primary keys of other objects, except the ids of the
drug's own brand and alias rows (so an edited brand keeps its row, and its editors' note).
"""

from __future__ import annotations

from django.db import IntegrityError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .models import Alias, BrandName, Drug, DrugClass, LegacyPath, Monograph, ProposedChange, Topic

Target = ProposedChange.Target

# What a snapshot shows a reviewer, in this order, with these labels.
LABELS = {
    Target.DRUG: [
        ("name", "INN"),
        ("slug", "Address (slug)"),
        ("is_banned", "Banned / withdrawn"),
        ("classes", "Classes"),
        ("brands", "Brand names"),
        ("aliases", "Aliases"),
    ],
    Target.DRUG_CLASS: [
        ("name", "Name"),
        ("slug", "Address (slug)"),
        ("parent", "Parent class"),
        ("description", "Description"),
    ],
    Target.MONOGRAPH: [
        ("slug", "Address (slug)"),
        ("drug", "Drug"),
        ("topic", "Topic"),
        ("level", "Reading level (topics)"),
        ("kind", "Kind"),
        ("is_primary", "Primary monograph of its drug"),
        ("review_interval_months", "Review interval (months)"),
        ("legacy_paths", "Old addresses that redirect here"),
    ],
    Target.TOPIC: [
        ("name", "Name"),
        ("slug", "Address (slug)"),
    ],
}
# Keys a snapshot gained after proposals were first stored, with the value an older snapshot means.
ADDED_KEYS = {Target.MONOGRAPH: {"topic": None, "level": None}}


class ApplyError(Exception):
    """The change cannot be applied as proposed; the message says why."""


def target_of(obj) -> str:
    return {Drug: Target.DRUG, DrugClass: Target.DRUG_CLASS, Monograph: Target.MONOGRAPH, Topic: Target.TOPIC}[
        type(obj)
    ]


def _brand(brand: BrandName) -> dict:
    return {"id": brand.pk, "name": brand.name, "slug": brand.slug, "notes": brand.notes}


def _alias(alias: Alias) -> dict:
    return {"id": alias.pk, "name": alias.name, "slug": alias.slug, "kind": alias.kind}


def _normal(snap: dict) -> dict:
    """Rows in one order (existing rows by id, then new ones by slug), so equal content compares equal."""
    for key in ("brands", "aliases"):
        if key in snap:
            snap[key] = sorted(snap[key], key=lambda row: (row.get("id") is None, row.get("id") or 0, row["slug"]))
    return snap


def snapshot(obj) -> dict:
    """The object as readers see it (and as it is stored), from the database."""
    return _normal(_snapshot(obj))


def _snapshot(obj) -> dict:
    if isinstance(obj, Drug):
        return {
            "name": obj.name,
            "slug": obj.slug,
            "is_banned": obj.is_banned,
            "classes": sorted(obj.classes.values_list("slug", flat=True)),
            "brands": [_brand(b) for b in BrandName.objects.filter(drug=obj).order_by("pk")],
            "aliases": [_alias(a) for a in Alias.objects.filter(drug=obj).order_by("pk")],
        }
    if isinstance(obj, DrugClass):
        parent = DrugClass.objects.filter(pk=obj.parent_id).values_list("slug", flat=True).first()
        return {"name": obj.name, "slug": obj.slug, "parent": parent, "description": obj.description}
    if isinstance(obj, Monograph):
        return {
            "slug": obj.slug,
            "drug": Drug.objects.filter(pk=obj.drug_id).values_list("slug", flat=True).first(),
            "topic": Topic.objects.filter(pk=obj.topic_id).values_list("slug", flat=True).first(),
            "level": obj.level,
            "kind": obj.kind,
            "is_primary": obj.is_primary,
            "review_interval_months": obj.review_interval_months,
            "legacy_paths": sorted(LegacyPath.objects.filter(monograph=obj).values_list("path", flat=True)),
        }
    if isinstance(obj, Topic):
        return {"name": obj.name, "slug": obj.slug}
    raise TypeError(f"No snapshot for {type(obj).__name__}")


def snapshot_from_forms(obj, form, formsets) -> dict:
    """The object as an admin form and its inline formsets would make it, without writing anything.

    `form.instance` already carries the form's values (ModelForm validation sets them); many-to-many
    values and inline rows are read from the cleaned data.
    """
    after = snapshot(obj) if obj.pk else {}
    instance = form.instance
    if isinstance(instance, Drug):
        after.update(name=instance.name, slug=instance.slug, is_banned=instance.is_banned)
        if "classes" in form.cleaned_data:
            after["classes"] = sorted(c.slug for c in form.cleaned_data["classes"])
        for formset in formsets:
            rows = _rows(formset)
            if formset.model is BrandName:
                after["brands"] = [{"id": r.pk, "name": r.name, "slug": r.slug, "notes": r.notes} for r in rows]
            elif formset.model is Alias:
                after["aliases"] = [{"id": r.pk, "name": r.name, "slug": r.slug, "kind": r.kind} for r in rows]
    elif isinstance(instance, DrugClass):
        after.update(
            name=instance.name,
            slug=instance.slug,
            parent=instance.parent.slug if instance.parent_id else None,
            description=instance.description,
        )
    elif isinstance(instance, Monograph):
        after.update(
            slug=instance.slug,
            drug=instance.drug.slug if instance.drug_id else None,
            topic=instance.topic.slug if instance.topic_id else None,
            level=instance.level,
            kind=instance.kind,
            is_primary=instance.is_primary,
            review_interval_months=instance.review_interval_months,
        )
        for formset in formsets:
            if formset.model is LegacyPath:
                after["legacy_paths"] = sorted(LegacyPath.normalise(r.path) for r in _rows(formset))
    elif isinstance(instance, Topic):
        after.update(name=instance.name, slug=instance.slug)
    return _normal(after)


def _rows(formset) -> list:
    """The rows an inline formset would leave: kept and changed existing rows, then new ones."""
    rows = []
    for form in formset.forms:
        if not hasattr(form, "cleaned_data") or not form.cleaned_data:
            continue  # an empty extra form
        if form.cleaned_data.get("DELETE"):
            continue
        rows.append(form.instance)
    return rows


def changes(target: str, before: dict, after: dict) -> list[tuple[str, SafeString, SafeString]]:
    """(label, before, after) for every field that differs, in words a reviewer reads, as HTML: each line
    that is not on the other side is marked (<del> before, <ins> after), so one renamed brand among
    several stands out."""
    found = []
    for key, label in LABELS[target]:
        old, new = _words(key, before.get(key)), _words(key, after.get(key))
        if old != new:
            old_lines, new_lines = old.split("\n"), new.split("\n")
            found.append((label, _marked(old_lines, set(new_lines), "del"), _marked(new_lines, set(old_lines), "ins")))
    return found


def _marked(lines: list[str], other: set[str], tag: str) -> SafeString:
    return format_html_join(
        mark_safe("<br>"),  # noqa: S308 - a constant
        "{}",
        ((format_html("<{0}>{1}</{0}>", tag, line) if line not in other else line,) for line in lines),
    )


def _words(key: str, value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "\n".join(_row_words(row) for row in value) or "—"
        return ", ".join(value) or "—"
    return str(value)


def _row_words(row: dict) -> str:
    text = f"{row['name']} (/{row['slug']}/)"
    if row.get("kind"):
        text += f", {row['kind']}"
    if row.get("notes"):
        text += f" — editors' note: {row['notes']}"
    return text


def apply(proposal: ProposedChange, obj) -> dict:
    """Write `proposal.after` onto `obj` (locked by the caller); returns what to refresh.

    Refused when the object changed since the proposal was made (someone else's change was applied
    first): applying it would silently undo theirs.
    """
    current = snapshot(obj)
    if current != {**ADDED_KEYS.get(proposal.target, {}), **proposal.before}:
        raise ApplyError(
            f"{proposal.get_target_display().capitalize()} “{proposal.object_name}” changed after this was "
            "proposed; applying it would undo that change.  Reject it and propose again from the current version."
        )
    after = {**ADDED_KEYS.get(proposal.target, {}), **proposal.after}
    try:
        if isinstance(obj, Drug):
            return _apply_drug(obj, current, after)
        if isinstance(obj, DrugClass):
            return _apply_class(obj, after)
        if isinstance(obj, Topic):
            return _apply_topic(obj, current, after)
        return _apply_monograph(obj, current, after)
    except (IntegrityError, DrugClass.DoesNotExist, Drug.DoesNotExist, Topic.DoesNotExist) as exc:
        raise ApplyError(f"The change cannot be applied as proposed: {exc}") from exc


def _apply_drug(drug: Drug, before: dict, after: dict) -> dict:
    drug.name, drug.slug, drug.is_banned = after["name"], after["slug"], after["is_banned"]
    drug.save()
    drug.classes.set(DrugClass.objects.filter(slug__in=after["classes"]))
    for model, key, fields in (
        (BrandName, "brands", ("name", "slug", "notes")),
        (Alias, "aliases", ("name", "slug", "kind")),
    ):
        kept = {row["id"] for row in after[key] if row.get("id")}
        model.objects.filter(drug=drug).exclude(pk__in=kept).delete()
        for row in after[key]:
            values = {field: row[field] for field in fields}
            if row.get("id"):
                model.objects.filter(pk=row["id"], drug=drug).update(**values)
            else:
                model.objects.create(drug=drug, **values)
    redirects = [_redirect(path, monograph) for path, monograph in redirects_made(drug, before, after)]
    return {"drugs": [drug], "redirects": redirects}


def _apply_class(drug_class: DrugClass, after: dict) -> dict:
    drug_class.name, drug_class.slug, drug_class.description = after["name"], after["slug"], after["description"]
    drug_class.parent = DrugClass.objects.get(slug=after["parent"]) if after["parent"] else None
    if drug_class.parent_id == drug_class.pk or (drug_class.parent and drug_class in drug_class.parent.ancestors()):
        raise ApplyError("A class cannot be its own parent or ancestor.")
    drug_class.save()
    return {"drugs": list(drug_class.drugs.all()), "redirects": []}


def _apply_topic(topic: Topic, before: dict, after: dict) -> dict:
    made = redirects_made(topic, before, after)  # read before the topic's slug changes
    topic.name, topic.slug = after["name"], after["slug"]
    topic.save()
    redirects = [_redirect(path, monograph) for path, monograph in made]
    return {"drugs": [], "monographs": list(topic.monographs.all()), "redirects": redirects}


def _apply_monograph(monograph: Monograph, before: dict, after: dict) -> dict:
    old_drug = monograph.drug
    monograph.slug, monograph.kind = after["slug"], after["kind"]
    monograph.is_primary, monograph.review_interval_months = after["is_primary"], after["review_interval_months"]
    monograph.drug = Drug.objects.get(slug=after["drug"]) if after["drug"] else None
    monograph.topic = Topic.objects.get(slug=after["topic"]) if after["topic"] else None
    monograph.level = after["level"]
    monograph.save()
    LegacyPath.objects.filter(monograph=monograph).exclude(path__in=after["legacy_paths"]).delete()
    for path in after["legacy_paths"]:
        _redirect(path, monograph)
    redirects = [_redirect(path, monograph) for path, monograph in redirects_made(monograph, before, after)]
    drugs = [drug for drug in (old_drug, monograph.drug) if drug is not None]
    return {"drugs": drugs, "monographs": [monograph], "redirects": redirects}


def redirects_made(obj, before: dict, after: dict) -> list[tuple[str, Monograph]]:
    """The old addresses a change of slug leaves answering with a redirect (path, monograph it leads to):
    what `apply` records, and what the proposal's page tells its reviewer (monographs/linkgraph.py).
    A class's old address is not kept: nothing redirects it."""
    if before.get("slug") == after.get("slug"):
        return []
    old = before["slug"]
    if isinstance(obj, Drug):
        primary = Monograph.objects.filter(drug=obj, is_primary=True).first()
        return [(f"/drugs/{old}", primary)] if primary is not None else []
    if isinstance(obj, Topic):  # every level's old address leads to the level
        return [(f"/topics/{old}/{Monograph.LEVEL_PATHS[m.level]}", m) for m in obj.monographs.all()]
    if isinstance(obj, Monograph):
        return [(f"/monographs/{old}", obj)]
    return []


def _redirect(path: str, monograph: Monograph) -> str:
    path = LegacyPath.normalise(path)
    existing = LegacyPath.objects.filter(path=path).first()
    if existing is None:
        LegacyPath.objects.create(path=path, monograph=monograph)
    elif existing.monograph_id != monograph.pk:
        raise ApplyError(f"The old address {path} already redirects to {existing.monograph}.")
    return path
