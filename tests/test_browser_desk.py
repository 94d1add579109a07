"""The editors' desk in a real browser: no lost work, and the comparison-table grid."""

import pytest

from monographs import presence
from monographs.models import Monograph

from .browser import AXE_JS, require_tool, screenshot, session_cookie
from .conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


TABLED = "denosumab-patient-information"  # the seed monograph with a comparison table


def logged_in(browser, live_server, user, width=1280, bypass_csp=False):
    """A page of a new context in which `user` is logged in (the log-in form is the workflow tests' subject)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=bypass_csp)
    context.add_cookies([session_cookie(live_server, user)])
    return context.new_page()


def open_draft(browser, live_server, username="alice", width=1280, slug="denosumab"):
    user = make_user(username, "Authors")
    monograph = Monograph.objects.get(slug=slug)
    draft = monograph.start_draft(user)
    page = logged_in(browser, live_server, user, width)
    page.goto(f"{live_server.url}/admin/monographs/revision/{draft.pk}/change/")
    page.wait_for_selector("textarea#id_body")
    return page, draft


def desk_keys(page) -> list[str]:
    return page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('drugref:draft:'))")


def wait_until_kept(page, text: str) -> None:
    """The copy is kept half a second after the last keystroke: wait for all of `text`, not the first copy."""
    page.wait_for_function(
        "text => Object.entries(localStorage).some(([k, v]) => k.startsWith('drugref:draft:') && v.includes(text))",
        arg=text,
    )


def test_leaving_with_unsaved_text_warns_and_a_reload_offers_it_back(browser, live_server, seeded):
    page, draft = open_draft(browser, live_server)
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", on_dialog)
    page.reload()  # nothing typed: no warning
    assert dialogs == []
    assert page.locator("#desk-recovery").count() == 0

    page.locator("#id_summary").click()
    page.keyboard.press("End")
    page.keyboard.type(" Typed before the crash.")
    wait_until_kept(page, "Typed before the crash.")
    assert desk_keys(page) == [f"drugref:draft:{draft.pk}:{draft.version}"]
    page.reload()  # as a closed tab or a crash would: the browser asks first
    assert dialogs == ["beforeunload"]

    recovery = page.locator("#desk-recovery")
    recovery.wait_for()
    assert "Typed before the crash." not in page.locator("#id_summary").input_value()
    recovery.get_by_role("button", name="Restore your unsaved text from").click()
    assert page.locator("#id_summary").input_value().endswith(" Typed before the crash.")

    # Saving is not leaving: no warning, and the kept copy is cleared once the save went through.
    page.get_by_role("button", name="Save and continue editing").click()
    page.get_by_text("was changed successfully").wait_for()
    assert dialogs == ["beforeunload"]
    draft.refresh_from_db()
    assert draft.summary.endswith(" Typed before the crash.")
    assert desk_keys(page) == []
    assert page.locator("#desk-recovery").count() == 0


def test_discard_forgets_the_kept_text(browser, live_server, seeded):
    page, draft = open_draft(browser, live_server)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#id_title").click()
    page.keyboard.type("X")
    page.wait_for_function("() => Object.keys(localStorage).some(k => k.startsWith('drugref:draft:'))")
    page.reload()
    page.locator("#desk-recovery").get_by_role("button", name="Discard").click()
    assert desk_keys(page) == []
    page.reload()
    assert page.locator("#desk-recovery").count() == 0


def test_a_save_clash_shows_the_merge_view_and_saves_the_edited_merge(browser, live_server, seeded):
    page, draft = open_draft(browser, live_server, width=390)
    page.on("dialog", lambda dialog: dialog.accept())
    # Meanwhile someone else saves the same draft.
    dave = make_user("dave", "Authors")
    draft.refresh_from_db()
    draft.summary = "Dave's summary."
    draft.save_draft(dave, draft.version)

    page.fill("#id_summary", "Alice's summary.")
    page.get_by_role("button", name="Save and continue editing").click()
    merge = page.locator("#desk-merge")
    merge.wait_for()
    assert page.locator("#desk-recovery").count() == 0  # the merge view holds her text already
    assert "Dave Tester" in merge.inner_text()
    assert merge.locator(".merge-mine").inner_text() == "Alice's summary."
    assert merge.locator(".merge-saved").inner_text() == "Dave's summary."
    assert merge.locator(".merge-diff del").inner_text() == "Dave"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    merge.scroll_into_view_if_needed()
    screenshot(page, "desk-merge-390", full_page=False)

    page.fill("#merged_summary", "Alice's and Dave's summary.")
    merge.get_by_role("button", name="Save the merged text").click()
    page.get_by_text("was changed successfully").wait_for()
    assert page.locator("#desk-merge").count() == 0
    draft.refresh_from_db()
    assert draft.summary == "Alice's and Dave's summary." and draft.version == 3


def grid_of(page):
    return page.locator(".table-grid").first


def test_the_grid_editor_adds_a_row_and_a_column_and_the_preview_shows_them(browser, live_server, seeded):
    page, draft = open_draft(browser, live_server, width=390, slug=TABLED)
    page.on("dialog", lambda dialog: dialog.accept())
    grid = grid_of(page)
    grid.wait_for()
    assert page.locator("textarea[name='comparisons-0-grid']").is_hidden()  # the grid stands in for it
    subjects = grid.locator("input[data-r='0']")
    new_column = subjects.count() + 1  # column 0 holds the attribute names
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    grid.scroll_into_view_if_needed()
    screenshot(page, "desk-grid-390", full_page=False)

    grid.get_by_role("button", name="Add a column").click()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Subject of column {new_column}"
    page.keyboard.type("Romosozumab")
    grid.get_by_role("button", name="Add a row").click()
    page.keyboard.type("Given by")
    rows = grid.locator("tr").count()
    grid.get_by_label(f"Row {rows - 1} “Given by”, column {new_column} “Romosozumab”").fill("monthly injection")
    # The new row moves up one, and back: moving keeps the cells with their row.
    grid.get_by_role("button", name=f"Move row {rows - 1} up").click()
    assert grid.get_by_label(f"Attribute of row {rows - 2}").input_value() == "Given by"
    grid.get_by_role("button", name=f"Move row {rows - 2} down").click()
    text = page.locator("textarea[name='comparisons-0-grid']").input_value()
    assert text.splitlines()[-1].startswith("| Given by |") and text.splitlines()[-1].endswith("| monthly injection |")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("button", name="Save and continue editing").click()
    page.get_by_text("was changed successfully").wait_for()
    page.goto(f"{live_server.url}/admin/monographs/revision/{draft.pk}/preview/")
    table = page.locator("table", has_text="Romosozumab").first
    assert "Given by" in table.inner_text() and "monthly injection" in table.inner_text()
    assert "Romosozumab" in table.locator("th").all_inner_texts()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    table.scroll_into_view_if_needed()
    screenshot(page, "desk-grid-preview-390", full_page=False)


def test_the_grid_names_the_row_and_column_of_a_missing_name_and_sends_nothing(browser, live_server, seeded):
    page, draft = open_draft(browser, live_server, width=1280, slug=TABLED)
    page.on("dialog", lambda dialog: dialog.accept())
    grid = grid_of(page)
    grid.wait_for()
    grid.scroll_into_view_if_needed()
    screenshot(page, "desk-grid-1280", full_page=False)
    grid.get_by_role("button", name="Add a row").click()
    rows = grid.locator("tr").count()
    grid.get_by_label(f"Row {rows - 1} {rows - 1}, column 1", exact=False).fill("a cell with no attribute")
    version = draft.version
    page.get_by_role("button", name="Save and continue editing").click()
    error = grid.locator(".table-grid-error")
    error.wait_for()
    assert f"row {rows - 1}: give the attribute (its first cell) a name" in error.inner_text()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Attribute of row {rows - 1}"
    draft.refresh_from_db()
    assert draft.version == version  # nothing was sent
    error.scroll_into_view_if_needed()
    screenshot(page, "desk-grid-error-1280", full_page=False)


def test_two_editors_on_one_draft_are_told_of_each_other(browser, live_server, seeded, monkeypatch):
    monkeypatch.setattr(presence, "HEARTBEAT", 1)  # the page's heartbeat every second instead of 30
    alice, draft = open_draft(browser, live_server)
    assert alice.locator("#desk-presence").inner_text().strip() == ""  # alone
    dave = logged_in(browser, live_server, make_user("dave", "Authors"))
    dave.goto(f"{live_server.url}/admin/monographs/revision/{draft.pk}/change/")
    assert "Alice Tester opened this draft just now" in dave.locator("#desk-presence").inner_text()
    # Alice's open page learns of Dave from its heartbeat, without a reload; nothing is locked for either.
    alice.locator("#desk-presence").get_by_text("Dave Tester opened this draft just now").wait_for(timeout=10_000)
    assert dave.locator("textarea#id_body").is_editable() and alice.locator("textarea#id_body").is_editable()
    dave.context.close()


def test_the_revision_page_with_its_grid_passes_axe_at_phone_width(browser, live_server, seeded):
    alice = make_user("alice", "Authors")
    draft = Monograph.objects.get(slug=TABLED).start_draft(alice)
    # axe is injected as a script, which the page's CSP refuses: a context that bypasses it.
    page = logged_in(browser, live_server, alice, width=390, bypass_csp=True)
    page.goto(f"{live_server.url}/admin/monographs/revision/{draft.pk}/change/")
    grid_of(page).wait_for()
    # Checked: what this work added.  The whole page also has findings in Django's own tabular inlines
    # (credits, history: empty header cells, unlabelled position and delete boxes), which it does not touch.
    page.add_script_tag(path=str(require_tool(AXE_JS)))
    found = page.evaluate(
        "async () => (await axe.run({include: [['.table-grid'], ['#desk'], ['#desk-presence']]},"
        " {resultTypes: ['violations']})).violations.map(v => v.id + ': ' + v.help)"
    )
    assert found == []
    page.context.close()


def test_text_kept_before_someone_elses_save_comes_back_through_the_merge_view(browser, live_server, seeded):
    page, draft = open_draft(browser, live_server)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#id_summary").fill("")
    page.locator("#id_summary").click()
    page.keyboard.type("Alice's lost summary.")
    wait_until_kept(page, "Alice's lost summary.")
    dave = make_user("dave", "Authors")
    draft.refresh_from_db()
    draft.summary = "Dave's summary."
    draft.save_draft(dave, draft.version)  # version 2 now; Alice's copy was typed at version 1

    page.reload()
    recovery = page.locator("#desk-recovery")
    assert "typed before someone else saved this draft" in recovery.inner_text()
    recovery.get_by_role("button", name="Restore your unsaved text from").click()
    page.get_by_role("button", name="Save and continue editing").click()
    page.locator("#desk-merge").wait_for()  # not a silent overwrite of Dave's save
    assert page.locator("#desk-merge .merge-saved").inner_text() == "Dave's summary."
    page.get_by_role("button", name="Take mine (replace the saved text)").click()
    page.get_by_text("was changed successfully").wait_for()
    draft.refresh_from_db()
    assert draft.summary == "Alice's lost summary." and draft.version == 3
    assert desk_keys(page) == []


def test_the_grid_follows_a_restore_and_its_text_view(browser, live_server, seeded):
    page, draft = open_draft(browser, live_server, slug=TABLED)
    page.on("dialog", lambda dialog: dialog.accept())
    grid = grid_of(page)
    grid.get_by_role("button", name="Add a row").click()
    page.keyboard.type("Half-life")
    wait_until_kept(page, "Half-life")
    page.reload()
    assert grid.get_by_label("Attribute of row 8").count() == 0
    page.locator("#desk-recovery").get_by_role("button", name="Restore your unsaved text from").click()
    assert grid.get_by_label("Attribute of row 8").input_value() == "Half-life"

    grid.get_by_role("button", name="Edit as text").click()
    text = page.locator("textarea[name='comparisons-0-grid']")
    assert text.is_visible() and "| Half-life |" in text.input_value()
    text.fill(text.input_value().replace("| Half-life |", "| Half-life (days) |"))
    grid.get_by_role("button", name="Edit as a grid").click()
    assert text.is_hidden()
    assert grid.get_by_label("Attribute of row 8").input_value() == "Half-life (days)"
