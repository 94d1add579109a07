"""The proof-reader's review page: the changes, the page as readers will get it, and the sign-off buttons."""

import re

from django.test import Client
from django.urls import reverse

from monographs.models import Monograph, Revision

from .conftest import add_dental_monograph, admin_form_data, make_user
from .test_workflow import to_approved, to_review

S = Revision.Status
PATIENT = "denosumab-patient-information"


def diff_url(revision, against=None):
    url = reverse("admin:monographs_revision_diff", args=[revision.pk])
    return f"{url}?against={against}" if against is not None else url


def change_url(revision):
    return reverse("admin:monographs_revision_change", args=[revision.pk])


def test_a_duplicated_row_label_shows_as_an_added_row_with_its_number_flagged(client, seeded, alice, bob):
    """A second “Onset of action” row, typed into the grid as a browser posts it, cannot hide behind the first."""
    draft = Monograph.objects.get(slug=PATIENT).start_draft(alice)
    client.force_login(alice)
    data = admin_form_data(client, change_url(draft))
    grid = next(k for k in data if k.endswith("-grid"))
    data[grid] = data[grid].replace(
        "| Onset of action |", "| Onset of action | 600 mg daily | 600 mg daily |\n| Onset of action |"
    )
    data["summary"] = "Denosumab for patients."  # the imported page has none, and an empty one is not submitted
    assert client.post(change_url(draft), data).status_code == 302
    draft.refresh_from_db()
    draft.submit(alice, "Onset of action: a second row")
    client.force_login(bob)
    page = client.get(diff_url(draft)).content.decode()
    assert "0 parts changed" not in page
    assert "row “Onset of action (row 6)” (added)" in page
    assert re.search(r'<ins class="num">Onset of action \| 600 mg daily \| 600 mg daily</ins>', page)
    numbers = re.search(r'<div class="numbers".*?</div>', page, re.S).group(0)
    assert "600 mg daily" in numbers


def test_the_review_page_shows_the_rendered_revision_beside_the_diff(client, draft, alice, bob):
    to_review(draft, alice)
    client.force_login(bob)
    page = client.get(diff_url(draft)).content.decode()
    preview = reverse("admin:monographs_revision_preview", args=[draft.pk])
    frames = re.findall(r"<iframe [^>]*>", page)
    assert len(frames) == 2  # phone and desktop widths
    assert all(f'src="{preview}"' in frame and " sandbox" in frame for frame in frames)
    assert " style=" not in page.split('id="content-main"')[1]  # nothing the CSP would have to allow inline


def test_the_preview_may_be_framed_by_this_site_only(client, draft, alice):
    client.force_login(alice)
    preview = client.get(reverse("admin:monographs_revision_preview", args=[draft.pk]))
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in preview["Content-Security-Policy"]
    assert "script-src 'self'" in preview["Content-Security-Policy"]
    for url in (diff_url(draft), change_url(draft), "/drugs/denosumab/"):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], url


def test_a_proof_reader_approves_from_the_review_page_with_its_csrf_token(draft, alice, bob):
    to_review(draft, alice)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bob)
    page = browser.get(diff_url(draft)).content.decode()
    form = re.search(r'<form method="post" action="([^"]+/approve/)">.*?</form>', page, re.S)
    assert form, "the review page carries the Approve button"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0)).group(1)
    assert 'name="comment"' in form.group(0)
    assert browser.post(form.group(1), {"comment": "Checked"}).status_code == 403  # no token, no approval
    assert Revision.objects.get(pk=draft.pk).status == S.IN_REVIEW
    browser.post(form.group(1), {"comment": "Checked", "csrfmiddlewaretoken": token})
    assert Revision.objects.get(pk=draft.pk).status == S.APPROVED


def test_a_proof_reader_requests_changes_from_the_review_page(client, draft, alice, bob):
    to_review(draft, alice)
    client.force_login(bob)
    page = client.get(diff_url(draft)).content.decode()
    action = re.search(r'<form method="post" action="([^"]+/request_changes/)">', page).group(1)
    client.post(action, {"comment": "Cite the SmPC for the new interval"})
    assert Revision.objects.get(pk=draft.pk).status == S.DRAFT


