"""Parse source documents of the two known formats into plain data, without touching the database.

Format A: a page of the maxillofacial patient-information site — YAML front matter (id, uri, title,
type, authorship, created_at, updated_at) and an HTML body.
Format B: a drug-reference monograph — YAML front matter (title, description, is_banned,
lastModified, faqs) and a Markdown body of `## **Bold**` sections.

Every file is treated as hostile: it is read up to a size cap, never through a symbolic link; its YAML
may not use anchors or aliases and is bounded in depth, values and string length before anything is
built from it; its HTML and Markdown are bounded in size and nesting before a recursive parser or
converter sees them; and whatever a parser still raises becomes that file's error, never the run's end.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import html as html_lib
import logging
import os
import posixpath
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import nh3
import yaml
from bs4 import BeautifulSoup, Tag
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from markdownify import MarkdownConverter

from ..bounds import DEPTH_LIMIT, document_problem
from ..media import VIDEO_TYPES, is_served_media
from .assets import IMAGE, VIDEO, AssetLibrary, AssetRefused, site_path
from .cleaning import (
    clean_answer,
    clean_question,
    normalise_heading_text,
    normalise_headings,
    parse_authorship,
    repair_mojibake,
    split_leaked_answer,
)

# Limits a real document fits many times over (the largest seed: 16 KB in all, 5 KB of front matter
# three levels deep with ~50 values, a 10 KB body, HTML five elements deep, Markdown lists two deep).
# The nesting limits sit well inside what the recursive tools survive: markdownify converts 300
# nested elements and Python-Markdown renders 100 nested quotes or lists under the default
# recursion limit; libyaml's composer (C) overflows the C stack, not Python's, so YAML depth is
# checked on the parser's event stream before any composing.
MAX_SOURCE_BYTES = 1024 * 1024
MAX_FRONT_MATTER_BYTES = 256 * 1024
MAX_FRONT_MATTER_DEPTH = 10
MAX_FRONT_MATTER_VALUES = 5_000  # keys, values and items, all levels together
MAX_FRONT_MATTER_STRING = 64 * 1024  # characters in one key or value
MAX_BODY_BYTES = 256 * 1024
MAX_HTML_DEPTH = 100  # open elements at once
MAX_MARKDOWN_DEPTH = DEPTH_LIMIT  # quotes and list levels on one line: the renderer's bound (monographs/bounds.py)
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
# Where a revision's provenance (Revision.source_meta, the front matter) keeps what the importer changed or
# could not keep; the underscore keeps it apart from the source's own keys.
WARNINGS_KEY = "_import_warnings"

logger = logging.getLogger("monographs.importers")


class Warnings(list):
    """What the importer changed or could not keep in one document: importing goes on, an editor is told.

    Each is logged too (logger `monographs.importers`), so `import_sources` can print it as it happens.
    """

    def __init__(self, path):
        super().__init__()
        self.path = str(path)

    def add(self, element: str, what: str) -> None:
        message = f"{element}: {what}"
        self.append(message)
        logger.warning("%s: %s", self.path, message)


class SourceError(Exception):
    """A source document that cannot be imported; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # sent back whole from a worker process that read the file (loader._read)
        return type(self), (self.path, self.reason)


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
    warnings: list[str] = field(default_factory=list)  # "element: what happened", also in meta[WARNINGS_KEY]

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


def _parse_date(warnings: Warnings, front: dict, key: str) -> dt.datetime | None:
    """The date/time under `key`, or None (with a warning) when it is not one: a bad date loses only itself."""
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
                warnings.add(f"front matter `{key}`", f"not a date/time ({value[:80]!r}); ignored")
                return None
            parsed = dt.datetime(day.year, day.month, day.day)
    else:
        warnings.add(f"front matter `{key}`", f"must be a date/time, not {type(value).__name__}; ignored")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


# libyaml's loader when PyYAML was built with it: the same resolver and constructors as SafeLoader, so
# the same data.  libyaml's composer is C and cannot be told to refuse aliases, so `_check_yaml_events`
# reads the event stream first: both passes together take 3.5 ms for the six example documents, against
# 18 ms for PyYAML's pure-Python safe_load and 4.2 ms for a Python composer refusing aliases over
# libyaml's events.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_yaml_events(path, raw: str) -> None:
    """Refuse anchors and aliases, and bound depth, values and string length, on the parser's event stream.

    The parser (libyaml's, or PyYAML's) is a state machine that never recurses, and it yields one
    event at a time, so a hostile document is refused at its first offending event: nothing has been
    composed, constructed or copied yet.  Aliases are what let 400 bytes stand for a billion strings
    (and a node contain itself); real front matter never uses them, so they are refused rather than
    budgeted.  Depth is checked here because composing recurses (in C for libyaml: a 100,000-deep
    flow sequence overflows the C stack and kills the process).
    """
    depth = values = 0
    for event in yaml.parse(raw, Loader=_YAML_LOADER):
        line = f"line {event.start_mark.line + 2}"
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise SourceError(path, f"YAML anchors and aliases are not allowed in front matter ({line})")
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            continue
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_FRONT_MATTER_DEPTH:
                raise SourceError(path, f"front matter is nested more than {MAX_FRONT_MATTER_DEPTH} deep ({line})")
        elif isinstance(event, yaml.ScalarEvent):
            if len(event.value) > MAX_FRONT_MATTER_STRING:
                raise SourceError(
                    path,
                    f"front matter has a value of {len(event.value):,} characters ({line}); "
                    f"the limit is {MAX_FRONT_MATTER_STRING:,}",
                )
        else:
            continue
        values += 1
        if values > MAX_FRONT_MATTER_VALUES:
            raise SourceError(path, f"front matter has more than {MAX_FRONT_MATTER_VALUES:,} keys and values")


