"""Parse source documents of the two known formats into plain data, without touching the database.

Format A: a page of the maxillofacial patient-information site — YAML front matter (id, uri, title,
type, authorship, created_at, updated_at) and an HTML body.
Format B: a drug-reference monograph — YAML front matter (title, description, is_banned,
lastModified, faqs) and a Markdown body of `## **Bold**` sections.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from bs4 import BeautifulSoup, Tag
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from markdownify import MarkdownConverter

from ..bounds import document_problem
from .cleaning import (
    clean_answer,
    clean_question,
    normalise_heading_text,
    normalise_headings,
    parse_authorship,
    repair_mojibake,
)

MAX_SOURCE_BYTES = 5 * 1024 * 1024
MAX_TITLE_LENGTH = 300
EMBED_MARKER = "[[comparison:{slug}]]"
EMBED_PATTERN = re.compile(r"^\[\[comparison:([a-z0-9-]+)\]\]$", re.MULTILINE)

FORMAT_A = "A"
FORMAT_B = "B"
FORMAT_LABELS = {
    FORMAT_A: "A: patient-information page (YAML + HTML)",
    FORMAT_B: "B: drug-reference monograph (YAML + Markdown)",
}
FORMAT_B_KEYS = {"description", "is_banned", "lastModified", "faqs"}


class SourceError(Exception):
    """A source document that cannot be imported; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class ParsedComparison:
    slug: str
    caption: str
    subjects: list[str]
    attributes: list[str]
    cells: list[list[str]]  # one row per attribute, one cell per subject
    footnotes: str = ""


@dataclass
class ParsedDocument:
    path: Path
    format: str
    source_key: str
    title: str
    body: str
    sha256: str
    meta: dict
    summary: str = ""
    faqs: list[tuple[str, str]] = field(default_factory=list)
    comparisons: list[ParsedComparison] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    proof_readers: list[str] = field(default_factory=list)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    legacy_paths: list[str] = field(default_factory=list)
    is_banned: bool | None = None
    brands: list[tuple[str, str]] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return self.path.name


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _parse_date(path, front: dict, key: str) -> dt.datetime | None:
    value = front.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        parsed = parse_datetime(value.strip().replace("Z", "+00:00"))
        if parsed is None:
            try:
                day = dt.date.fromisoformat(value.strip())
            except ValueError:
                raise SourceError(path, f"front matter `{key}` is not a date/time: {value!r}") from None
            parsed = dt.datetime(day.year, day.month, day.day)
    else:
        raise SourceError(path, f"front matter `{key}` must be a date/time, not {type(value).__name__}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def split_front_matter(path, text: str) -> tuple[dict, str]:
    if not text.startswith("---\n"):
        raise SourceError(path, "no YAML front matter (the file must start with a line `---`)")
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.MULTILINE)
    if end is None:
        raise SourceError(path, "front matter is not closed (no second `---` line)")
    raw, body = text[4 : 4 + end.start()], text[4 + end.end() :]
    try:
        front = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceError(path, f"invalid YAML front matter{where}: {problem}") from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise SourceError(path, f"front matter must be a mapping of keys to values, not {type(front).__name__}")
    return front, body.lstrip("\n")


