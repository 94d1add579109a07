"""The one renderer: Markdown → sanitised HTML.

Public pages, the markdownx live preview in the admin (MARKDOWNX_MARKDOWNIFY_FUNCTION), feeds and
exports all call it, so what an editor previews is what a reader gets.  nh3 (an allow-list
sanitiser) has the last word, so stored content can never run script in anyone's browser.
"""

from __future__ import annotations

import html as html_lib
import logging
import re
import threading
import xml.etree.ElementTree as etree
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import markdown
import nh3
from django.core.cache import cache
from django.template.loader import render_to_string
from markdown import inlinepatterns
from markdown.extensions import Extension
from markdown.extensions.md_in_html import HtmlBlockPreprocessor, HTMLExtractorExtra
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from .cache import worked_around
from .importers.sources import EMBED_PATTERN
from .media import is_served_media

logger = logging.getLogger(__name__)

ALLOWED_TAGS = {
    "a",
    "abbr",
    "aside",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "section",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "video",
    "source",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    # A figure's video (importer: sources._SourceHTMLConverter): what plays it, nothing that acts on its own
    # (no autoplay, no event handlers).  Its addresses are checked after sanitising (_drop_missing_media).
    "video": {"controls", "poster", "width", "height"},
    "source": {"src", "type"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
    "sup": {"id"},
    "li": {"id"},
}
# Classes are allowed only by name (ALLOWED_CLASSES); ammonia refuses `class` in both lists.
ALLOWED_CLASSES = {
    "aside": {"note", "callout", "warning"},
    "div": {"comparison", "table-scroll"},
    "p": {"footnotes", "embed-missing"},
    "table": {"comparison"},
    "figure": {"comparison-figure"},
    "section": {"comparison"},
    "span": {"subject-note"},
}
ALLOWED_ATTRIBUTE_VALUES = {"video": {"preload": {"none", "metadata", "auto"}}}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


class _EmbedPreprocessor(Preprocessor):
    """Replace `[[comparison:slug]]` lines by the rendered table (or, without one, a notice)."""

    def __init__(self, md, tables: dict[str, str] | None):
        super().__init__(md)
        self.tables = tables

    def run(self, lines):
        out = []
        for line in lines:
            match = EMBED_PATTERN.match(line.strip())
            if not match:
                out.append(line)
                continue
            slug = match.group(1)
            if self.tables is not None and slug in self.tables:
                html = self.tables[slug]
            else:
                html = f'<p class="embed-missing">[Comparison table “{slug}” is shown here on the page.]</p>'
            out.extend(["", self.md.htmlStash.store(html), ""])
        return out


class _StructureTreeprocessor(Treeprocessor):
    """Callouts become <aside>; a paragraph holding only a titled image becomes a <figure>; inside a figure,
    a paragraph holding only images gives them to the figure."""

    def run(self, root):
        for parent in root.iter():
            for child in list(parent):
                classes = (child.get("class") or "").split()
                if parent.tag == "figure" and child.tag == "p" and _only_images(child):
                    position = list(parent).index(child)
                    parent.remove(child)
                    for offset, image in enumerate(list(child)):
                        image.tail = "\n"
                        parent.insert(position + offset, image)
                elif child.tag == "div" and "admonition" in classes:
                    child.tag = "aside"
                    child.set("class", "note")
                    for title in child.findall("p"):
                        if "admonition-title" in (title.get("class") or ""):
                            child.remove(title)
                elif child.tag == "p" and len(child) == 1 and child[0].tag == "img" and child[0].get("title"):
                    if (child.text or "").strip() or (child[0].tail or "").strip():
                        continue
                    image = child[0]
                    figure = etree.Element("figure")
                    image.tail = None
                    figure.append(image)
                    caption = etree.SubElement(figure, "figcaption")
                    caption.text = image.get("title")
                    position = list(parent).index(child)
                    parent.remove(child)
                    parent.insert(position, figure)


def _only_images(paragraph) -> bool:
    return (
        len(paragraph) > 0
        and not (paragraph.text or "").strip()
        and all(child.tag == "img" and not (child.tail or "").strip() for child in paragraph)
    )


# Python-Markdown reads from every `[` to its matching `]`, and from every `](` to its `)`, to the end of the
# paragraph when there is none: a paragraph of 8,000 `[` took ten seconds.  Link text and addresses are read
# only this far (a longer one is plain text), and all of a document's link scanning stops after the budget
# (only a document shaped to be slow gets there; its remaining brackets are plain text).
LINK_WINDOW = 2_000
LINK_SCAN_BUDGET = 200_000
_BRACKET = re.compile(r"[\[\]]")


class _BoundedLinkScan:
    """getText/getLink of Python-Markdown's link, image and reference patterns, windowed and budgeted."""

    def _spend(self, characters: int) -> bool:
        left = getattr(self.md, "drugref_link_budget", LINK_SCAN_BUDGET) - characters
        self.md.drugref_link_budget = left
        return left >= 0

    def getText(self, data, index):
        end = min(len(data), index + LINK_WINDOW)
        if data.find("]", index, end) < 0 or not self._spend(0):
            return "", index, False
        depth = 1
        for match in _BRACKET.finditer(data, index, end):
            if not self._spend(1):
                return "", index, False
            depth += 1 if match.group() == "[" else -1
            if depth == 0:
                return data[index : match.start()], match.end(), True
        return "", index, False

    def getLink(self, data, index):
        if not self._spend(0):
            return "", None, index, False
        href, title, end, handled = super().getLink(data[index : index + LINK_WINDOW], 0)
        self._spend(end)
        return href, title, index + end, handled

    def evalId(self, data, index, text):
        if isinstance(self, inlinepatterns.ShortReferenceInlineProcessor):
            return super().evalId(data, index, text)
        match = self.RE_LINK.match(data, index, index + LINK_WINDOW)
        if not match:
            return None, index, False
        return match.group(1).lower() or text.lower(), match.end(0), True


# (name, class, priority) as Python-Markdown registers them (markdown.inlinepatterns.build_inlinepatterns).
_LINK_PATTERNS = [
    ("reference", inlinepatterns.ReferenceInlineProcessor, 170),
    ("link", inlinepatterns.LinkInlineProcessor, 160),
    ("image_link", inlinepatterns.ImageInlineProcessor, 150),
    ("image_reference", inlinepatterns.ImageReferenceInlineProcessor, 140),
    ("short_reference", inlinepatterns.ShortReferenceInlineProcessor, 130),
    ("short_image_ref", inlinepatterns.ShortImageReferenceInlineProcessor, 125),
]
_BOUNDED_LINK_PATTERNS = [
    (name, type(f"Bounded{cls.__name__}", (_BoundedLinkScan, cls), {}), priority)
    for name, cls, priority in _LINK_PATTERNS
]

# html.parser reads from every `<` + letter to the tag's end, and a tag that never ends runs to the end of the
# text: 10,000 characters of `<a ` took eight seconds.  A `<` with no `>` this close is text.
TAG_WINDOW = 1_000


class _BoundedHTMLExtractor(HTMLExtractorExtra):
    def parse_starttag(self, i):
        if self.rawdata.find(">", i, i + TAG_WINDOW) < 0:
            self.handle_data("<")
            return i + 1
        return super().parse_starttag(i)


class _BoundedHtmlBlockPreprocessor(HtmlBlockPreprocessor):
    def run(self, lines):
        parser = _BoundedHTMLExtractor(self.md)
        parser.feed("\n".join(lines))
        parser.close()
        return "".join(parser.cleandoc).split("\n")


class _DrugrefExtension(Extension):
    def __init__(self, tables=None):
        self.tables = tables
        super().__init__()

    def extendMarkdown(self, md):
        md.drugref_embeds = _EmbedPreprocessor(md, self.tables)
        md.preprocessors.register(md.drugref_embeds, "drugref_embeds", 27)
        md.preprocessors.register(_BoundedHtmlBlockPreprocessor(md), "html_block", 20)
        for name, cls, priority in _BOUNDED_LINK_PATTERNS:
            md.inlinePatterns.register(cls(md.inlinePatterns[name].pattern, md), name, priority)
        md.treeprocessors.register(_StructureTreeprocessor(md), "drugref_structure", 5)


@dataclass
class Rendered:
    html: str
    toc: list[dict] = field(default_factory=list)  # [{"level", "id", "name", "children"}]


_per_thread = threading.local()


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=["extra", "admonition", "sane_lists", "toc", _DrugrefExtension()],
        extension_configs={"toc": {"permalink": False, "toc_depth": "2-3"}},
        output_format="html",
    )