def split_front_matter(path, text: str) -> tuple[dict, str]:
    if not text.startswith("---\n"):
        raise SourceError(path, "no YAML front matter (the file must start with a line `---`)")
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.MULTILINE)
    if end is None:
        raise SourceError(path, "front matter is not closed (no second `---` line)")
    raw, body = text[4 : 4 + end.start()], text[4 + end.end() :]
    size = len(raw.encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise SourceError(path, f"the front matter is {size:,} bytes; the limit is {MAX_FRONT_MATTER_BYTES:,} bytes")
    try:
        _check_yaml_events(path, raw)
        front = yaml.load(raw, Loader=_YAML_LOADER)  # a SafeLoader: libyaml's when available
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        # libyaml says "did not find expected ','" where PyYAML says "expected ','": one wording for both.
        problem = re.sub(r"^did not find expected\b", "expected", problem)
        raise SourceError(path, f"invalid YAML front matter{where}: {problem}") from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise SourceError(path, f"front matter must be a mapping of keys to values, not {type(front).__name__}")
    return front, body.lstrip("\n")


_FILE_KINDS = {
    stat.S_IFDIR: "a directory that cannot be listed",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}
_LINK_REFUSED = "is a symbolic link; links are not followed (name the file it points to, if you trust it)"


def _read_capped(path: Path) -> bytes:
    """At most MAX_SOURCE_BYTES + 1 bytes of a regular file, never through a symbolic link.

    The link check is on the path itself (lstat) and again when opening (O_NOFOLLOW), so a link swapped
    in between is refused too; O_NONBLOCK keeps a FIFO from blocking the run before fstat refuses it.
    """
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            raise SourceError(path, _LINK_REFUSED)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError(path, _LINK_REFUSED) from None
        raise SourceError(path, f"cannot read the file: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        kind = stat.S_IFMT(os.fstat(file.fileno()).st_mode)
        if kind != stat.S_IFREG:
            raise SourceError(path, f"not a regular file ({_FILE_KINDS.get(kind, 'of an unknown kind')})")
        try:
            return file.read(MAX_SOURCE_BYTES + 1)
        except OSError as exc:
            raise SourceError(path, f"cannot read the file: {exc.strerror}") from None


def read_source(path: Path) -> tuple[str, str]:
    """The file's text (LF line endings, mojibake repaired) and the SHA-256 of its bytes."""
    data = _read_capped(path)
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(
            path,
            f"file is {MAX_SOURCE_BYTES + 1:,}+ bytes; the limit is {MAX_SOURCE_BYTES:,} bytes "
            f"({MAX_SOURCE_BYTES // 1048576} MB)",
        )
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


def parse_document(path: Path, assets: AssetLibrary | None = None) -> ParsedDocument:
    """The document at `path`, or a SourceError naming the file and the reason.

    The limits below keep the parsers' recursion and memory in bounds; should one still give way, or
    raise anything of its own (PyYAML's int() of a 5,000-digit number, a date that does not exist),
    that is this file's error: the run goes on to the next file, or lists it with the others.
    `assets`, when given, is where the images and videos the document refers to are taken from.
    """
    path = Path(path)
    try:
        return _parse_document(path, assets)
    except SourceError:
        raise
    except RecursionError:
        raise SourceError(path, "nested too deeply to parse (Python's recursion limit was reached)") from None
    except MemoryError:
        raise SourceError(path, "ran out of memory while parsing") from None
    except Exception as exc:  # a parser's surprise is this file's error, not the end of the run
        detail = (str(exc).splitlines() or [""])[0][:200]
        raise SourceError(path, f"could not be parsed ({type(exc).__name__}: {detail})") from None


def _parse_document(path: Path, assets: AssetLibrary | None = None) -> ParsedDocument:
    text, sha = read_source(path)
    front, body = split_front_matter(path, text)
    size = len(body.encode("utf-8"))
    if size > MAX_BODY_BYTES:
        raise SourceError(path, f"the body is {size:,} bytes; the limit is {MAX_BODY_BYTES:,} bytes")
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
    warnings = Warnings(path)
    if re.match(r"\s*<(?:!--|[a-zA-Z][a-zA-Z0-9]*[\s>/])", body):
        doc = _parse_format_a(path, front, body, title, sha, meta, warnings, assets)
    elif FORMAT_B_KEYS & set(front):
        doc = _parse_format_b(path, front, body, title, sha, meta, warnings, assets)
    else:
        raise SourceError(
            path,
            "a document of neither known format: format A has an HTML body; format B has a Markdown body "
            f"and at least one of the front-matter keys {', '.join(sorted(FORMAT_B_KEYS))}",
        )
    if problem := document_problem(doc):  # what the renderer would not render in a moment
        raise SourceError(path, problem)
    if warnings:
        doc.warnings = list(warnings)
        doc.meta[WARNINGS_KEY] = list(warnings)
    return doc


def _optional_text(warnings: Warnings, front: dict, key: str) -> str:
    """Text under `key`; a number is read as its text, anything else is dropped with a warning."""
    value = front.get(key)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        warnings.add(f"front matter `{key}`", f"must be text, not {type(value).__name__}; ignored")
        return ""
    return value.strip()


# Lines that open quotes or list items: `>`, `-`/`*`/`+` or `1.`/`1)` followed by a space; indentation
# counts a level per four columns (Python-Markdown's tab length).
_LIST_MARKER = re.compile(r"(?:[*+-]|\d{1,9}[.)])(?:[ \t]+|$)")


def _markdown_depth(text: str) -> int:
    """How deep quotes and lists nest on any one line: what Python-Markdown's block parser recurses on.

    An upper bound rather than a parse (an indented code block counts as a level too), so it is cheap
    and cannot itself be led into recursion; it stops counting one past the limit.
    """
    deepest = 0
    for line in text.splitlines():
        depth = columns = position = 0
        while position < len(line) and depth + columns // 4 <= MAX_MARKDOWN_DEPTH:
            char = line[position]
            if char in " \t":
                columns += 4 if char == "\t" else 1
                position += 1
            elif char == ">":  # the marker and the one space after it
                depth += 1
                position += 2 if line[position + 1 : position + 2] == " " else 1
            elif match := _LIST_MARKER.match(line, position):  # the marker and the spaces after it
                depth += 1
                position = match.end()
            else:
                break
        deepest = max(deepest, depth + columns // 4)
    return deepest


def _check_markdown_depth(path, markdown: str, what: str = "") -> None:
    if _markdown_depth(markdown) > MAX_MARKDOWN_DEPTH:
        raise SourceError(path, f"{what}Markdown quotes and lists are nested more than {MAX_MARKDOWN_DEPTH} deep")


# ---------------------------------------------------------------------------------------------
# Format A: HTML body


def _check_html_depth(path, soup: BeautifulSoup) -> None:
    """Refuse HTML nested deeper than MAX_HTML_DEPTH before anything walks the tree recursively.

    BeautifulSoup builds the tree without recursion (a 50,000-deep one in a few seconds); markdownify,
    and much of what a tree is asked later, recurse once per level.  The walk keeps the chain of open
    ancestors, so it costs one step per element (0.04 s for 32,000 of them, against 1.3 s for a second
    pass of the HTML tokenizer over the text).
    """
    ancestors: list[Tag] = []
    for element in soup.descendants:
        if not isinstance(element, Tag):
            continue
        while ancestors and element.parent is not ancestors[-1]:
            ancestors.pop()
        ancestors.append(element)
        if len(ancestors) > MAX_HTML_DEPTH:
            raise SourceError(path, f"HTML elements are nested more than {MAX_HTML_DEPTH} deep")


class MediaReferences:
    """How a document's images, videos and posters are referred to: stored through `--assets` (an
    AssetLibrary) and written as their media URL, or kept as they were with a warning.

    A kept reference to a file this site does not serve is not shown to readers (the renderer leaves it
    out, a figure keeps its caption) and is listed by the revision's link check.
    """

    def __init__(self, library: AssetLibrary | None, warnings: Warnings, base: str = "/"):
        self.library, self.warnings, self.base = library, warnings, base

    def url(self, src: str, kind: str, element: str) -> str:
        src = src.strip()
        path = site_path(src, self.base)
        if path is None:
            parts = urlsplit(src)
            if parts.scheme in ("http", "https") or (not parts.scheme and parts.netloc):
                # Another site's file: not ours to copy or check (`//host/x.png` is read as https).
                return src if parts.scheme else f"https:{src}"
            self.warnings.add(element, f"{src[:80]!r} is not the address of a file; left out")
            return ""
        if self.library is None:
            if not is_served_media(path):
                self.warnings.add(element, f"{path}: not imported (no --assets directory given); not shown to readers")
            return path
        try:
            return self.library.localise(path, kind)
        except AssetRefused as refused:
            if not is_served_media(path):  # a file of this site's own media is shown as it is
                self.warnings.add(element, f"{path}: {refused}; not shown to readers")
            return path


class _SourceHTMLConverter(MarkdownConverter):
    """HTML → Markdown that keeps what the page meant: asides, figures, sub/superscripts, links, structure.

    `heading_offset` demotes every heading (a body with an `<h1>` gets 1: the page's title is its only
    `<h1>`).  List items are indented by four columns, what Python-Markdown needs to see a nested list
    (markdownify's own indent is the bullet's width, 2), and text after an inner list stays in its item.
    """

    def __init__(self, heading_offset: int = 0, media: MediaReferences | None = None, **options):
        options.setdefault("heading_style", "ATX")
        options.setdefault("bullets", "*")
        options.setdefault("sup_symbol", "<sup>")
        options.setdefault("sub_symbol", "<sub>")
        options.setdefault("escape_misc", False)
        # A link is `[text](address)` even when its text is its address: markdownify's `<address>` is an
        # HTML tag to Python-Markdown unless the address starts with http, and the sanitiser drops it.
        options.setdefault("autolinks", False)
        self.heading_offset = heading_offset
        self.media = media  # how file references are written (stored through --assets, or warned about)
        self.warnings = media.warnings if media else None
        self.figures = self.videos = self.frames = 0
        self.abbreviations = {}  # text -> its expansion, as <abbr title> gave them (see abbreviation_notes)
        super().__init__(**options)

    def convert_hN(self, n, el, text, parent_tags):
        return super().convert_hN(n + self.heading_offset, el, text, parent_tags)

    def convert_list(self, el, text, parent_tags):
        if "li" in parent_tags:
            # A blank line after an inner list: what follows it in the item is a paragraph of the item,
            # not words glued to the inner list's last item.
            return "\n" + text.rstrip() + "\n\n"
        return super().convert_list(el, text, parent_tags)

    convert_ul = convert_list
    convert_ol = convert_list

    def convert_li(self, el, text, parent_tags):
        text = (text or "").strip()
        if not text:
            return "\n"
        parent = el.parent
        if parent is not None and parent.name == "ol":
            start = str(parent.get("start") or "1")
            bullet = f"{(int(start) if start.isdigit() else 1) + len(el.find_previous_siblings('li'))}."
        else:
            bullet = self.options["bullets"][0]
        width = max(4, len(bullet) + 1)
        lines = text.split("\n")
        rest = [(" " * width + line) if line.strip() else "" for line in lines[1:]]
        # An item of several blocks (text after an inner list) ends with a blank line, or Python-Markdown
        # reads the next item's line as more of this item's last paragraph.
        end = "\n\n" if "" in rest else "\n"
        return "\n".join([bullet.ljust(width) + lines[0], *rest]) + end

    def convert_aside(self, el, text, parent_tags):
        inner = text.strip()
        if not inner:
            return ""
        indented = "\n".join(("    " + line) if line.strip() else "" for line in inner.splitlines())
        return f'\n\n!!! note ""\n{indented}\n\n'

    def process_tag(self, node, parent_tags=None):
        # A figure or video is written from its element (not from its converted children): images and
        # videos each once, the caption apart from them, alt text that depends on the caption.
        if node.name == "figure" and node.find(["img", "video"]) is not None:
            return self._figure(node, parent_tags or set())
        if node.name == "video":
            return self._video(node, parent_tags or set(), "")
        return super().process_tag(node, parent_tags)

    def convert_img(self, el, text, parent_tags):
        """An image outside a figure: its own alt (or words of its file name), its title as a caption."""
        title = " ".join((el.get("title") or "").split())
        src = self.media.url(el.get("src") or "", IMAGE, "image") if self.media else el.get("src", "")
        if not src:
            return ""
        if "_inline" in parent_tags:
            return _markdown_alt(el.get("alt") or "")
        alt = alt_text(el.get("alt") or "", title, src, describe_by_file=True)
        title_part = ' "{}"'.format(title.replace('"', "&quot;")) if title else ""
        return f"![{_markdown_alt(alt)}]({_destination(src)}{title_part})"

    def _figure(self, el: Tag, parent_tags: set) -> str:
        self.figures += 1
        where = f"figure {self.figures}"
        caption_el = el.find("figcaption")
        caption = ""
        if caption_el is not None:
            caption = super().process_tag(caption_el, parent_tags | {"figure"}).strip()
        caption_text = " ".join(caption_el.get_text(" ").split()) if caption_el is not None else ""
        parts, images = [], 0
        for media in el.find_all(["img", "video"]):
            if (caption_el is not None and caption_el in media.parents) or media.find_parent("video") is not None:
                continue
            if media.name == "video":
                parts.append(self._video(media, parent_tags, where, in_figure=True))
                continue
            images += 1
            raw = media.get("src") or ""
            src = self.media.url(raw, IMAGE, f"{where}, image {images}") if self.media else raw
            if src:
                alt = alt_text(media.get("alt") or "", caption_text, src)
                parts.append(f"![{_markdown_alt(alt)}]({_destination(src)})")
        parts = [part for part in parts if part]
        if "_inline" in parent_tags:  # a figure in a table cell or heading: its caption, as an image there is its alt
            return " ".join(caption.split())
        # What else the figure holds (a paragraph of text beside the image) stays, after the images.
        rest = el.__copy__()
        for media in rest.find_all(["img", "video", "figcaption"]):
            media.decompose()
        if rest.get_text(strip=True):
            parts.append(super().process_tag(rest, parent_tags | {"figure"}).strip())
        lines = ['<figure markdown="1">', "\n\n".join(parts), ""]
        if caption and "\n\n" in caption:
            lines += ['<figcaption markdown="1">', caption, "</figcaption>"]
        elif caption:
            lines.append(f'<figcaption markdown="span">{" ".join(caption.split())}</figcaption>')
        lines.append("</figure>")
        return "\n\n" + "\n".join(lines) + "\n\n"

    def _video(self, el: Tag, parent_tags: set, where: str, in_figure: bool = False) -> str:
        """`<video controls>` with its sources and poster; its fallback text ("not capable of playing…") goes."""
        self.videos += 1
        where = f"{where}, video" if where else f"video {self.videos}"
        sources = []
        candidates = [el] if el.get("src") else []
        candidates += el.find_all("source")
        for number, source in enumerate(candidates, start=1):
            raw = source.get("src") or ""
            url = self.media.url(raw, VIDEO, f"{where} source {number}") if self.media else raw
            if not url:
                continue
            kind = source.get("type") or ""
            if not _MEDIA_TYPE.fullmatch(kind):
                kind = VIDEO_TYPES.get(posixpath.splitext(urlsplit(url).path)[1].lower(), "")
            type_part = f' type="{html_lib.escape(kind)}"' if kind else ""
            sources.append(f'<source src="{html_lib.escape(url)}"{type_part}>')
        attributes = ["controls", 'preload="metadata"']
        if el.get("poster"):
            poster = self.media.url(el["poster"], IMAGE, f"{where} poster") if self.media else el["poster"]
            if poster:
                attributes.append(f'poster="{html_lib.escape(poster)}"')
        for size in ("width", "height"):
            if str(el.get(size) or "").isdigit():
                attributes.append(f'{size}="{el[size]}"')
        if not sources:
            if self.warnings is not None:
                self.warnings.add(where, "has no source to play; left out")
            return ""
        video = f"<video {' '.join(attributes)}>{''.join(sources)}</video>"
        if "_inline" in parent_tags:
            return ""
        return video if in_figure else f"\n\n{video}\n\n"

    def convert_figcaption(self, el, text, parent_tags):
        return text

    def convert_abbr(self, el, text, parent_tags):
        """The text; its expansion (`title`) becomes one of the document's abbreviations."""
        shown, title = " ".join(text.split()), " ".join((el.get("title") or "").split())
        if shown and title and not _ABBREVIATION_UNSAFE.search(shown):
            self.abbreviations.setdefault(shown, title)
        return text

    def abbreviation_notes(self) -> str:
        """Python-Markdown's abbreviation definitions (`*[INN]: International Nonproprietary Name`) for the
        <abbr title> of the page: rendered, every use of the text gets its expansion back."""
        return "\n".join(f"*[{shown}]: {title}" for shown, title in self.abbreviations.items())

    def convert_iframe(self, el, text, parent_tags):
        """A player embedded from another site (YouTube, Vimeo): no frame is shown here, so a link to it."""
        self.frames += 1
        where, src = f"iframe {self.frames}", (el.get("src") or "").strip()
        url = _player_url(src)
        if url is None:
            if self.warnings is not None:
                self.warnings.add(where, f"{src[:80]!r} is not another site's player; left out")
            return ""
        if self.warnings is not None:
            self.warnings.add(where, f"an embedded player ({url[:80]}) is not shown here; kept as a link")
        link = f"[{_markdown_alt(_player_title(el) or url)}]({_destination(url)})"
        return link if "_inline" in parent_tags else f"\n\n{link}\n\n"


def _player_url(src: str) -> str | None:
    """The address of a player embedded from another site (an <iframe>'s src, `//host/…` read as https), or
    None when it is not one."""
    parts = urlsplit(src)
    if parts.scheme in ("http", "https"):
        return src
    return f"https:{src}" if not parts.scheme and parts.netloc else None


def _player_title(frame: Tag) -> str:
    return " ".join((frame.get("title") or "").split())


# An abbreviation Python-Markdown cannot define (`*[text]: …` ends at the first `]`).
_ABBREVIATION_UNSAFE = re.compile(r"[\[\]\\]")

_MEDIA_TYPE = re.compile(r"video/[a-z0-9.+-]+(?:;\s*codecs=\"?[\w.,\s-]+\"?)?", re.I)
# "Figure 3", "Fig. 2a:", "Image 1 –": a caption's label, not what the picture shows.
_LABEL = re.compile(
    r"^(?:fig(?:ure)?|image|photo(?:graph)?|picture|illustration|diagram)\.?\s*\d+[a-z]?\s*[.:–—-]?\s*", re.I
)
# Words of file names that say nothing about the picture.
_FILE_NOISE = {
    "img", "image", "images", "pic", "picture", "photo", "fig", "figure", "dsc", "dscn", "dcim", "screenshot",
    "scan", "copy", "final", "small", "large", "thumb", "thumbnail", "web", "edit", "edited", "crop", "cropped",
    "resized", "lowres", "hires", "version", "px", "jpg", "jpeg", "png", "gif", "webp", "new", "old",
}  # fmt: skip
MAX_ALT = 125  # what screen-reader guidance suggests an alt text stays within


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _repeats(alt: str, caption: str) -> bool:
    """Whether `alt` says what the caption says: the same words, or five or more of them in a row."""
    said, caption_words = _words(alt), _words(caption)
    if not said or not caption_words:
        return False
    if said in (caption_words, _words(_LABEL.sub("", caption))):
        return True
    joined, run = " ".join(caption_words), " ".join(said)
    return len(said) >= 5 and f" {run} " in f" {joined} "


def _file_words(src: str) -> str:
    stem = posixpath.splitext(posixpath.basename(urlsplit(src).path))[0]
    # An imported file's stored name is the source's file name (assets.STORAGE_FOLDER), so it reads the same.
    stem = re.sub(r"([a-z])([A-Z])", r"\1 \2", stem)
    words = [w for w in re.split(r"[\W_]+", stem) if w and not w.isdigit() and w.lower() not in _FILE_NOISE]
    words = [w for w in words if not re.fullmatch(r"[a-z]{0,3}\d+[a-z\d]*|[0-9a-f]{8,}", w, re.I)]
    if not any(len(w) >= 3 and w.isalpha() for w in words):
        return ""
    text = " ".join(words).lower()
    return text[0].upper() + text[1:]


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:–—-") + "…"


def alt_text(own: str, caption: str, src: str, describe_by_file: bool = True) -> str:
    """A short text for an image that is not its caption (a screen reader reads both, one after the other).

    The image's own alt when it says something the caption does not; else the words of its file name
    (`mandible-fracture-xray.jpg` → "Mandible fracture xray"); else the caption's first words; else its
    label ("Figure 3"); else "Image".
    """
    own = " ".join(own.split())
    looks_like_file = re.fullmatch(r"[\w.-]+\.(?:jpe?g|png|gif|webp|svg|bmp|tiff?)", own, re.I)
    if own and not looks_like_file and own.lower() not in _FILE_NOISE and not _repeats(own, caption):
        return _shorten(own, MAX_ALT)
    if not caption:
        return (_file_words(src) if describe_by_file else "") or own
    if describe_by_file and (words := _file_words(src)) and not _repeats(words, caption):
        return words
    unlabelled = _LABEL.sub("", caption).split()
    if len(unlabelled) > 6:
        first = " ".join(unlabelled[:4]).rstrip(",;:–—-")
        return first[0].upper() + first[1:] + "…"
    label = _LABEL.match(caption)
    return label.group(0).strip(" .:–—-") if label else "Image"


def _destination(url: str) -> str:
    """A Markdown link destination: in angle brackets when it holds a space or a parenthesis."""
    return f"<{url}>" if re.search(r"[\s()<>]", url) else url


def _markdown_alt(text: str) -> str:
    """Alt text inside `![…]`: brackets and backslashes escaped, so the image's syntax stays whole."""
    return re.sub(r"([\\\[\]])", r"\\\1", text)


_EMPHASIS = {"i", "em", "b", "strong"}


def _merge_adjacent_emphasis(soup: BeautifulSoup) -> None:
    """`<i>B</i><i><sub>0</sub></i>` → `<i>B<sub>0</sub></i>`: one run of emphasis, one pair of markers.

    Two runs side by side would become `*B**<sub>0</sub>*`, which Markdown reads as bold with literal
    asterisks around it.
    """
    for element in list(soup.find_all(_EMPHASIS)):
        if element.parent is None:  # merged into its predecessor already
            continue
        following = element.next_sibling
        while isinstance(following, Tag) and following.name == element.name:
            for child in list(following.contents):
                element.append(child.extract())
            following.decompose()
            following = element.next_sibling


def _site_absolute_links(soup: BeautifulSoup, base: str) -> None:
    """Relative links to other pages of the source site (`alendronate`, `../surgery`) made site-absolute, read
    against the page's own address as the source site's browser read them.

    Left relative they would resolve against the page's address here (/drugs/x/) and lead nowhere; a
    site-absolute source address answers 301 to where its page is now, and the link check sees it.
    """
    folder = base if base.endswith("/") else posixpath.dirname(base)
    for link in soup.find_all("a", href=True):
        parts = urlsplit(link["href"].strip())
        if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
            continue  # another site, an address on this one already, or a fragment/query of this page
        path = posixpath.normpath(posixpath.join("/", folder, parts.path))
        path += "/" if parts.path.endswith("/") and path != "/" else ""
        link["href"] = urlunsplit(("", "", path, parts.query, parts.fragment))


def _table_files(table: Tag, number: int, media: MediaReferences) -> None:
    """A table's images refer to their stored files (a comparison's cells and a kept table keep them)."""
    for count, image in enumerate(table.find_all("img"), start=1):
        url = media.url(image.get("src") or "", IMAGE, f"table {number}, image {count}")
        if not url:
            image.decompose()
            continue
        image["src"] = url
        image["alt"] = alt_text(image.get("alt") or "", "", url)
    for video in table.find_all("video"):
        media.warnings.add(f"table {number}", "a video in a table is not kept (only its caption around it)")
        video.decompose()
    for count, frame in enumerate(table.find_all("iframe"), start=1):
        # As in the body (convert_iframe): the sanitiser keeps no frame, so a link to the player, or nothing.
        where, src = f"table {number}, iframe {count}", (frame.get("src") or "").strip()
        url = _player_url(src)
        if url is None:
            media.warnings.add(where, f"{src[:80]!r} is not another site's player; left out")
            frame.decompose()
            continue
        media.warnings.add(where, f"an embedded player ({url[:80]}) is not shown here; kept as a link")
        anchor = Tag(name="a", attrs={"href": url})
        anchor.string = _player_title(frame) or url
        frame.replace_with(anchor)


def _cell_markdown(cell: Tag) -> str:
    """A cell's content as one line of Markdown; a line break in it stays one, as `<br>`."""
    html = "".join(str(child) for child in cell.contents)
    lines = re.split(r" {2}\n", _SourceHTMLConverter().convert(html).strip())
    return "<br>".join(" ".join(line.split()) for line in lines)


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


# Markup a comparison's plain-text headings (subject and attribute labels) would lose.
_LABEL_MARKUP = ["a", "sub", "sup", "i", "em", "b", "strong", "code", "img", "br", "abbr"]


def _text(cell: Tag) -> str:
    return " ".join(cell.get_text(" ").split())


def _rows(table: Tag) -> list[list[Tag]]:
    rows = [row for row in table.find_all("tr") if row.find_parent("table") is table]
    return [row.find_all(["th", "td"], recursive=False) for row in rows]


def _comparison_grid(table: Tag) -> tuple[Tag | None, list[Tag], list[list[Tag | None]], list[int], str]:
    """(corner cell, subject cells, body rows padded to full width, numbers of padded rows, why not).

    A comparison is subjects × attributes: one header row naming the subjects (with or without the
    corner cell over the row labels), then rows that each start with a label and have one cell per
    subject.  Anything else (spanning cells, a second header row, one column, a nested table, headings
    with markup) gives the reason it stays an HTML table, and no grid.
    """
    no = (None, [], [], [], "")
    if table.find("table") is not None:
        return *no[:4], "it contains another table"
    if table.find(
        lambda tag: (
            tag.name in {"th", "td"}
            and (tag.get("colspan", "1") not in ("", "1") or tag.get("rowspan", "1") not in ("", "1"))
        )
    ):
        return *no[:4], "it has cells spanning several rows or columns"
    rows = [row for row in _rows(table) if row]
    if len(rows) < 2:
        return *no[:4], "it has fewer than two rows"
    header, body = rows[0], rows[1:]
    if not all(cell.name == "th" for cell in header[1:]) and table.find("thead") is None:
        return *no[:4], "it has no header row"
    if len(body[0]) > 1 and all(cell.name == "th" for cell in body[0]):
        return *no[:4], "it has several header rows"
    widest = max(len(row) for row in body)
    if max(widest, len(header)) < 2:
        return *no[:4], "it has one column"
    if len(header) == widest - 1 and _text(header[0]):
        corner, subjects = None, header  # no corner cell: every header cell names a subject
    elif len(header) >= widest:
        corner, subjects = header[0], header[1:]  # rows shorter than the header are padded
    else:
        return *no[:4], f"its header row has {len(header)} cells and its longest row {widest}"
    labels = [*subjects, *(row[0] for row in body)] + ([corner] if corner is not None else [])
    if not all(_text(cell) for cell in subjects) or not all(_text(row[0]) for row in body):
        return *no[:4], "a column or row has no heading"
    if any(cell.find(_LABEL_MARKUP) for cell in labels):
        return *no[:4], "its headings carry links, sub/superscripts or emphasis"
    if any(len(_text(cell)) > 200 for cell in subjects) or any(len(_text(row[0])) > 300 for row in body):
        return *no[:4], "a heading is too long for a comparison"
    full = len(subjects) + 1
    padded = [number for number, row in enumerate(body, start=2) if len(row) < full]
    grid = [list(row) + [None] * (full - len(row)) for row in body]
    return corner, subjects, grid, padded, ""


def _table_to_comparison(table: Tag, number: int, used: set[str], grid, warnings: Warnings):
    corner, subject_cells, rows, padded, _ = grid
    for row_number in padded:
        warnings.add(f"table {number}, row {row_number}", "fewer cells than columns; padded with empty cells")
    subjects = [_text(cell) for cell in subject_cells]
    attributes = [_text(row[0]) for row in rows]
    cells = [[_cell_markdown(cell) if cell is not None else "" for cell in row[1:]] for row in rows]
    caption, caption_el = _caption_for(table)
    footnotes, footnote_el = _footnote_for(table)
    slug_text = re.sub(r"^(Table|Comparison)\s*\d*[.:]?\s*", "", caption, flags=re.IGNORECASE) or caption
    # A marker holds letters, digits and hyphens (EMBED_PATTERN): slugify keeps `_`, so it becomes `-`.
    base = slugify(slug_text).replace("_", "-")[:80].strip("-") or f"table-{number}"
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    used.add(slug)
    # A comparison has no field for the corner cell (the row labels' heading): it goes into the caption.
    heading = _text(corner) if corner is not None else ""
    if heading and caption:
        caption = f"{caption} (rows: {heading})"
    caption = caption or heading or f"Table {number}"
    consumed = [el for el in (caption_el, footnote_el) if el is not None]
    return ParsedComparison(slug, caption, subjects, attributes, cells, footnotes), consumed


# What a table kept in the body may hold: the elements and attributes the renderer's allow-list keeps.
_TABLE_TAGS = {
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    "a", "abbr", "b", "strong", "i", "em", "sub", "sup", "br", "code", "small", "span",
    "p", "ul", "ol", "li", "del", "ins", "s", "mark", "img",
}  # fmt: skip
_TABLE_ATTRIBUTES = {
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
}


def _table_html(table: Tag) -> str:
    """A table that is not a comparison, as sanitised HTML: a raw HTML block in Markdown, a row a line.

    Header cells get a `scope` (a header row's are columns, a row's leading ones rows) so a screen
    reader can name each cell's headings.  Rows are separated by blank lines, which Python-Markdown
    reads as part of the raw block (it ends at the closing tag), so no one Markdown block is bigger than
    a row: the renderer's bounds (monographs/bounds.py) limit a block, and a long table would pass them
    as one line.
    """
    for index, row in enumerate(_rows(table)):
        in_head = row and row[0].find_parent("thead") is not None
        for position, cell in enumerate(row):
            if cell.name == "th" and not cell.get("scope"):
                cell["scope"] = "col" if index == 0 or in_head or position > 0 else "row"
    html = nh3.clean(
        str(table),
        tags=_TABLE_TAGS,
        attributes=_TABLE_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
    )
    html = '<div class="table-scroll">' + " ".join(html.split()) + "</div>"
    return re.sub(r" ?(?=<tr[ >])", "\n\n", html)


# The sentences that name a drug's class (README: "Content: sources → fixtures → database" lists them).
# The class is what follows, up to punctuation; a capture longer than six words is a sentence, not a name.
_CLASS_NAME = r"((?:[^.,;:()\n]|\([^()\n]*\))+?)\s*(?=[.,;:\n]|$)"
CLASS_PHRASINGS = [
    # "The pharmacological class of alendronic acid is: Bisphosphonates." / "Pharmacological classification is …"
    re.compile(r"pharmacological (?:classification|class)(?: of [^:.\n]{1,80}?)? is\s*:?\s*" + _CLASS_NAME, re.I),
    # "It belongs to a group of medicines called bisphosphonates" / "is one of a class of drugs known as …"
    re.compile(
        r"(?:belongs to|is one of|is part of|is in) (?:a|the) (?:drug |pharmacological )?(?:class|group|family) "
        r"(?:of (?:drugs|medications|medicines|agents) )?(?:called|known as|named)\s+(?:the\s+)?" + _CLASS_NAME,
        re.I,
    ),
    # "It belongs to the class of bisphosphonates."
    re.compile(
        r"belongs to the (?:drug )?(?:class|group|family) of (?!drugs\b|medications\b|medicines\b|agents\b)"
        + _CLASS_NAME,
        re.I,
    ),  # fmt: skip
    # A labelled line: "Drug class: Bisphosphonates" / "Therapeutic class: …" / "Pharmacological class: …"
    re.compile(
        r"^[ \t]*(?:drug|therapeutic|pharmacological) class(?:ification)?[ \t]*:[ \t]*" + _CLASS_NAME, re.I | re.M
    ),
]


def find_classes(text: str) -> list[str]:
    """The classes a text names in one of CLASS_PHRASINGS, first letter capitalised, each once."""
    found = []
    for pattern in CLASS_PHRASINGS:
        for match in pattern.finditer(text):
            # A parenthesis inside the name stays ("RANK ligand (RANKL) inhibitor"); one at its end is an aside.
            name = re.sub(r"\s*\([^()]*\)$", "", " ".join(match.group(1).split())).strip("*_ ")
            if name and len(name.split()) <= 6:
                found.append(name[0].upper() + name[1:])
    return list(dict.fromkeys(found))


def _tidy_markdown(markdown: str) -> str:
    """Trailing spaces and runs of blank lines dropped, except the two spaces of a line break (`<br>`)."""
    lines = markdown.splitlines()
    lines = [
        line.rstrip() + ("  " if line.endswith("  ") and line.strip() and following.strip() else "")
        for line, following in zip(lines, [*lines[1:], ""], strict=True)
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


_TABLE_PLACEHOLDER = "DRUGREFTABLEPLACEHOLDER{number}X"


def _parse_format_a(path, front, body, title, sha, meta, warnings: Warnings, assets=None) -> ParsedDocument:
    soup = BeautifulSoup(body, "html.parser")
    uri = front.get("uri")
    # Relative file addresses are read against the page's own address on the source site.
    media = MediaReferences(assets, warnings, "/" + uri.strip().strip("/") if isinstance(uri, str) else "/")
    _check_html_depth(path, soup)
    _merge_adjacent_emphasis(soup)
    _site_absolute_links(soup, media.base)
    comparisons, used, kept = [], set(), {}
    for number, table in enumerate(soup.find_all("table"), start=1):
        if table.find_parent("table") is not None:
            continue  # kept inside the table that holds it
        _table_files(table, number, media)
        grid = _comparison_grid(table)
        marker = soup.new_tag("p")
        if grid[4]:
            warnings.add(f"table {number}", f"kept as a table in the body, not a comparison: {grid[4]}")
            marker.string = _TABLE_PLACEHOLDER.format(number=number)
            kept[marker.string] = _table_html(table)
            table.replace_with(marker)
            continue
        comparison, consumed = _table_to_comparison(table, number, used, grid, warnings)
        comparisons.append(comparison)
        marker.string = EMBED_MARKER.format(slug=comparison.slug)
        table.replace_with(marker)
        for el in consumed:
            el.decompose()
    offset = 1 if soup.find("h1") is not None else 0
    if offset and soup.find("h6") is not None:
        warnings.add("headings", "<h6> headings stay <h6> when the body's <h1> headings are demoted")
    converter = _SourceHTMLConverter(heading_offset=offset, media=media)
    markdown = converter.convert_soup(soup)
    if converter.abbreviations:
        markdown += "\n\n" + converter.abbreviation_notes() + "\n"
    for placeholder, html in kept.items():
        # At the placeholder's indentation: a table inside a list item or a note stays inside it.
        markdown = re.sub(
            rf"^([ \t]*){placeholder}[ \t]*$",
            lambda match, html=html: (
                "\n" + "\n".join(match.group(1) + line if line else "" for line in html.split("\n")) + "\n"
            ),
            markdown,
            flags=re.MULTILINE,
        )
    markdown = _tidy_markdown(markdown)
    if not markdown.strip():
        raise SourceError(path, "the HTML body has no text")
    _check_markdown_depth(path, markdown)  # nested quotes and lists become nested Markdown, rendered later

    uri = front.get("uri")
    if uri is not None and not isinstance(uri, str):
        warnings.add("front matter `uri`", f"must be text, not {type(uri).__name__}; ignored")
        uri = None
    source_id = front.get("id") or uri or path.stem
    if not isinstance(source_id, (str, int)) or isinstance(source_id, bool):
        warnings.add("front matter `id`", f"must be text, not {type(source_id).__name__}; the file name is used")
        source_id = path.stem
    authorship = front.get("authorship") or ""
    if not isinstance(authorship, str):
        warnings.add("front matter `authorship`", f"must be text, not {type(authorship).__name__}; ignored")
        authorship = ""
    credits = parse_authorship(authorship)
    created = _parse_date(warnings, front, "created_at")
    updated = _parse_date(warnings, front, "updated_at") or created
    text = soup.get_text(" ")
    classes = find_classes(" ".join(text.split()))
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
        classes=classes,
    )


# ---------------------------------------------------------------------------------------------
# Format B: Markdown body

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$", re.MULTILINE)
_FAQ_HEADING = re.compile(r"^(FAQs?|Frequently Asked Questions)\b", re.IGNORECASE)
_BRAND_HEADING = re.compile(r"^(Alternate|Alternative|Other|Brand|Trade)\s+Names?\b", re.IGNORECASE)
_BRAND = re.compile(r"\*\*([^*\n]+?)\*\*(?:\s*\(([^()\n]*(?:\([^()\n]*\)[^()\n]*)*)\))?")


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


def _parse_faqs(warnings: Warnings, front) -> list[tuple[str, str]]:
    """The FAQs that have a question and an answer; any other item is dropped with a warning."""
    raw = front.get("faqs") or []
    if not isinstance(raw, list):
        warnings.add("front matter `faqs`", f"must be a list of {{q, a}} items, not {type(raw).__name__}; ignored")
        return []
    faqs = []
    for index, item in enumerate(raw, start=1):
        where = f"FAQ {index}"
        if not isinstance(item, dict):
            warnings.add(where, "not a {q, a} item; dropped")
            continue
        q, a = item.get("q"), item.get("a")
        if not isinstance(q, str) or not q.strip():
            warnings.add(where, "has no question; dropped")
            continue
        question, leaked = split_leaked_answer(q)
        question = clean_question(question)
        answer = clean_answer(str(a)) if isinstance(a, (str, int, float)) and not isinstance(a, bool) else ""
        if not answer and leaked:
            answer = clean_answer(leaked)
            warnings.add(where, "the answer was written into the question; it is taken from there")
        if not question:
            warnings.add(where, "has no question; dropped")
            continue
        if not answer:
            warnings.add(where, f"(“{question[:80]}”) has no answer; dropped")
            continue
        _check_markdown_depth(warnings.path, answer, f"{where}: ")
        faqs.append((question, answer))
    return faqs


_TRUE, _FALSE = {"true", "yes", "y", "on", "1"}, {"false", "no", "n", "off", "0"}


def _flag(warnings: Warnings, front: dict, key: str) -> bool | None:
    """A yes/no value: YAML's booleans, and the same written as text ("false", "Yes") or as 0/1."""
    value = front.get(key)
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    warnings.add(f"front matter `{key}`", f"must be true or false, not {value!r}; ignored")
    return None


_ITEM = re.compile(r"^( *)(?:[*+-]|\d{1,9}[.)])(?:[ \t]|$)")
# An item that may start a list under a paragraph's last line (CommonMark): a bullet or `1.`, not empty.
_INTERRUPTS = re.compile(r"(?:[*+-]|1[.)])[ \t]+\S")


def _reindent_lists(markdown: str) -> str:
    """Nested list items at 2 or 3 spaces (what many editors write) re-indented by 4 per level.

    Python-Markdown needs four columns to see a nesting level; without this a two-space sub-list is
    flattened into its parent.  Each item's depth is the number of open items whose marker lies to the
    left of it; a continuation line is indented to the depth of the items it sits under.  Already
    four-space Markdown comes out unchanged.

    A list that starts on the line right under a paragraph (CommonMark lets a bullet, or a `1.`, interrupt
    a paragraph) gets the blank line Python-Markdown needs, or its items would be read as more of the
    paragraph's text.  A line that continues an item (no blank line before it) is not such a paragraph.
    """
    out, stack = [], []  # stack: the original indents of the open items' markers
    paragraph = False  # the line before is text of a paragraph outside any list
    fence = ""  # the fence of the code block the line is in: its lines are copied as they are
    for line in markdown.split("\n"):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        opening = re.match(r"(`{3,}|~{3,})", stripped)
        if fence or (opening and indent < 4):
            if not fence:
                fence = opening.group(1)
            elif stripped.startswith(fence) and not stripped[len(fence) :].strip():
                fence = ""
            out.append(line)
            continue
        if not stripped:
            out.append(line)
            paragraph = False
            continue
        item = _ITEM.match(line)
        if item and not stack and indent < 4 and paragraph and _INTERRUPTS.match(stripped):
            out.append("")
        after_blank = not out or not out[-1].strip()
        paragraph = not item and indent < 4 and (paragraph or after_blank) and not _HEADING.match(stripped)
        if item and (stack or indent < 4):
            while stack and stack[-1] > indent:
                stack.pop()
            if not stack or stack[-1] < indent:
                stack.append(indent)
            out.append(" " * (4 * (len(stack) - 1)) + stripped)
        elif indent == 0:
            stack = []
            out.append(line)
        elif stack:
            out.append(" " * (4 * sum(1 for marker in stack if marker < indent)) + stripped)
        else:
            out.append(line)
    return "\n".join(out)


# A Markdown image, `![alt](address "title")`: the address is what `--assets` rewrites.
_MARKDOWN_IMAGE = re.compile(r"(!\[[^\]\n]{0,500}\]\()(<[^>\n]{1,2000}>|[^)\s]{1,2000})((?:\s+\"[^\"\n]{0,500}\")?\))")


def _localise_markdown_images(markdown: str, media: MediaReferences) -> str:
    """Format B's images, through `--assets` like format A's (or kept with a warning); other text as it is."""
    count = 0

    def replace(match):
        nonlocal count
        count += 1
        url = media.url(match.group(2).strip("<>"), IMAGE, f"image {count}")
        return f"{match.group(1)}{_destination(url)}{match.group(3)}" if url else ""

    return _MARKDOWN_IMAGE.sub(replace, markdown)


def _parse_format_b(path, front, body, title, sha, meta, warnings: Warnings, assets=None) -> ParsedDocument:
    _check_markdown_depth(path, body)  # the body is rendered (Python-Markdown recurses on nesting) when written
    markdown = _reindent_lists(normalise_headings(body))
    markdown = _localise_markdown_images(markdown, MediaReferences(assets, warnings))
    _check_markdown_depth(path, markdown)
    faqs = _parse_faqs(warnings, front)
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
    classes = find_classes(re.sub(r"\*\*|__", "", markdown))

    modified = _parse_date(warnings, front, "lastModified")
    source_id = front.get("id") or slugify(title)
    return ParsedDocument(
        path=path,
        format=FORMAT_B,
        source_key=f"B:{source_id}",
        title=title,
        body=markdown,
        sha256=sha,
        meta=meta,
        summary=" ".join(_optional_text(warnings, front, "description").split()),
        faqs=faqs,
        created_at=modified,
        updated_at=modified,
        is_banned=_flag(warnings, front, "is_banned"),
        brands=brands,
        classes=classes,
    )


def iter_source_paths(paths) -> list[Path]:
    """Files named, and the files inside directories named (recursively, sorted; hidden entries skipped).

    Symbolic links are never followed, neither below a directory nor named on the command line (a shell
    glob names whatever a directory holds): each is listed like a file, and `read_source` refuses it
    without touching its target.  A directory that cannot be listed is listed too, for the same reason.
    """
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not path.is_symlink():
            found.extend(_walk(path))
        else:
            found.append(path)
    return found


def _walk(top: Path) -> list[Path]:
    """Every entry under `top` that is not a directory (links to directories included), without recursion."""
    found, folders = [], [top]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(Path(entry.path))
                    else:
                        found.append(Path(entry.path))
        except OSError:
            found.append(folder)
    return sorted(found)