def read_source(path: Path) -> tuple[str, str]:
    """The file's text (LF line endings, mojibake repaired) and the SHA-256 of its bytes."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(path, f"cannot read the file: {exc.strerror}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(path, f"file is {len(data) / 1048576:.1f} MB; the limit is {MAX_SOURCE_BYTES // 1048576} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            path, f"not UTF-8 text: undecodable byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None
    if "\x00" in text:
        raise SourceError(path, "binary data (NUL bytes) in a text document")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return repair_mojibake(text), hashlib.sha256(data).hexdigest()


def parse_document(path: Path) -> ParsedDocument:
    path = Path(path)
    text, sha = read_source(path)
    front, body = split_front_matter(path, text)
    title = front.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        raise SourceError(path, "front matter has no `title`")
    if not isinstance(title, str):
        raise SourceError(path, f"front matter `title` must be text, not {type(title).__name__}")
    title = " ".join(title.split())
    if len(title) > MAX_TITLE_LENGTH:
        raise SourceError(path, f"`title` is {len(title)} characters long; the limit is {MAX_TITLE_LENGTH}")
    if not body.strip():
        raise SourceError(path, "the body after the front matter is empty")
    meta = _json_safe(front)
    if re.match(r"\s*<(?:!--|[a-zA-Z][a-zA-Z0-9]*[\s>/])", body):
        doc = _parse_format_a(path, front, body, title, sha, meta)
    elif FORMAT_B_KEYS & set(front):
        doc = _parse_format_b(path, front, body, title, sha, meta)
    else:
        raise SourceError(
            path,
            "a document of neither known format: format A has an HTML body; format B has a Markdown body "
            f"and at least one of the front-matter keys {', '.join(sorted(FORMAT_B_KEYS))}",
        )
    if problem := document_problem(doc):  # what the renderer would not render in a moment
        raise SourceError(path, problem)
    return doc


def _optional_text(path, front: dict, key: str) -> str:
    value = front.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SourceError(path, f"front matter `{key}` must be text, not {type(value).__name__}")
    return value.strip()


# ---------------------------------------------------------------------------------------------
# Format A: HTML body


class _SourceHTMLConverter(MarkdownConverter):
    """HTML → Markdown that keeps what the page meant: asides, figures, sub/superscripts, links."""

    def __init__(self, **options):
        options.setdefault("heading_style", "ATX")
        options.setdefault("bullets", "*")
        options.setdefault("sup_symbol", "<sup>")
        options.setdefault("sub_symbol", "<sub>")
        options.setdefault("escape_misc", False)
        super().__init__(**options)

    def convert_aside(self, el, text, parent_tags):
        inner = text.strip()
        if not inner:
            return ""
        indented = "\n".join(("    " + line) if line.strip() else "" for line in inner.splitlines())
        return f'\n\n!!! note ""\n{indented}\n\n'

    def convert_figure(self, el, text, parent_tags):
        img = el.find("img")
        caption_el = el.find("figcaption")
        caption = " ".join(caption_el.get_text(" ").split()) if caption_el else ""
        if img is None:
            return text
        alt = " ".join((img.get("alt") or caption).split())
        title = caption or img.get("title") or ""
        title_part = ' "{}"'.format(title.replace('"', "&quot;")) if title else ""
        return f"\n\n![{alt}]({img.get('src', '')}{title_part})\n\n"

    def convert_figcaption(self, el, text, parent_tags):
        return ""


def _cell_markdown(cell: Tag) -> str:
    html = "".join(str(child) for child in cell.contents)
    return " ".join(_SourceHTMLConverter().convert(html).split())


def _caption_for(table: Tag) -> tuple[str, Tag | None]:
    """A table's caption: its <caption>, or a heading/paragraph just before it that names it."""
    caption = table.find("caption")
    if caption is not None:
        text = " ".join(caption.get_text(" ").split())
        caption.decompose()
        return text, None
    previous = table.find_previous_sibling()
    if previous is not None and previous.name in {"h1", "h2", "h3", "h4", "h5", "h6", "p"}:
        text = " ".join(previous.get_text(" ").split())
        if previous.name != "p" or re.match(r"^(Table|Comparison)\b", text, re.IGNORECASE):
            return text, previous
    return "", None


def _footnote_for(table: Tag) -> tuple[str, Tag | None]:
    """The paragraph right after a table that starts with a footnote mark (*, †, ‡, Note:)."""
    following = table.find_next_sibling()
    if following is not None and following.name == "p":
        text = following.get_text(" ").strip()
        if re.match(r"^(\*|†|‡|§|¹|Note\b|Notes\b|Source\b)", text, re.IGNORECASE):
            return " ".join(_SourceHTMLConverter().convert(str(following)).split()), following
    return "", None