# Texts rendered already, by this renderer in another process: see `rendered_ahead`.
_AHEAD: ContextVar[dict | None] = ContextVar("rendered_ahead", default=None)


@contextmanager
def rendered_ahead(renderings: dict[str, Rendered]):
    """Within the block, `render_document(text)` of a text without tables returns `renderings[text]` when
    given.  A large import has its bodies rendered by worker processes (`render_document(body, {})`, the
    same call) while it writes its rows, and its stored pages are then taken from their work."""
    token = _AHEAD.set(renderings)
    try:
        yield
    finally:
        _AHEAD.reset(token)


def render_document(text: str, tables: dict[str, str] | None = None, keep_missing_media: bool = False) -> Rendered:
    """`text` as safe HTML.  Images and videos this site would not serve are left out (see `_drop_missing_media`),
    unless `keep_missing_media`: the link check (monographs/links.py) lists them."""
    ahead = _AHEAD.get()
    if ahead and not tables and not keep_missing_media and text in ahead:
        return ahead[text]
    # This thread's converter, reset between documents: building one cost more than most conversions (a
    # sixth of an import, then a tenth of rendering pages).  Only the tables to embed change between uses.
    md = getattr(_per_thread, "markdown", None) or _markdown()
    _per_thread.markdown = md
    md.reset()
    md.drugref_embeds.tables = tables
    md.drugref_link_budget = LINK_SCAN_BUDGET
    try:
        html = md.convert(text or "")
    except RecursionError:
        # Nesting deeper than Python's stack (refused at the door by monographs.bounds; this is text stored
        # before): the page shows the text as it was written rather than an error page.
        # The converter stopped half-way, its inline processor still "inside" what it was reading: a reused
        # one would leave every later text's links and emphasis as raw Markdown.  The next one is new.
        _per_thread.markdown = None
        logger.warning("Markdown nested too deeply to render (%d characters); shown as plain text", len(text))
        return Rendered(html=f"<pre>{html_lib.escape(text)}</pre>")
    html = sanitise(html)
    if not keep_missing_media:
        html = _drop_missing_media(html)
    return Rendered(html=html, toc=_plain_toc(getattr(md, "toc_tokens", [])))


