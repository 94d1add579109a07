"""The editors' desk in a real browser: no lost work, and the comparison-table grid."""

import pytest

from monographs.models import Monograph

from .browser import screenshot
from .conftest import make_user
from .test_browser_workflow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_draft(browser, live_server, username="alice", width=1280):
    make_user(username, "Authors")
    from django.contrib.auth.models import User

    monograph = Monograph.objects.get(slug="denosumab")
    draft = monograph.start_draft(User.objects.get(username=username))
    page = log_in(browser, live_server, username)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/monographs/revision/{draft.pk}/change/")
    page.wait_for_selector("textarea#id_body")
    return page, draft


def desk_keys(page) -> list[str]:
    return page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('drugref:draft:'))")


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
    page.wait_for_function("() => Object.keys(localStorage).some(k => k.startsWith('drugref:draft:'))")
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
