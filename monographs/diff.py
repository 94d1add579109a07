"""Compare two revisions section by section, word by word — and make changed numbers impossible to miss.

A proof-reader checking a new revision must see a changed dose (“every 6 months” → “every 3 months”)
at a glance, so changed spans that hold a number (with its unit) get their own highlight and are
listed at the top of the diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import Revision

UNITS = (
    r"mg|mcg|µg|micrograms?|g|kg|ml|mL|l|L|IU|units?|%|mmol|mol|mEq|"
    r"weeks?|months?|days?|hours?|hrs?|h|min(?:utes?)?|years?|times|doses?"
)
TOKEN = re.compile(rf"\d+(?:[.,]\d+)*(?:\s?(?:{UNITS})\b)?|\w+|\s+|[^\w\s]", re.UNICODE)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass
class Block:
    label: str
    html: str
    changed: bool
    numbers_changed: list[str] = field(default_factory=list)  # the old → new number spans


def _tokens(text: str) -> list[str]:
    return TOKEN.findall(text or "")


def word_diff(old: str, new: str) -> tuple[str, list[str]]:
    """HTML of `new` against `old` with <del>/<ins> around changed words; and the changed numbers."""
    a, b = _tokens(old), _tokens(new)
    out, numbers = [], []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            out.append(escape(added))
            continue
        has_number = any(ch.isdigit() for ch in removed + added)
        css = ' class="num"' if has_number else ""
        if has_number:
            numbers.append(f"{removed.strip() or '∅'} → {added.strip() or '∅'}")
        if removed:
            out.append(f"<del{css}>{escape(removed)}</del>")
        if added:
            out.append(f"<ins{css}>{escape(added)}</ins>")
    return mark_safe("".join(out)), numbers  # noqa: S308 - every piece of text above is escaped


def sections(markdown: str) -> dict[str, str]:
    """Body text keyed by its heading path (“Dosage › Standard Dosage › Adults:”)."""
    found: dict[str, list[str]] = {}
    path: list[tuple[int, str]] = []
    key = "Introduction"
    for line in (markdown or "").splitlines():
        match = HEADING.match(line)
        if match:
            level = len(match.group(1))
            path = [(lvl, text) for lvl, text in path if lvl < level] + [(level, match.group(2))]
            key = " › ".join(text for _, text in path)
            found.setdefault(key, [])
            continue
        found.setdefault(key, []).append(line)
    return {k: "\n".join(v).strip() for k, v in found.items()}


def _block(label: str, old: str, new: str) -> Block:
    html, numbers = word_diff(old, new)
    return Block(label, html, old != new, numbers)


def _ordered_union(first: list[str], second: list[str]) -> list[str]:
    keys = list(second)
    for index, key in enumerate(first):
        if key not in keys:
            keys.insert(min(index, len(keys)), key)
    return keys


def _comparison_texts(revision: Revision) -> dict[str, str]:
    texts = {}
    for comparison in revision.comparisons.all():
        texts[f"Table “{comparison.slug}” › caption"] = comparison.caption
        for attribute, cells in comparison.rows():
            for subject, cell in zip(comparison.subjects.all(), cells, strict=True):
                texts[f"Table “{comparison.slug}” › {attribute.label} × {subject.label}"] = cell.text if cell else ""
        texts[f"Table “{comparison.slug}” › footnotes"] = comparison.footnotes
    return texts


def _faq_texts(revision: Revision) -> dict[str, str]:
    return {f"FAQ {faq.position}": f"Q: {faq.question}\nA: {faq.answer}" for faq in revision.faqs.all()}


def compare(old: Revision, new: Revision) -> list[Block]:
    """Every part of two revisions, as blocks in reading order: title, summary, body sections, FAQs, tables."""
    blocks = [
        _block("Title", old.title, new.title),
        _block("Summary", old.summary, new.summary),
        _block("Authors", ", ".join(a.name for a in old.authors), ", ".join(a.name for a in new.authors)),
    ]
    pairs = [
        (sections(old.body), sections(new.body)),
        ({**_faq_texts(old), **_comparison_texts(old)}, {**_faq_texts(new), **_comparison_texts(new)}),
    ]
    for old_parts, new_parts in pairs:
        for key in _ordered_union(list(old_parts), list(new_parts)):
            label = key if key in new_parts else f"{key} (removed)"
            if key not in old_parts:
                label = f"{key} (new)"
            blocks.append(_block(label, old_parts.get(key, ""), new_parts.get(key, "")))
    return blocks