_MEDIA_TAG = re.compile(r"<(?:img|video|source)\b")
# nh3 (html5ever) writes every attribute as name="value", with `"` inside a value escaped: these patterns
# match its tags exactly, where a parse into a tree cost as much again as the rest of rendering.
_ATTRIBUTES = r'(?:\s+[^\s"\'>/=]+(?:="[^"]*")?)*'
_FILE_TAG = re.compile(rf"<(?:img|source){_ATTRIBUTES}\s*/?>")
_VIDEO_OPEN = re.compile(rf"<video{_ATTRIBUTES}\s*>")
_POSTER = re.compile(r'\sposter="([^"]*)"')
_SRC = re.compile(r'\ssrc="([^"]*)"')
_VIDEO_WITHOUT_SOURCE = re.compile(rf"<video{_ATTRIBUTES}\s*>(?:(?!<video\b|<source\b)[\s\S])*?</video>")
_EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>\n?")


def _shown(url: str | None) -> bool:
    """Whether a reader's browser gets a file for `url`: another site's http(s) address (not ours to check),
    or a file /media/ serves.  Any other address on this site (the source site's `/images/…`, a relative
    path, a media file that is not there) would be a broken image."""
    if not url:
        return False
    url = html_lib.unescape(url).strip()
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return True
    return is_served_media(url)