def test_only_someone_who_may_review_and_did_not_write_it_gets_the_buttons(client, seeded, draft, alice, bob, carol):
    to_review(draft, alice)
    bob_editor = make_user("bert", "Proof-readers", "Authors")
    draft.editors.add(bob_editor)  # a proof-reader who also edited this revision
    for user, shown in ((bob, True), (alice, False), (carol, False), (bob_editor, False)):
        client.force_login(user)
        page = client.get(diff_url(draft)).content.decode()
        assert ("/approve/" in page and "/request_changes/" in page) == shown, user.username
    client.force_login(alice)
    assert "someone else must proof-read and approve it" in client.get(diff_url(draft)).content.decode()


def test_no_buttons_once_the_revision_left_review(client, draft, alice, bob):
    to_approved(draft, alice, bob)
    client.force_login(make_user("beth", "Proof-readers"))
    page = client.get(diff_url(draft)).content.decode()
    assert "/approve/" not in page and "/request_changes/" not in page


def test_a_reverts_diff_defaults_to_the_live_revision(client, draft, alice, bob, carol):
    """r1 live, r2 published over it, r1 reverted into r3: the changes are against r2, what readers see now."""
    to_approved(draft, alice, bob)
    draft.publish(carol)
    first = Revision.objects.get(monograph=draft.monograph, number=1)
    reverted = first.revert(carol)
    assert reverted.based_on == first
    client.force_login(bob)
    page = client.get(diff_url(reverted)).content.decode()
    assert f"Changes in r{reverted.number} against r{draft.number}" in page
    assert "0 parts changed" not in page
    assert re.search(r'<del class="num">3 months</del><ins class="num">6 months</ins>', page)


def test_without_a_live_revision_the_diff_is_against_the_one_copied_from(client, draft, alice, carol):
    live = Revision.objects.live().get(monograph=draft.monograph)
    live.unpublish(carol, "Withdrawn for review")
    client.force_login(alice)
    page = client.get(diff_url(draft)).content.decode()
    assert f"Changes in r{draft.number} against r{live.number}" in page


def test_a_first_revision_is_reviewed_as_all_new(client, seeded, alice, bob):
    client.force_login(alice)

    add_dental_monograph(client)
    first = Revision.objects.get(monograph__slug="denosumab-dental")
    page = client.get(diff_url(first)).content.decode()
    assert "has no earlier revision" in page and "<ins>Denosumab and dental treatment</ins>" in page


def test_a_diff_against_another_monographs_revision_is_refused(client, draft, alice):
    other = Revision.objects.live().get(monograph__slug=PATIENT)
    client.force_login(alice)
    for against in (other.pk, "abc", "1 OR 1=1", 10**9):
        response = client.get(diff_url(draft, against), follow=True)
        assert response.redirect_chain[-1][0] == change_url(draft), against
        page = response.content.decode()
        assert "Only revisions of the same monograph can be compared." in page, against
        assert "parts changed" not in page


def test_a_diff_against_an_earlier_revision_of_the_same_monograph_works(client, draft, alice):
    live = Revision.objects.live().get(monograph=draft.monograph)
    client.force_login(alice)
    page = client.get(diff_url(draft, live.pk)).content.decode()
    assert f"Changes in r{draft.number} against r{live.number}" in page


def test_there_is_no_bulk_approve(client, draft, alice, bob):
    to_review(draft, alice)
    client.force_login(bob)
    changelist = reverse("admin:monographs_revision_changelist")
    assert "approve_selected" not in client.get(changelist).content.decode()
    client.post(changelist, {"action": "approve_selected", "_selected_action": [draft.pk], "index": 0})
    assert Revision.objects.get(pk=draft.pk).status == S.IN_REVIEW


def test_the_xss_check_lets_through_only_a_sandboxed_frame_of_this_site():
    """The review page's frames are allowed by the XSS check because they cannot run script; nothing else is."""
    from .xss import problems

    assert problems('<iframe sandbox src="/admin/monographs/revision/1/preview/"></iframe>') == []
    for frame in (
        '<iframe src="/admin/monographs/revision/1/preview/"></iframe>',
        '<iframe sandbox="allow-scripts" src="/x/"></iframe>',
        '<iframe sandbox src="//evil.example/"></iframe>',
        '<iframe sandbox src="javascript:alert(1)"></iframe>',
        '<iframe sandbox src="/x/" srcdoc="<script>alert(1)</script>"></iframe>',
    ):
        assert problems(frame), frame
