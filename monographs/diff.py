"""Compare two revisions part by part, word by word — so that no change a reader would see can hide.

A proof-reader checking a new revision must see a changed dose (“every 6 months” → “every 3 months”)
at a glance, so changed spans that hold a number (with its unit) get their own highlight and are
listed at the top of the diff.

Parts are matched by their place in a sequence, never by their label.  Labels repeat: a table may get a
second row called “Onset of action”, a body a second “Adults:” section.  A diff keyed on labels folds the
second into the first and reports nothing, so lists (body sections, FAQs, tables, their columns and rows)
are aligned the way a text diff aligns lines: identical items pair first, then, inside a stretch that
changed, items with the same label, then items at the same place; what is left over was added or removed,
and an item removed in one place and added unchanged in another was moved.

The comparison works on a `Snapshot`, plain data holding everything a reader sees of a revision, so what
counts as “reader-visible” is written down once, here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import Credit, Revision

UNITS = (
    r"mg|mcg|µg|micrograms?|g|kg|ml|mL|l|L|IU|units?|%|mmol|mol|mEq|"
    r"weeks?|months?|days?|hours?|hrs?|h|min(?:utes?)?|years?|times|doses?"
)
TOKEN = re.compile(rf"\d+(?:[.,]\d+)*(?:\s?(?:{UNITS})\b)?|\w+|\s+|[^\w\s]", re.UNICODE)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BRIEF = 80  # a changed span longer than this is listed by its numbers only


# ------------------------------------------------------------------------------------------------
# What a reader sees of a revision


@dataclass(frozen=True)
class Column:
    label: str
    link: str = ""  # where the header links: “drug denosumab”, “class bisphosphonates”, or nothing

    @property
    def text(self) -> str:
        return f"{self.label} → {self.link}" if self.link else self.label


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[str, ...]  # one per column, in column order


@dataclass(frozen=True)
class Table:
    slug: str
    caption: str
    footnotes: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Snapshot:
    title: str
    summary: str
    body: str
    faqs: tuple[tuple[str, str], ...]  # (question, answer) in reading order
    tables: tuple[Table, ...]
    authors: tuple[str, ...]  # credited authors' names, in byline order


NOTHING = Snapshot(title="", summary="", body="", faqs=(), tables=(), authors=())  # before a first revision


def snapshot(revision: Revision) -> Snapshot:
    """Every reader-visible field of a revision (proof-readers are credited by approving, so not here)."""
    tables = []
    comparisons = revision.comparisons.order_by("slug").prefetch_related(
        "attributes", "subjects__cells", "subjects__drug", "subjects__drug_class"
    )
    for comparison in comparisons:
        columns = tuple(
            Column(
                subject.label,
                f"drug {subject.drug.slug}"
                if subject.drug
                else f"class {subject.drug_class.slug}"
                if subject.drug_class
                else "",
            )
            for subject in comparison.subjects.all()
        )
        rows = tuple(
            Row(attribute.label, tuple(cell.text if cell else "" for cell in cells))
            for attribute, cells in comparison.rows()
        )
        tables.append(Table(comparison.slug, comparison.caption, comparison.footnotes, columns, rows))
    credits = revision.credits.filter(role=Credit.Role.AUTHOR).select_related("author").order_by("position", "pk")
    return Snapshot(
        title=revision.title,
        summary=revision.summary,
        body=revision.body,
        faqs=tuple((faq.question, faq.answer) for faq in revision.faqs.order_by("position")),
        tables=tuple(tables),
        authors=tuple(credit.name for credit in credits),  # as signed off, once it is
    )


# ------------------------------------------------------------------------------------------------
# Word diff


@dataclass
class Block:
    label: str
    html: str
    changed: bool
    numbers_changed: list[str] = field(default_factory=list)  # the old → new number spans


def _tokens(text: str) -> list[str]:
    return TOKEN.findall(text or "")


def _brief(tokens: list[str]) -> str:
    """A changed span as listed at the top: whole when short, else only its tokens that hold a digit."""
    text = "".join(tokens).strip()
    if len(text) <= BRIEF:
        return text or "∅"
    return " … ".join(token.strip() for token in tokens if any(ch.isdigit() for ch in token)) or "∅"


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
            numbers.append(f"{_brief(a[i1:i2])} → {_brief(b[j1:j2])}")
        if removed:
            out.append(f"<del{css}>{escape(removed)}</del>")
        if added:
            out.append(f"<ins{css}>{escape(added)}</ins>")
    return mark_safe("".join(out)), numbers  # noqa: S308 - every piece of text above is escaped


def _block(label: str, old: str, new: str, moved: bool = False) -> Block:
    html, numbers = word_diff(old, new)
    return Block(label, html, moved or old != new, numbers)


# ------------------------------------------------------------------------------------------------
# Aligning two lists


@dataclass(frozen=True)
class Pair:
    old: int | None  # index in the old list, None for an added item
    new: int | None  # index in the new list, None for a removed item
    moved: bool = False

    def status(self) -> str:
        if self.moved:
            return f" (moved from {self.old + 1} to {self.new + 1})"
        if self.old is None:
            return " (added)"
        if self.new is None:
            return " (removed)"
        return ""


def align(old: Sequence, new: Sequence, keys: Sequence[Callable[[object], Hashable]]) -> list[Pair]:
    """Pair the items of two lists in reading order.

    `keys` go from strict to loose: items equal under the first key pair first; inside each stretch that
    differs, the next key is tried, and what is still unpaired there pairs by position.  An item left
    removed whose first key equals an item left added is reported as moved.
    """

    def walk(olds: list[int], news: list[int], level: int) -> list[Pair]:
        if level == len(keys):
            pairs = [Pair(o, n) for o, n in zip(olds, news, strict=False)]
            pairs += [Pair(o, None) for o in olds[len(news) :]]
            return pairs + [Pair(None, n) for n in news[len(olds) :]]
        key = keys[level]
        matcher = SequenceMatcher(None, [key(old[o]) for o in olds], [key(new[n]) for n in news], autojunk=False)
        pairs = []
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                pairs += [Pair(o, n) for o, n in zip(olds[i1:i2], news[j1:j2], strict=True)]
            else:
                pairs += walk(olds[i1:i2], news[j1:j2], level + 1)
        return pairs

    pairs = walk(list(range(len(old))), list(range(len(new))), 0)
    strict = keys[0]
    removed = {}
    for pair in pairs:
        if pair.new is None:
            removed.setdefault(strict(old[pair.old]), []).append(pair)
    result, dropped = [], set()
    for pair in pairs:
        if pair.old is None and removed.get(strict(new[pair.new])):
            gone = removed[strict(new[pair.new])].pop(0)
            dropped.add(gone)
            pair = Pair(gone.old, pair.new, moved=True)
        result.append(pair)
    return [pair for pair in result if pair not in dropped]


def _sides(pair: Pair, old: Sequence, new: Sequence):
    return (
        old[pair.old] if pair.old is not None else None,
        new[pair.new] if pair.new is not None else None,
    )


# ------------------------------------------------------------------------------------------------
# The parts of a revision


@dataclass(frozen=True)
class Section:
    path: str  # “Dosage › Standard Dosage › Adults:”
    text: str  # its heading line and the text under it, so a changed heading is a changed word


def sections(markdown: str) -> list[Section]:
    """The body as sections in reading order; two sections may share a heading path."""
    found: list[tuple[str, list[str]]] = [("Introduction", [])]
    path: list[tuple[int, str]] = []
    for line in (markdown or "").splitlines():
        match = HEADING.match(line)
        if match:
            level = len(match.group(1))
            path = [(lvl, text) for lvl, text in path if lvl < level] + [(level, match.group(2))]
            found.append((" › ".join(text for _, text in path), []))
        found[-1][1].append(line)
    parts = [Section(key, "\n".join(lines).strip()) for key, lines in found]
    return parts if parts[0].text else parts[1:]


def _section_blocks(old: str, new: str) -> list[Block]:
    a, b = sections(old), sections(new)
    old_paths, new_paths = [s.path for s in a], [s.path for s in b]
    blocks = []
    for pair in align(a, b, [lambda s: s, lambda s: s.path]):
        before, after = _sides(pair, a, b)
        label = _named(pair, old_paths, new_paths, "section")
        blocks.append(
            _block(
                label + pair.status(),
                before.text if before else "",
                after.text if after else "",
                pair.moved,
            )
        )
    return blocks


def _faq_text(faq: tuple[str, str]) -> str:
    return f"Q: {faq[0]}\nA: {faq[1]}"


def _faq_blocks(old: Sequence[tuple[str, str]], new: Sequence[tuple[str, str]]) -> list[Block]:
    blocks = []
    for pair in align(old, new, [lambda f: f, lambda f: f[0]]):
        before, after = _sides(pair, old, new)
        number = pair.new if pair.new is not None else pair.old
        blocks.append(
            _block(
                f"FAQ {number + 1}{pair.status()}",
                _faq_text(before) if before else "",
                _faq_text(after) if after else "",
                pair.moved,
            )
        )
    return blocks


def _row_text(row: Row) -> str:
    return " | ".join((row.label, *row.cells))


def _table_text(table: Table) -> str:
    lines = [
        f"Slug: {table.slug}",
        f"Caption: {table.caption}",
        " | ".join(("", *(column.text for column in table.columns))),
        *(_row_text(row) for row in table.rows),
        f"Footnotes: {table.footnotes}",
    ]
    return "\n".join(lines)


def _named(pair: Pair, old: Sequence[str], new: Sequence[str], noun: str) -> str:
    """A part's label (its new one unless it was removed), with its place when another part shares it."""
    labels, index = (new, pair.new) if pair.new is not None else (old, pair.old)
    label = labels[index]
    return f"{label} ({noun} {index + 1})" if labels.count(label) > 1 else label


