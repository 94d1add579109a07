"""Every public template is valid HTML according to the Nu HTML checker (vnu-jar)."""

import json
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

from .browser import VNU_JAR, require_tool
from .test_browser_accessibility import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url) as response:
            return response.read()
    except urllib.error.HTTPError as error:  # the 404 page is a page too
        return error.read()


@pytest.mark.slow
def test_every_public_page_has_no_html_errors(live_server, seeded, tmp_path):
    jar = require_tool(VNU_JAR)
    java = shutil.which("java")
    if java is None:
        pytest.fail("The Nu HTML checker needs java: sudo apt-get install default-jre-headless")
    files = []
    for name, path in PAGES.items():
        target = tmp_path / f"{name}.html"
        target.write_bytes(fetch(live_server.url + path))
        files.append(str(target))
    result = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--exit-zero-always", *files], capture_output=True, text=True
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = [
        f"{m['url'].rsplit('/', 1)[-1]}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]
    assert errors == []
