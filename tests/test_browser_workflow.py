"""Three people walk a dose change from draft to the public page, in a real browser."""

import pytest

from monographs.models import Monograph, Revision

from .browser import screenshot
from .conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OLD = "60 mg subcutaneously every 6 months."
NEW = "60 mg subcutaneously every 3 months."


def log_in(browser, live_server, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def test_author_proof_reader_and_publisher_change_a_dose(browser, live_server, seeded):
    make_user("alice", "Authors")
    make_user("bob", "Proof-readers")
    make_user("carol", "Publishers")
    monograph = Monograph.objects.get(slug="denosumab")

    # The author opens the live monograph, starts a draft, changes the osteoporosis dose line.
    page = log_in(browser, live_server, "alice")
    page.goto(f"{live_server.url}/admin/monographs/monograph/{monograph.pk}/change/")
    page.get_by_role("button", name="Edit (start a draft from the live revision)").click()
    page.wait_for_selector("textarea#id_body")
    body = page.locator("textarea#id_body")
    text = body.input_value()
    assert "**Osteoporosis (Prolia®):** " + OLD in text
    body.fill(text.replace("**Osteoporosis (Prolia®):** " + OLD, "**Osteoporosis (Prolia®):** " + NEW))
    preview = page.locator(".markdownx-preview")
    preview.get_by_text(NEW).wait_for(timeout=10_000)  # the live preview, through the same renderer
    page.locator(".markdownx-preview").get_by_text(NEW).scroll_into_view_if_needed()
    screenshot(page, "workflow-1-editor", full_page=False)
    page.click("input[name=_continue]")
    page.wait_for_selector("#wf-change-note")
    page.fill("#wf-change-note", "Osteoporosis interval corrected to 3 months (test)")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("submit — done").wait_for()
    page.context.close()

    draft = Revision.objects.get(monograph=monograph, status=Revision.Status.IN_REVIEW)

    # The proof-reader opens the diff, sees the changed dose highlighted, approves.
    page = log_in(browser, live_server, "bob")
    page.get_by_role("link", name=draft.title).first.click()
    page.click("#diff-live")
    changed = page.locator("ins.num", has_text="3 months")
    assert changed.first.is_visible()
    assert page.locator("del.num", has_text="6 months").first.is_visible()
    assert "Numbers changed" in page.locator("#changed-numbers").inner_text()
    screenshot(page, "workflow-2-diff")
    page.go_back()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("approve — done").wait_for()
    page.context.close()

    # The publisher publishes.
    page = log_in(browser, live_server, "carol")
    page.goto(f"{live_server.url}/admin/monographs/revision/{draft.pk}/change/")
    page.get_by_role("button", name="Publish now").click()
    page.get_by_text("publish — done").wait_for()

    # History lists all three people's events.
    page.goto(f"{live_server.url}/admin/monographs/monograph/{monograph.pk}/change/")
    history = page.locator("fieldset", has_text="Workflow history").inner_text()
    for line in ("draft → in_review", "in_review → approved", "approved → published"):
        assert line in history
    for who in ("alice", "bob", "carol"):
        assert who in history
    page.context.close()

    # The public page shows the new text and the proof-reader from the approval record.
    context = browser.new_context(viewport={"width": 390, "height": 900})
    public = context.new_page()
    public.goto(f"{live_server.url}/drugs/denosumab/")
    assert public.get_by_text(NEW).first.is_visible()
    assert "Proof-read by Bob Tester" in public.locator(".byline").inner_text()
    screenshot(public, "workflow-3-public")
    context.close()
