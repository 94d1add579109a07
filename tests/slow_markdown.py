"""Markdown shaped to be slow, at drugref's size limit, and a normal monograph of the same size to compare with.

Each shape repeats one unit to fill blocks as large as monographs.bounds accepts (characters and lines
without a blank line), then as many blocks as the size limit holds: what someone who knows the limits would
send.  `REFUSED` are shapes drugref refuses outright (they cannot be made acceptable by staying within
the block limits).  Used by tests/test_render_bounds.py and by `make bench` (bench/worker.py).
"""

from __future__ import annotations

from pathlib import Path

from monographs.bounds import (
    _MARKUP,
    BLOCK_CHARACTERS,
    BLOCK_LINES,
    BODY_LIMIT,
    DEPTH_LIMIT,
    LINES_LIMIT,
    MARKUP_SHARE,
)

SEED_B = Path(__file__).resolve().parent.parent / "fixtures" / "sources" / "001_cd223eb3d23ec8b2.txt"


def _fill(unit: str, limit: int) -> str:
    """`unit` repeated into blocks within the block limits, blocks separated by blank lines, up to `limit`;
    plain letters after each unit keep its markup within the share drugref accepts."""
    lines = unit.count("\n")
    short = max(len(_MARKUP.findall(unit)) * MARKUP_SHARE + 4, lines * (BODY_LIMIT // LINES_LIMIT + 1)) - len(unit)
    if short > 0 and lines:
        first, rest = unit.split("\n", 1)
        unit = first + "x" * short + "\n" + rest  # a longer first line: a longer term, heading or item
    elif short > 0:
        unit += "x" * short
    per_block = min((BLOCK_CHARACTERS - 1) // len(unit), max(1, BLOCK_LINES // max(1, unit.count("\n"))))
    block = (unit * per_block).strip("\n")
    blocks, size = [], 0
    while size + len(block) + 2 <= limit:
        blocks.append(block)
        size += len(block) + 2
    rest = limit - size - 2
    if rest > 0:
        blocks.append((unit * (rest // len(unit) + 1))[:rest].strip("\n"))
    return "\n\n".join(blocks)


def _nested(depth: int, line) -> str:
    return "".join(line(level) + "\n" for level in range(depth))


SLOW_UNITS = {
    "run of [": "[",
    "run of ![": "![",
    "run of ]": "]",
    "[ and ] alternating": "[]",
    "run of [](": "[](",
    "run of [a](": "[a](",
    "run of [a][": "[a][",
    "run of *": "*",
    "run of _": "_",
    "*a repeated": "*a",
    "*_ repeated": "*_",
    "_a repeated": "_a",
    "**a repeated": "**a ",
    "run of `": "`",
    "`a repeated": "`a",
    "``a repeated": "``a ",
    "run of <": "<",
    "<a repeated": "<a",
    "<a␠ repeated (unclosed tags)": "<a ",
    "<div> repeated": "<div>",
    "<!-- repeated": "<!--",
    "<![CDATA[ repeated": "<![CDATA[",
    "run of \\": "\\",
    "&# repeated": "&#",
    "# x { repeated": "# x {",
    "[^1] repeated": "[^1]",
    "link uses [r1][r1]": "[r1][r1] ",
    "link definitions": "[r1]: http://example.org/1\n",
    "abbreviation definitions": "*[HTML]: x\n",
    "list items, one per line": "* x\n",
    "ordered items, one per line": "1. x\n",
    "headings, one per line": "# x\n",
    "setext headings": "x\n=\n",
    "rules": "***\n",
    "definitions": "a\n: b\n",
    "callouts": "!!! note\n    x\n",
    "fenced code": "```\nx\n```\n",
    "table rows": "|a|b|\n",
    "lines of | and -": "a|b\n-|-\n",
    "nested lists, 16 deep": _nested(DEPTH_LIMIT, lambda level: "    " * level + "* x"),
    "nested quotes, 16 deep": _nested(DEPTH_LIMIT, lambda level: "> " * (level + 1) + "x"),
    "quotes in lists, 16 deep": _nested(DEPTH_LIMIT, lambda level: "> * " * ((level + 2) // 2) + "x"),
    "raw HTML in Markdown": '<div markdown="1">\n*x*\n</div>\n',
}

# Shapes drugref refuses, each with the reason it gives: they cannot be cut into acceptable blocks.
REFUSED = {
    "longer than the limit": ("x " * (BODY_LIMIT // 2 + 1), "characters long; the limit is 100,000"),
    "6,001 short lines": ("x\n\n" * 3_000, "has 6,001 lines; the limit is 5,000"),
    "one block of 50,000 [": ("[" * 50_000, "has 50,000 markup characters"),
    "one paragraph of 12,000 characters": ("word " * 2_400, "has a block of 12,000 characters"),
    "one list of 150 lines": ("* x\n" * 150, "has a block of 150 lines"),
    "100 nested list levels": ("".join("    " * level + "* x\n\n" for level in range(100)), "100 levels deep"),
    "quotes nested 40 deep": ("> " * 40 + "x", "40 levels deep"),
    "lists nested on one line": ("1. " * 40 + "x", "40 levels deep"),
    "2,000 headings": ("# x\n\n" * 2_000, "has 2,000 headings; the limit is 500"),
}


def _front_loaded(run: str, limit: int) -> str:
    """Blocks that open with as much of `run` as the markup share allows, then plain text: each opener is
    read to the end of its block when nothing closes it."""
    blocks = limit // BLOCK_CHARACTERS + 1
    size = (limit - 2 * (blocks - 1)) // blocks
    count = limit // MARKUP_SHARE // blocks // len(_MARKUP.findall(run))
    block = (run * count + "x" * size)[:size]
    return "\n\n".join([block] * blocks)


def slow_inputs(limit: int = BODY_LIMIT) -> dict[str, str]:
    inputs = {name: _fill(unit, limit) for name, unit in SLOW_UNITS.items()}
    inputs["[ before text, every block"] = _front_loaded("[", limit)
    inputs["![ before text, every block"] = _front_loaded("![", limit)
    inputs["<a␠ before text, every block"] = _front_loaded("<a ", limit)
    inputs["<![CDATA[ before text, every block"] = _front_loaded("<![CDATA[", limit)
    return inputs


def normal_monograph(limit: int = BODY_LIMIT) -> str:
    """The real format B seed monograph's body, repeated to `limit` characters (sections stay sections)."""
    from monographs.importers.sources import parse_document

    body = parse_document(SEED_B).body.strip()
    copies = [body] * (limit // (len(body) + 2) + 1)
    return "\n\n".join(copies)[:limit].rsplit("\n", 1)[0]
