"""Text-cleaning rules shared by both source formats.  Each rule is general, never a lookup table."""

from __future__ import annotations

import re
import unicodedata

import ftfy
from rapidfuzz.distance import OSA

# CJK ideographs, kana, hangul and full-width forms: what UTF-8 bytes look like when they were
# mis-decoded with a legacy East-Asian codec.
_CJK = (
    "\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)
_CJK_RUN = re.compile(f"[{_CJK}]+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_MOJIBAKE_CODECS = ("euc_jp", "gbk", "shift_jis")


def _is_latin_text(text: str) -> bool:
    """True when CJK characters are rare islands in Latin text (so they cannot be genuine prose)."""
    if not _CJK_CHAR.search(text):  # most documents: no need to count every letter
        return False
    cjk = len(_CJK_CHAR.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    return latin >= 5 * cjk


def _redecode(run: str) -> str | None:
    """The UTF-8 text whose bytes, mis-decoded with an East-Asian codec, gave `run`; else None."""
    for codec in _MOJIBAKE_CODECS:
        try:
            repaired = run.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if repaired and not _CJK_CHAR.search(repaired) and all(unicodedata.category(ch)[0] != "C" for ch in repaired):
            return repaired
    return None


_FTFY = ftfy.TextFixerConfig(
    normalization="NFC", uncurl_quotes=False, fix_line_breaks=False, fix_character_width=False, explain=False
)
# What ftfy can change in a line: a character outside printable ASCII (mojibake, controls, ligatures,
# composition) or an HTML entity.  A line of plain ASCII without `&` is already what ftfy would return.
_FTFY_WORK = re.compile(r"[^\n\x20-\x7e]|&")


def fix_text(text: str) -> str:
    """`ftfy.fix_text(text)` with our settings, line by line as ftfy works, handing ftfy only the lines it
    could change: most lines of a document are plain ASCII, and ftfy's every-fix pass over each was a
    third of parsing it.  `unescape_html="auto"` turns off from the first line holding `<`, as in ftfy;
    a line is never longer than ftfy's segment limit (a source is at most 1 MB)."""
    config, out = _FTFY, []
    for line in text.split("\n"):
        if config.unescape_html == "auto" and "<" in line:
            config = config._replace(unescape_html=False)
        out.append(ftfy.fix_and_explain(line + "\n", config)[0][:-1] if _FTFY_WORK.search(line) else line)
    return "\n".join(out)


def repair_mojibake(text: str) -> str:
    """Undo mis-decoded text: ftfy for cp1252/latin-1 mojibake, then East-Asian re-decoding.

    `Prolia速` is the UTF-8 bytes of `®` decoded as EUC-JP; encoding the CJK run back with that codec
    and decoding the bytes as UTF-8 gives `®`.  Only runs inside Latin text are touched, and only
    when the result is valid UTF-8 with no CJK left, so genuine Chinese or Japanese stays as written.
    """
    text = fix_text(text)
    if not _is_latin_text(text):
        return text

    def fix(match: re.Match) -> str:
        run = match.group(0)
        # Mis-decoded symbols come in short runs; a long run is more likely real words.
        return (_redecode(run) if len(run) <= 4 else None) or run

    return _CJK_RUN.sub(fix, text)


_BOLD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$", re.MULTILINE)


_WRAPPED_STRONG = re.compile(r"^(\*\*|__)(.*)\1$")
_WRAPPED_EMPHASIS = re.compile(r"^([*_])(?![*_])(.*)\1$")


def normalise_heading_text(text: str) -> str:
    """`**Usage**` → `Usage`; `**Common Side Effects:**` → `Common Side Effects:` (the words stay as written).

    Only a text that starts with `*` or `_` can be wrapped: the others (most headings, and this runs on
    every heading of every document) are returned at once."""
    text = text.strip()
    while text[:1] in ("*", "_"):
        stripped = _WRAPPED_STRONG.sub(r"\2", text).strip()
        stripped = _WRAPPED_EMPHASIS.sub(r"\2", stripped).strip()
        if stripped == text:
            break
        text = stripped
    return text


def normalise_headings(markdown: str) -> str:
    """Drop emphasis wrapped around whole headings (`## **Bold**` → `## Bold`)."""
    return _BOLD_HEADING.sub(lambda m: f"{m.group(1)} {normalise_heading_text(m.group(2))}", markdown)


_ANSWER_LEAD = re.compile(r"^\s*(?:\*\*|__)?\s*A\s*[:.)]\s*(?:\*\*|__)?\s*", re.IGNORECASE)
_QUESTION_LEAD = re.compile(r"^\s*(?:\*\*|__)?\s*Q\s*\d*\s*[:.)]\s*(?:\*\*|__)?\s*", re.IGNORECASE)
# Where an answer that leaked into the question starts: "?**\n\n**A:**" or a line starting "A:".
_LEAKED_ANSWER = re.compile(r"(?:\*\*|__)?\s*\n\s*\n?\s*(?:\*\*|__)?\s*A\s*:", re.IGNORECASE)


def _strip_unbalanced_emphasis(text: str) -> str:
    """Remove `**` debris: markers glued to the ends, and any left unpaired."""
    text = re.sub(r"^(?:\*\*|__)+\s*|\s*(?:\*\*|__)+$", "", text.strip())
    if text.count("**") % 2:
        text = text.replace("**", "")
    if text.count("__") % 2:
        text = text.replace("__", "")
    return text.strip()


# A line that starts a list item: a bullet or a number, then the item's text.
_LIST_ITEM = re.compile(r"(?:[*+-]|\d{1,9}[.)])\s+\S")
# An item that may start a list under a paragraph's line (CommonMark): a bullet or `1.`; "2010. It was…"
# on a wrapped line is more of the paragraph.
_LIST_START = re.compile(r"(?:[*+-]|1[.)])\s+\S")


def _unwrap(text: str, lists: bool = False) -> str:
    """YAML folded scalars keep soft line breaks; an FAQ is one paragraph, so join the lines.

    With `lists`, a line that starts a list item stays one (an answer written as a literal block or a
    quoted string keeps its line breaks: “Common side effects:” then a line per effect), with the blank
    line Markdown needs between the text and the list; the lines after an item continue it."""
    blocks = []  # Markdown blocks: a paragraph's text, or a list's items one per line
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines = [words for words in (" ".join(line.split()) for line in paragraph.split("\n")) if words]
        if not lines:
            continue
        if not lists or not any(_LIST_ITEM.match(line) for line in lines):
            blocks.append(" ".join(lines))
            continue
        runs = []  # [is a list item, its text]: an item or a paragraph goes on until the next item starts
        for line in lines:
            in_list = bool(runs) and runs[-1][0]
            is_item = bool(_LIST_ITEM.match(line)) and (not runs or in_list or bool(_LIST_START.match(line)))
            if is_item or not runs:
                runs.append([is_item, line])
            else:
                runs[-1][1] += " " + line
        items = []
        for is_item, run in runs:
            if is_item:
                items.append(run)
                continue
            blocks.append(run)
        # The text before the first item is its own paragraph; the items, one block.
        if items:
            blocks.append("\n".join(items))
    return "\n\n".join(blocks)


# An answer leaked inline, right after the question mark: "…paracetamol?** A:** Yes, …".
_INLINE_LEAKED_ANSWER = re.compile(r"(?<=\?)(?:\s|\*\*|__)*A\s*:(?:\s|\*\*|__)*")


def split_leaked_answer(text: str) -> tuple[str, str]:
    """(the question, the answer that leaked into it — or "")."""
    for pattern in (_LEAKED_ANSWER, _INLINE_LEAKED_ANSWER):
        parts = pattern.split(text, maxsplit=1)
        if len(parts) == 2:
            return parts[0], parts[1]
    return text, ""


def clean_question(text: str) -> str:
    """Keep the question only: drop a leaked answer, a `Q1:` lead and `**` debris."""
    text = split_leaked_answer(text)[0]
    text = _QUESTION_LEAD.sub("", text.strip())
    return _unwrap(_strip_unbalanced_emphasis(text))


def clean_answer(text: str) -> str:
    """Drop a leading `A:**` / `**A:**` and unpaired `**`; real emphasis inside stays."""
    text = _ANSWER_LEAD.sub("", text.strip())
    return _unwrap(_strip_unbalanced_emphasis(text), lists=True)


_NAME_SEPARATORS = re.compile(r"\s*(?:,|&|\+|;|\band\b|\bund\b)\s*", re.IGNORECASE)
_NAME_JUNK = re.compile(r"^[\s\W_]+|[\s\W_]+$")


def split_names(text: str) -> list[str]:
    """`A. Smith, B. Jones & C. Brown and D. Green` → four names; stray punctuation dropped.

    A trailing period that ends an initial (“David A.”) is kept; other edge punctuation is not.
    """
    names = []
    for part in _NAME_SEPARATORS.split(text or ""):
        name = " ".join(part.split())
        keep_period = bool(re.search(r"\b[A-Z]\.$", name))
        name = _NAME_JUNK.sub("", name)
        if keep_period and name and not name.endswith("."):
            name += "."
        if name and any(ch.isalpha() for ch in name) and name not in names:
            names.append(name)
    return names


_ROLE_LABELS = [
    ("proof_reader", re.compile(r"^(?:proof[\s-]*read(?:ing)?|reviewed|edited|checked)", re.IGNORECASE)),
    ("author", re.compile(r"^(?:authored|written|author|authors)", re.IGNORECASE)),
]


def parse_authorship(text: str) -> dict[str, list[str]]:
    """`Authored by A;Proof-read/edited by B` → {"author": ["A"], "proof_reader": ["B"]}.

    Parts are separated by `;` or `|` or line breaks; each starts with a role phrase ending in
    “by”.  A part with no recognised role credits its names as authors.
    """
    credits: dict[str, list[str]] = {"author": [], "proof_reader": []}
    for part in re.split(r"[;|\n]+", text or ""):
        part = part.strip()
        if not part:
            continue
        role = "author"
        match = re.match(r"^(.*?)\bby\b[\s:]*(.*)$", part, re.IGNORECASE | re.DOTALL)
        if match:
            label, names = match.group(1).strip(), match.group(2)
            for candidate, pattern in _ROLE_LABELS:
                if pattern.match(label):
                    role = candidate
                    break
        else:
            names = part
        for name in split_names(names):
            if name not in credits[role]:
                credits[role].append(name)
    return credits


def damerau_distance(a: str, b: str) -> int:
    """Optimal-string-alignment edit distance (insert, delete, substitute, swap neighbours), ignoring case.

    rapidfuzz computes it in C++: search checks a query word against dozens of name words per query.
    """
    return OSA.distance(a.lower(), b.lower())


def _is_letter_swap(a: str, b: str) -> bool:
    """Same letters, two of them exchanged (“Denusomab” / “Denosumab”)."""
    if len(a) != len(b):
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diff) == 2 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def is_misspelling(candidate: str, name: str) -> bool:
    """One slip in a name of six letters or more: a wrong, missing or extra letter, or two letters
    swapped (neighbours or not), with the first letter right.

    Anything more is too much: distinct drugs differ by two edits (cefuroxime / cefotaxime,
    prednisone / prednisolone).
    """
    a, b = candidate.strip().lower(), name.strip().lower()
    if a == b or min(len(a), len(b)) < 6 or a[0] != b[0]:
        return False
    # Equivalent to `damerau_distance(a, b) == 1 or _is_letter_swap(a, b)` (a property test checks it),
    # in linear time: the importer asks it of every same-letter name of similar length.
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    return short[i:] == long[i + 1 :]