def _drop_missing_media(html: str) -> str:
    """Sanitised HTML without the images, video sources and posters readers would see broken.

    A video left with nothing to play goes too (its figure keeps its caption), and so does a paragraph
    left empty.  Most pages have no image or video and pass through untouched.
    """
    if not _MEDIA_TAG.search(html):
        return html

    def file_tag(match):
        src = _SRC.search(match.group())
        return match.group() if src and _shown(src.group(1)) else ""

    def video_open(match):
        poster = _POSTER.search(match.group())
        return match.group() if poster is None or _shown(poster.group(1)) else _POSTER.sub("", match.group())

    dropped = _VIDEO_WITHOUT_SOURCE.sub("", _VIDEO_OPEN.sub(video_open, _FILE_TAG.sub(file_tag, html)))
    return _EMPTY_PARAGRAPH.sub("", dropped) if dropped != html else html


def _plain_toc(tokens: list[dict]) -> list[dict]:
    """Contents entries with plain-text names (Python-Markdown escapes them; templates escape again)."""
    return [
        {
            "level": t["level"],
            "id": t["id"],
            "name": html_lib.unescape(t["name"]),
            "children": _plain_toc(t["children"]),
        }
        for t in tokens
    ]


def render_markdown(text: str) -> str:
    """Markdown → safe HTML.  This is MARKDOWNX_MARKDOWNIFY_FUNCTION: the admin preview uses it."""
    return render_document(text).html


# One line of letters, digits, spaces and plain punctuation, starting with a letter or digit, not ending
# with a space and not like an ordered list's "1.": nothing in it means anything to Markdown, nh3 or HTML,
# so it renders to itself.  Most FAQ answers and table cells are such text, and Python-Markdown's whole
# pipeline for each was a third of rendering an import's pages.  (A test checks both ways agree.)
_PLAIN_TEXT = re.compile(r"[^\W_](?:[^\W_]|[ .,;:()'\"%/?=+-])*")
_ORDERED_ITEM = re.compile(r"\d+[.)]")


def render_inline(text: str) -> str:
    """Markdown for a table cell or a short line: no wrapping paragraph when there is only one."""
    if _PLAIN_TEXT.fullmatch(text) and not text.endswith(" ") and not _ORDERED_ITEM.match(text):
        return text
    return _render_inline(text)


def _render_inline(text: str) -> str:
    html = render_markdown(text).strip()
    match = re.fullmatch(r"<p>(.*)</p>", html, re.DOTALL)
    if match and "<p>" not in match.group(1):
        return match.group(1)
    return html


def render_comparison(comparison) -> str:
    rows = [
        (attribute, [render_inline(cell.text) if cell else "" for cell in cells])
        for attribute, cells in comparison.rows()
    ]
    return sanitise(
        render_to_string(
            "includes/comparison_table.html",
            {
                "comparison": comparison,
                "subjects": list(comparison.subjects.all()),
                "rows": rows,
                "footnotes": render_inline(comparison.footnotes) if comparison.footnotes else "",
            },
        )
    )


def render_revision(revision, keep_missing_media: bool = False) -> Rendered:
    """A revision's body with its comparison tables in place of their embed markers."""
    tables = {comparison.slug: render_comparison(comparison) for comparison in revision.comparisons.all()}
    return render_document(revision.body, tables, keep_missing_media=keep_missing_media)


@dataclass
class RenderedPage:
    """Everything of a revision that goes through the renderer: body, contents and FAQ answers."""

    html: str
    toc: list[dict]
    faqs: list[tuple[str, str]]  # (question as plain text, answer as safe HTML)
    faq_texts: list[str] = field(default_factory=list)  # each answer as plain text (JSON-LD)


# Bump when the renderer's output changes, so pages cached by an older renderer are not served.
RENDERER_VERSION = 4  # 4: html_text parts no word at an inline tag (stored FAQ answers as text)
PAGE_CACHE_SECONDS = 7 * 24 * 3600


