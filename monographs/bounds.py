"""How much Markdown drugref accepts, so that no text costs the renderer more than a moment.

Python-Markdown's cost grows faster than the text for some shapes: a paragraph or list that runs on for
thousands of lines without a blank one (every heading or rule in it makes the parser read the rest again),
quotes and lists nested hundreds deep (one recursion per level), thousands of headings with the same name
(the contents numbers each duplicate by trying every earlier number), and above all text made of tiny
elements (a heading, an item or an emphasis every few characters: Python-Markdown spends the same on each).
Real monographs are nowhere near these shapes — the largest body in the sources and in `make_corpus`'s
output is 10,892 characters and 117 lines, its longest block 2,890 characters and 15 lines, and at most
one character in fifty is markup — so drugref refuses them, with a message that names the field, wherever
text comes in: the admin's forms, the live preview and the importer.  Shapes that real text can take (runs
of brackets, unclosed tags) are made cheap in the renderer instead (`monographs/rendering.py`).

This module imports nothing of drugref's, so the importer's parser can use it without importing the renderer.
"""

from __future__ import annotations

import re

BODY_LIMIT = 100_000  # characters in a revision's body
FIELD_LIMIT = 10_000  # characters in a summary, an FAQ answer, a comparison's cells or its footnotes
BLOCK_CHARACTERS = 10_000  # characters in one block (text between blank lines)
BLOCK_LINES = 100  # lines in one block
DEPTH_LIMIT = 16  # quotes and lists nested in one another (or indented code 4 × this deep)
HEADINGS_LIMIT = 500
LINES_LIMIT = 5_000  # lines in a body (a tenth of that in a field)
MARKUP_SHARE = 5  # markup characters (* _ ` [ ] < >): at most the size limit divided by this

_BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|$)")
# The containers a line opens: quote markers, list markers and indentation, before its text starts.
_LINE_PREFIX = re.compile(r"^(?:[ \t]*(?:>|[*+-][ \t]|\d{1,9}[.)][ \t]))*[ \t]*", re.MULTILINE)
_MARKER = re.compile(r">|[*+-][ \t]|\d{1,9}[.)][ \t]")
_MARKUP = re.compile(r"[*_`\[\]<>]")
_HEADING = re.compile(r"^(?:#{1,6}(?:[ \t]|$)|(?:=+|-+)[ \t]*$)", re.MULTILINE)


class MarkdownRefused(ValueError):
    """Text drugref will not render; the message says why and what the limit is."""


def markdown_problem(text: str, limit: int = FIELD_LIMIT) -> str | None:
    """Why `text` is refused (a sentence that can follow the field's name), or None if it is accepted."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > limit:
        return f"is {len(text):,} characters long; the limit is {limit:,}."
    # Python-Markdown spends the same on every element however short, so a text made of tiny ones (a
    # heading or emphasis every few characters) costs many times a normal one of the same size.
    lines, line_limit = text.count("\n") + 1, max(100, LINES_LIMIT * limit // BODY_LIMIT)
    if lines > line_limit:
        return f"has {lines:,} lines; the limit is {line_limit:,}."
    markup, markup_limit = len(_MARKUP.findall(text)), limit // MARKUP_SHARE
    if markup > markup_limit:
        return f"has {markup:,} markup characters (* _ ` [ ] < >); the limit is {markup_limit:,}."
    starts = [0] + [m.end() for m in _BLANK_LINE.finditer(text)]
    ends = [m.start() for m in _BLANK_LINE.finditer(text)] + [len(text)]
    for number, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
        block = text[start:end]
        if len(block) > BLOCK_CHARACTERS:
            return (
                f"has a block of {len(block):,} characters without a blank line (block {number}); "
                f"the limit is {BLOCK_CHARACTERS:,}: break it into paragraphs."
            )
        lines = block.count("\n") + 1
        if lines > BLOCK_LINES:
            return (
                f"has a block of {lines:,} lines without a blank line (block {number}); "
                f"the limit is {BLOCK_LINES}: break it up with blank lines."
            )
    deepest, where = 0, 0
    for match in _LINE_PREFIX.finditer(text):
        prefix = match.group().expandtabs(4)
        if len(prefix) < DEPTH_LIMIT:
            continue  # every level takes at least one character
        depth = len(_MARKER.findall(prefix)) + (len(prefix) - len(prefix.lstrip(" "))) // 4
        if depth > deepest:
            deepest, where = depth, text.count("\n", 0, match.start()) + 1
    if deepest > DEPTH_LIMIT:
        return f"nests quotes, lists or indentation {deepest} levels deep (line {where}); the limit is {DEPTH_LIMIT}."
    headings = len(_HEADING.findall(text))
    if headings > HEADINGS_LIMIT:
        return f"has {headings:,} headings; the limit is {HEADINGS_LIMIT}."
    return None


def check_markdown(text: str, label: str, limit: int = FIELD_LIMIT) -> None:
    """Raise MarkdownRefused("<label> <why>") when `text` is beyond drugref's limits."""
    problem = markdown_problem(text, limit)
    if problem:
        raise MarkdownRefused(f"{label} {problem}")


def document_problem(doc) -> str | None:
    """Why an imported document (monographs.importers.sources.ParsedDocument) is refused, or None."""
    texts = [("the body", doc.body, BODY_LIMIT), ("the summary", doc.summary, FIELD_LIMIT)]
    texts += [(f"FAQ {n}'s answer", answer, FIELD_LIMIT) for n, (_question, answer) in enumerate(doc.faqs, 1)]
    for table in doc.comparisons:
        texts.append((f"the footnotes of table “{table.slug}”", table.footnotes, FIELD_LIMIT))
        texts += [(f"a cell of table “{table.slug}”", cell, FIELD_LIMIT) for row in table.cells for cell in row]
    for label, text, limit in texts:
        problem = markdown_problem(text, limit)
        if problem:
            return f"{label} {problem}"
    return None
