"""Playwright driving Debian's chromium (never a downloaded browser build)."""

import base64
import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
INSTALL_HINT = (
    "Browser tests need Debian's chromium at /usr/bin/chromium: `sudo apt-get install chromium` "
    "(or set CHROMIUM_PATH). `playwright install` is not used."
)
# Flags for a closed network and a root user: no background connections, no sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("DRUGREF_REQUIRE_BROWSER"):
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page_at(browser):
    """A new page of the given viewport width; closed after the test."""
    pages = []

    def open_page(width: int = 1280, height: int = 900):
        # bypass_csp lets a test inject its checkers (axe-core); the pages themselves run under the CSP.
        context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
        page = context.new_page()
        pages.append(context)
        return page

    yield open_page
    for context in pages:
        context.close()


def session_cookie(live_server, user) -> dict:
    """A logged-in session of `user` as a cookie for the live server: for tests whose subject is not the
    log-in form (the workflow tests walk through it), two page loads fewer for each log-in."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": live_server.url}


# The page's size as Playwright's full-page screenshot measures it.
PAGE_SIZE = """() => {
    const [body, root] = [document.body, document.documentElement];
    return {
        width: Math.max(body.scrollWidth, root.scrollWidth, body.offsetWidth, root.offsetWidth, body.clientWidth,
                        root.clientWidth),
        height: Math.max(body.scrollHeight, root.scrollHeight, body.offsetHeight, root.offsetHeight, body.clientHeight,
                         root.clientHeight),
    };
}"""


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """The page (or what the viewport shows) as a PNG in artifacts/screenshots/, taken as page.screenshot takes
    it (once the fonts are loaded) but encoded for speed: the same pixels in a file ~30 % larger, for ~0.07 s
    less of the browser's CPU a screenshot (Chromium's smallest PNG encoding; ~45 screenshots a run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("document.fonts.ready")
    viewport = page.viewport_size
    if full_page:
        size = page.evaluate(PAGE_SIZE)
        clip = {"x": 0, "y": 0, **size}
        beyond = size["width"] > viewport["width"] or size["height"] > viewport["height"]
    else:
        clip = {**page.evaluate("({x: window.scrollX, y: window.scrollY})"), **viewport}
        beyond = False
    session = page.context.new_cdp_session(page)
    try:
        shot = session.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": {**clip, "scale": 1}, "captureBeyondViewport": beyond, "optimizeForSpeed": True},
        )
    finally:
        session.detach()
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


# Checkers from npm (browser-tools/package.json, installed by `make browser-tools`).
BROWSER_TOOLS = Path(os.environ.get("DRUGREF_BROWSER_TOOLS", Path(__file__).resolve().parent.parent / "browser-tools"))
AXE_JS = BROWSER_TOOLS / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = BROWSER_TOOLS / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
TOOLS_HINT = (
    "Browser checks need axe-core and vnu-jar from npm: `make browser-tools` "
    "(npm ci in browser-tools/); the Nu checker also needs java (`sudo apt-get install default-jre-headless`)."
)


def require_tool(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("DRUGREF_REQUIRE_BROWSER"):
            pytest.fail(f"{path} is missing. {TOOLS_HINT}")
        pytest.skip(TOOLS_HINT)
    return path


def axe_violations(page, exclude: tuple[str, ...] = ()) -> list[str]:
    """Run axe-core in the page (less the `exclude` selectors); one line per violation with its elements."""
    page.add_script_tag(path=str(require_tool(AXE_JS)))
    context = {"include": [["html"]], "exclude": [[selector] for selector in exclude]}
    violations = page.evaluate(
        "async (context) => (await axe.run(context, {resultTypes: ['violations']})).violations", context
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — " + ", ".join(" ".join(n["target"]) for n in v["nodes"])
        for v in violations
    ]