def page_cache_key(revision) -> str:
    # A live revision's content does not change; its pk, edit counter and timestamp identify it, so
    # publishing another revision (another pk) makes the page miss the cache without any invalidation.
    stamp = int(revision.updated_at.timestamp()) if revision.updated_at else 0
    return f"drugref:page:v{RENDERER_VERSION}:{revision.pk}:{revision.version}:{stamp}"


def render_page_cached(revision) -> RenderedPage:
    """`render_page` through the cache (Redis when REDIS_URL is set, else local memory)."""
    key = page_cache_key(revision)
    try:
        cached = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage must degrade to rendering, never to an error page
        worked_around(logger, "cache unavailable; rendering %s uncached", key)
        return render_page(revision)
    if cached is None:
        cached = render_page(revision)
        try:
            cache.set(key, cached, PAGE_CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            worked_around(logger, "cache unavailable; %s not stored", key)
    return cached


def page_prefetch() -> list:
    """What render_page reads of a revision, for `prefetch_related` over many revisions at once (a batch
    render: an import, `rerender`): two queries per related table for the whole batch instead of five per
    revision.  In the revision's own order: the models' default orderings go through the revision, its
    monograph and its drug, which cost a three-table join per query to sort rows of one revision."""
    from django.db.models import Prefetch

    from .models import FAQ, Comparison

    comparisons = Comparison.objects.order_by("slug")
    comparisons = comparisons.prefetch_related("attributes", "subjects__cells", "subjects__drug")
    return [Prefetch("comparisons", queryset=comparisons), Prefetch("faqs", queryset=FAQ.objects.order_by("position"))]


def render_page(revision) -> RenderedPage:
    """Render a revision for its public page with a fixed number of queries, however many tables and FAQs
    (none when its rows were fetched with `page_prefetch()`)."""
    prefetched = getattr(revision, "_prefetched_objects_cache", {})
    if "comparisons" in prefetched and "faqs" in prefetched:
        comparisons, faq_rows = revision.comparisons.all(), revision.faqs.all()
    else:
        comparisons = revision.comparisons.order_by("slug")
        comparisons = comparisons.prefetch_related("attributes", "subjects__cells", "subjects__drug")
        faq_rows = revision.faqs.order_by("position")
    tables = {comparison.slug: render_comparison(comparison) for comparison in comparisons}
    rendered = render_document(revision.body, tables)
    faqs = [(faq.question, render_inline(faq.answer)) for faq in faq_rows]
    return RenderedPage(html=rendered.html, toc=rendered.toc, faqs=faqs, faq_texts=[html_text(a) for _, a in faqs])


# A tag of the renderer's output, which has been through nh3: `<name attr="value" …>`, comments stripped,
# every `<` of the text written `&lt;` (and `>` in a value `&gt;`; a quoted `>` would be passed over too).
_TAG = re.compile(r"""<[^"'>]*(?:(?:"[^"]*"|'[^']*')[^"'>]*)*>""")
# The tags of text within a line (a link, emphasis, a superscript): they part no words.
INLINE_TAGS = ("a", "abbr", "b", "code", "em", "i", "mark", "small", "span", "strong", "sub", "sup")
_INLINE_TAG = re.compile(rf"""</?(?:{"|".join(INLINE_TAGS)})\b[^"'>]*(?:(?:"[^"]*"|'[^']*')[^"'>]*)*>""")


def html_text(html: str) -> str:
    """The text of rendered HTML, without tags, whitespace collapsed (search, JSON-LD answers).

    A tag within a line goes without a trace (“see <a>antiresorptive agents</a>.” reads “…agents.”,
    not “…agents .”; “<em>x</em>y” is the word “xy”), any other stands for a space.  For the renderer's
    output only (see _TAG): regular expressions, where Django's strip_tags runs an HTML parser until
    nothing changes, which was a sixth of indexing an import's pages."""
    return " ".join(html_lib.unescape(_TAG.sub(" ", _INLINE_TAG.sub("", html))).split())


def plain_text(markdown_text: str) -> str:
    """The text of some Markdown, without tags (JSON-LD and FHIR fields that take plain text)."""
    return html_text(render_markdown(markdown_text))