def _table_to_comparison(path, table: Tag, number: int, used: set[str]) -> tuple[ParsedComparison, list[Tag]]:
    rows = [row for row in table.find_all("tr") if row.find_parent("table") is table]
    if not rows:
        raise SourceError(path, f"table {number} has no rows")
    header = rows[0].find_all(["th", "td"], recursive=False)
    if not header or not all(cell.name == "th" for cell in header[1:]) and table.find("thead") is None:
        raise SourceError(
            path, f"table {number} has no header row (its first row must be <th> cells naming the columns)"
        )
    subjects = [" ".join(cell.get_text(" ").split()) for cell in header[1:]]
    if not subjects or not all(subjects):
        raise SourceError(path, f"table {number}: every column after the first needs a heading")
    attributes, cells = [], []
    for index, row in enumerate(rows[1:], start=2):
        row_cells = row.find_all(["th", "td"], recursive=False)
        if len(row_cells) != len(header):
            raise SourceError(
                path, f"table {number}, row {index} has {len(row_cells)} cells; the header row has {len(header)}"
            )
        attributes.append(" ".join(row_cells[0].get_text(" ").split()))
        cells.append([_cell_markdown(cell) for cell in row_cells[1:]])
    caption, caption_el = _caption_for(table)
    footnotes, footnote_el = _footnote_for(table)
    slug_text = re.sub(r"^(Table|Comparison)\s*\d*[.:]?\s*", "", caption, flags=re.IGNORECASE) or caption
    base = slugify(slug_text)[:80].strip("-") or f"table-{number}"
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    used.add(slug)
    consumed = [el for el in (caption_el, footnote_el) if el is not None]
    return (
        ParsedComparison(slug, caption or f"Table {number}", subjects, attributes, cells, footnotes),
        consumed,
    )


_CLASS_SENTENCE = re.compile(
    r"belongs to (?:a|the) (?:class|group|family) of (?:drugs|medications|medicines|agents) "
    r"(?:called|known as|named)\s+([^.,;:()]+)",
    re.IGNORECASE,
)


def _tidy_markdown(markdown: str) -> str:
    lines = [line.rstrip() for line in markdown.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _parse_format_a(path, front, body, title, sha, meta) -> ParsedDocument:
    soup = BeautifulSoup(body, "html.parser")
    comparisons, used = [], set()
    for number, table in enumerate(soup.find_all("table"), start=1):
        if table.find_parent("table") is not None:
            raise SourceError(path, f"table {number} is nested inside another table")
        comparison, consumed = _table_to_comparison(path, table, number, used)
        comparisons.append(comparison)
        marker = soup.new_tag("p")
        marker.string = EMBED_MARKER.format(slug=comparison.slug)
        table.replace_with(marker)
        for el in consumed:
            el.decompose()
    markdown = _tidy_markdown(_SourceHTMLConverter().convert_soup(soup))
    if not markdown.strip():
        raise SourceError(path, "the HTML body has no text")

    uri = front.get("uri")
    if uri is not None and not isinstance(uri, str):
        raise SourceError(path, "front matter `uri` must be text")
    source_id = front.get("id") or uri or path.stem
    if not isinstance(source_id, (str, int)):
        raise SourceError(path, "front matter `id` must be text")
    authorship = front.get("authorship") or ""
    if not isinstance(authorship, str):
        raise SourceError(path, "front matter `authorship` must be text")
    credits = parse_authorship(authorship)
    created = _parse_date(path, front, "created_at")
    updated = _parse_date(path, front, "updated_at") or created
    text = soup.get_text(" ")
    classes = [m.group(1).strip() for m in _CLASS_SENTENCE.finditer(" ".join(text.split()))]
    return ParsedDocument(
        path=path,
        format=FORMAT_A,
        source_key=f"A:{source_id}",
        title=title,
        body=markdown,
        sha256=sha,
        meta=meta,
        comparisons=comparisons,
        authors=credits["author"],
        proof_readers=credits["proof_reader"],
        created_at=created or updated,
        updated_at=updated,
        legacy_paths=["/" + uri.strip().strip("/")] if uri and uri.strip("/ ") else [],
        classes=[c[0].upper() + c[1:] for c in dict.fromkeys(classes)],
    )


# ---------------------------------------------------------------------------------------------
# Format B: Markdown body

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$", re.MULTILINE)
_FAQ_HEADING = re.compile(r"^(FAQs?|Frequently Asked Questions)\b", re.IGNORECASE)
_BRAND_HEADING = re.compile(r"^(Alternate|Alternative|Other|Brand|Trade)\s+Names?\b", re.IGNORECASE)
_BRAND = re.compile(r"\*\*([^*\n]+?)\*\*(?:\s*\(([^()\n]*(?:\([^()\n]*\)[^()\n]*)*)\))?")
_CLASSIFICATION = re.compile(
    r"pharmacological (?:classification|class) is\s*:?\s*\**\s*(.+?)\s*\**\s*(?:\.\s|\.$|\n)", re.IGNORECASE
)


def _sections(markdown: str) -> list[tuple[int, str, int, int]]:
    """(level, heading text, start, end) of every heading's section."""
    found = [(len(m.group(1)), normalise_heading_text(m.group(2)), m.start()) for m in _HEADING.finditer(markdown)]
    sections = []
    for i, (level, text, start) in enumerate(found):
        end = len(markdown)
        for later_level, _, later_start in found[i + 1 :]:
            if later_level <= level:
                end = later_start
                break
        sections.append((level, text, start, end))
    return sections


def _parse_faqs(path, front) -> list[tuple[str, str]]:
    raw = front.get("faqs") or []
    if not isinstance(raw, list):
        raise SourceError(path, "front matter `faqs` must be a list of {q, a} items")
    faqs = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str) or not isinstance(item.get("a"), str):
            raise SourceError(path, f"FAQ {index} in front matter needs text fields `q` and `a`")
        question, answer = clean_question(item["q"]), clean_answer(item["a"])
        if not question or not answer:
            raise SourceError(path, f"FAQ {index} in front matter has an empty question or answer")
        faqs.append((question, answer))
    return faqs


