"""The admin pages editors live in, in chromium at phone and desktop width: screenshots, no sideways
scroll, axe-core clean."""

import pytest

from monographs import linkgraph
from monographs.models import Monograph

from . import factories
from .browser import axe_violations, screenshot, session_cookie
from .conftest import make_user
from .test_workflow import to_review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def in_review(seeded):
    alice, bob = make_user("alice", "Authors"), make_user("bob", "Proof-readers")
    draft = Monograph.objects.get(slug="denosumab").start_draft(alice)
    to_review(draft, alice)
    draft.request_changes(bob, "Please cite the SmPC section for the 6-month interval, and check the dental advice.")
    to_review(draft, alice)  # back in review: bob has a notification, the thread has three comments
    return draft, bob


def logged_in_page(page_at, live_server, user, width):
    page = page_at(width)
    page.context.add_cookies([session_cookie(live_server, user)])
    return page


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", ["dashboard", "inbox", "revision", "review"])
def test_the_admin_page_fits_and_is_accessible(page_at, live_server, in_review, name, width):
    draft, bob = in_review
    path = {
        "dashboard": "/admin/",
        "inbox": "/admin/inbox/",
        "revision": f"/admin/monographs/revision/{draft.pk}/change/",
        "review": f"/admin/monographs/revision/{draft.pk}/diff/",
    }[name]
    page = logged_in_page(page_at, live_server, bob, width)
    response = page.goto(live_server.url + path)
    assert response.status == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"admin-{name}-{width}")
    # Django's own tabular-inline markup leaves two header cells empty (the row's "original" column and,
    # without delete permission, the delete column): Django's template, not ours, so its header is skipped.
    assert axe_violations(page, exclude=(".tabular thead",)) == []


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", ["consistency", "retire"])
def test_the_publishers_pages_fit_and_are_accessible(page_at, live_server, seeded, name, width):
    """The consistency report and the screen that retires a drug (listing the links it leaves behind)."""
    drug = Monograph.objects.get(slug="denosumab").drug
    # Something to list: a drug without a monograph (a finding), a live page linking to the one retired.
    factories.drug("Barenab with a name long enough to wrap on a phone")
    factories.monograph(factories.drug("Xenolumab"), body="Not with [denosumab (Prolia)](/drugs/denosumab/).")
    linkgraph.rebuild_all()
    path = {"consistency": "/admin/consistency/", "retire": f"/admin/monographs/drug/{drug.pk}/retire/"}[name]
    page = logged_in_page(page_at, live_server, make_user("carol", "Publishers"), width)
    response = page.goto(live_server.url + path)
    assert response.status == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"admin-{name}-{width}")
    assert axe_violations(page) == []


# The words in a change list's cells that the table broke across lines (a line may end after "-" or "/").
BROKEN_WORDS = """() => {
    const broken = [];
    for (const cell of document.querySelectorAll("#result_list th, #result_list td")) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.data.matchAll(/[^\\s\\/-]+[\\/-]?/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
                if (lines.size > 1) broken.push(match[0]);
            }
        }
    }
    return broken;
}"""


@pytest.mark.parametrize("path", ["/admin/monographs/monograph/", "/admin/monographs/revision/"])
def test_a_change_list_beside_the_sidebar_breaks_no_word(page_at, live_server, seeded, path):
    """Beside the navigation sidebar a change list is narrower than its columns: it scrolls inside its box
    rather than squeezing "Drug reference" into "Drug refere nce"."""
    page = logged_in_page(page_at, live_server, make_user("carol", "Publishers"), 1280)
    response = page.goto(live_server.url + path)
    assert response.status == 200
    assert page.locator("#result_list tbody tr").count() == 2
    assert page.evaluate(BROKEN_WORDS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_the_dashboards_rows_run_the_full_width_on_a_phone(page_at, live_server, seeded):
    """On a phone each table of the dashboard is a column of blocks; its rows span the module, not the
    narrow width of the table they would otherwise be shrunk into."""
    page = logged_in_page(page_at, live_server, make_user("carol", "Publishers"), 390)
    page.goto(live_server.url + "/admin/")
    tables = page.evaluate(
        """() => [...document.querySelectorAll("#dashboard table, #content-main .module table")].map(table => ({
            table: table.getBoundingClientRect().width,
            rows: [...table.querySelectorAll("tbody tr")].map(row => row.getBoundingClientRect().width),
        }))"""
    )
    assert sum(len(table["rows"]) for table in tables) >= 9  # the overdue review and the app list's 8 models
    assert [row for table in tables for row in table["rows"] if row < table["table"] - 1] == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