def _renamed(before, after) -> str:
    """ " (renamed from “Denosumab”)" for a column or row that kept its place and cells but not its label."""
    if before is None or after is None or before.label == after.label:
        return ""
    return f" (renamed from “{before.label}”)"


def _table_blocks(old: Table, new: Table) -> list[Block]:
    name = f"Table “{new.slug}”"
    blocks = [
        _block(f"{name} › slug", old.slug, new.slug),
        _block(f"{name} › caption", old.caption, new.caption),
    ]

    # Columns pair on their header and cells first, then on their label alone, then by place.
    columns = align(
        [(column, tuple(row.cells[i] for row in old.rows)) for i, column in enumerate(old.columns)],
        [(column, tuple(row.cells[i] for row in new.rows)) for i, column in enumerate(new.columns)],
        [lambda c: c, lambda c: c[0].label],
    )
    old_labels, new_labels = [c.label for c in old.columns], [c.label for c in new.columns]
    for pair in columns:
        before, after = _sides(pair, old.columns, new.columns)
        blocks.append(
            _block(
                f"{name} › column “{_named(pair, old_labels, new_labels, 'column')}”{pair.status()}"
                + _renamed(before, after),
                before.text if before else "",
                after.text if after else "",
                pair.moved,
            )
        )

    # Rows pair on the cells of the columns both sides have, so an added column does not unpair every row.
    both = [pair for pair in columns if pair.old is not None and pair.new is not None]
    rows = align(
        [(row.label, tuple(row.cells[p.old] for p in both)) for row in old.rows],
        [(row.label, tuple(row.cells[p.new] for p in both)) for row in new.rows],
        [lambda r: r, lambda r: r[0]],
    )
    old_rows, new_rows = [r.label for r in old.rows], [r.label for r in new.rows]
    for pair in rows:
        before, after = _sides(pair, old.rows, new.rows)
        label = _named(pair, old_rows, new_rows, "row")
        if before is None or after is None:  # a whole row added or removed: one block with all its cells
            blocks.append(
                _block(
                    f"{name} › row “{label}”{pair.status()}",
                    _row_text(before) if before else "",
                    _row_text(after) if after else "",
                )
            )
            continue
        blocks.append(
            _block(
                f"{name} › row “{label}”{pair.status()}{_renamed(before, after)}", before.label, after.label, pair.moved
            )
        )
        for column in columns:
            blocks.append(
                _block(
                    f"{name} › {label} × {_named(column, old_labels, new_labels, 'column')}",
                    before.cells[column.old] if column.old is not None else "",
                    after.cells[column.new] if column.new is not None else "",
                )
            )
    blocks.append(_block(f"{name} › footnotes", old.footnotes, new.footnotes))
    return blocks


def _tables_blocks(old: Sequence[Table], new: Sequence[Table]) -> list[Block]:
    blocks = []
    for pair in align(old, new, [lambda t: t.slug]):
        before, after = _sides(pair, old, new)
        if before is not None and after is not None:
            blocks += _table_blocks(before, after)
            continue
        table = after or before
        blocks.append(
            _block(
                f"Table “{table.slug}”{pair.status()}",
                _table_text(before) if before else "",
                _table_text(after) if after else "",
            )
        )
    return blocks


def compare(old: Revision | Snapshot, new: Revision | Snapshot) -> list[Block]:
    """Every reader-visible part of two revisions, as blocks in reading order."""
    a = old if isinstance(old, Snapshot) else snapshot(old)
    b = new if isinstance(new, Snapshot) else snapshot(new)
    return [
        _block("Title", a.title, b.title),
        _block("Summary", a.summary, b.summary),
        _block("Credited authors", ", ".join(a.authors), ", ".join(b.authors)),
        *_section_blocks(a.body, b.body),
        *_faq_blocks(a.faqs, b.faqs),
        *_tables_blocks(a.tables, b.tables),
    ]
