"""Three people walk a dose change from draft to the public page, in a real browser."""

import pytest

from monographs.models import Drug, Monograph, Revision

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


@pytest.mark.slow
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
    # Submit straight away, without saving first: the typed text is what goes to review.
    page.fill("#id_change_note", "Osteoporosis interval corrected to 3 months (test)")
    page.get_by_role("button", name="Save and submit for review").click()
    page.get_by_text("saved and submitted for review").wait_for()
    page.context.close()

    draft = Revision.objects.get(monograph=monograph, status=Revision.Status.IN_REVIEW)
    assert "**Osteoporosis (Prolia®):** " + NEW in draft.body

    # The proof-reader opens the diff, sees the changed dose highlighted, approves.
    page = log_in(browser, live_server, "bob")
    page.get_by_role("link", name=draft.title).first.click()
    page.click("#diff-live")
    page.wait_for_url("**/diff/**")  # is_visible() does not wait: the diff page, not the one before it
    changed = page.locator("ins.num", has_text="3 months")
    assert changed.first.is_visible()
    assert page.locator("del.num", has_text="6 months").first.is_visible()
    assert "Numbers changed" in page.locator("#changed-numbers").inner_text()
    screenshot(page, "workflow-2-diff")
    page.go_back()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("r2: approved.").wait_for()
    page.context.close()

    # The publisher publishes.
    page = log_in(browser, live_server, "carol")
    page.goto(f"{live_server.url}/admin/monographs/revision/{draft.pk}/change/")
    page.get_by_label("Yes, publish").check()
    page.get_by_role("button", name="Publish now").click()
    page.get_by_text("published — readers see it now").wait_for()

    # History lists all three people's events.
    page.goto(f"{live_server.url}/admin/monographs/monograph/{monograph.pk}/change/")
    history = page.locator("fieldset", has_text="Workflow history").inner_text()
    for line in ("draft → draft", "draft → in_review", "in_review → approved", "approved → published"):
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


@pytest.mark.slow
def test_a_brand_rename_is_proposed_approved_from_the_dashboard_and_a_submission_withdrawn(
    browser, live_server, seeded
):
    make_user("alice", "Authors")
    make_user("bob", "Proof-readers")
    drug = Drug.objects.get(slug="denosumab")
    context = browser.new_context(viewport={"width": 390, "height": 900})
    public = context.new_page()

    def drug_page() -> str:
        public.goto(f"{live_server.url}/drugs/denosumab/")
        return public.content()

    before = drug_page()

    # The author renames a brand on the drug's screen: that proposes the change, readers see nothing new.
    page = log_in(browser, live_server, "alice")
    page.goto(f"{live_server.url}/admin/monographs/drug/{drug.pk}/change/")
    brand = page.locator("input[value='Prolia®']")
    brand.fill("Prolia® 90 mg")
    page.fill("#id_proposal_note", "Brand renamed by the manufacturer (test)")
    page.get_by_role("button", name="Propose this change").click()
    page.get_by_text("is proposed").wait_for()
    assert "Prolia® 90 mg" in page.locator(".proposal-changes").inner_text()
    screenshot(page, "proposal-1-proposed")
    assert drug_page() == before

    # The proof-reader finds it on the dashboard, reads before/after, approves.
    reviewer = log_in(browser, live_server, "bob")
    panel = reviewer.locator("#proposals-awaiting")
    assert "Brand renamed by the manufacturer" in panel.inner_text()
    panel.get_by_role("link", name="Drug “Denosumab”").click()
    reviewer.get_by_role("button", name="Approve and apply").click()
    reviewer.get_by_text("approved and applied").first.wait_for()
    history = reviewer.locator("#proposal").inner_text()
    assert "alice" in history and "bob" in history and "proposed → applied" in history
    screenshot(reviewer, "proposal-2-applied")
    reviewer.context.close()
    assert "Prolia® 90 mg" in drug_page()

    # The author submits a draft, then withdraws the submission: it is a draft again.
    monograph = Monograph.objects.get(slug="denosumab")
    page.goto(f"{live_server.url}/admin/monographs/monograph/{monograph.pk}/change/")
    page.get_by_role("button", name="Edit (start a draft from the live revision)").click()
    body = page.locator("textarea#id_body")
    body.fill(body.input_value().replace(OLD, NEW))
    page.fill("#id_change_note", "Interval (test)")
    page.get_by_role("button", name="Save and submit for review").click()
    page.get_by_text("saved and submitted for review").wait_for()
    page.get_by_role("button", name="Withdraw my submission (back to draft)").click()
    page.get_by_text("withdrawn from review, back to draft").wait_for()
    assert monograph.revisions.open().get().status == Revision.Status.DRAFT
    page.context.close()
    context.close()


def test_an_author_starts_a_new_drug_on_one_screen(browser, live_server, seeded):
    make_user("alice", "Authors")
    page = log_in(browser, live_server, "alice")
    page.goto(f"{live_server.url}/admin/monographs/monograph/add/")
    page.get_by_label("…or a new drug (INN)").fill("Romosozumab")
    page.get_by_label("Title").fill("Romosozumab")
    page.get_by_label("Body").fill("## Dosage\n\n210 mg once a month for 12 months.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("is created with its first draft").wait_for()
    screenshot(page, "new-drug-created")
    draft = Revision.objects.get(monograph__drug__name="Romosozumab")
    assert page.url == f"{live_server.url}/admin/monographs/revision/{draft.pk}/change/"
    assert "210 mg once a month" in page.locator("#id_body").input_value()
    monograph = draft.monograph
    assert (monograph.slug, monograph.is_primary) == ("romosozumab", True)
    page.context.close()