def _parse_format_b(path, front, body, title, sha, meta) -> ParsedDocument:
    markdown = normalise_headings(body)
    faqs = _parse_faqs(path, front)
    if faqs:
        # The body repeats the FAQs as a section; the structured FAQs replace it.
        for _level, text, start, end in reversed(_sections(markdown)):
            if _FAQ_HEADING.match(text):
                markdown = markdown[:start] + markdown[end:]
    markdown = _tidy_markdown(markdown)
    if not markdown.strip():
        raise SourceError(path, "the Markdown body is empty once the FAQ section is removed")

    brands = []
    for _level, text, start, end in _sections(markdown):
        if _BRAND_HEADING.match(text):
            for match in _BRAND.finditer(markdown[start:end].split("\n", 1)[-1]):
                name = " ".join(match.group(1).split()).rstrip(":").strip()
                if name and (name, (match.group(2) or "").strip()) not in brands:
                    brands.append((name, " ".join((match.group(2) or "").split())))
    classes = [" ".join(m.group(1).split()).strip("*").strip() for m in _CLASSIFICATION.finditer(markdown)]

    is_banned = front.get("is_banned")
    if is_banned is not None and not isinstance(is_banned, bool):
        raise SourceError(path, f"front matter `is_banned` must be true or false, not {is_banned!r}")
    modified = _parse_date(path, front, "lastModified")
    source_id = front.get("id") or slugify(title)
    return ParsedDocument(
        path=path,
        format=FORMAT_B,
        source_key=f"B:{source_id}",
        title=title,
        body=markdown,
        sha256=sha,
        meta=meta,
        summary=" ".join(_optional_text(path, front, "description").split()),
        faqs=faqs,
        created_at=modified,
        updated_at=modified,
        is_banned=is_banned,
        brands=brands,
        classes=[c for c in dict.fromkeys(classes) if c],
    )


def iter_source_paths(paths) -> list[Path]:
    """Files named, and the files inside directories named (recursively, sorted; hidden files skipped)."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            found.append(path)
    return found
