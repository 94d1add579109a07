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
