"""The editors' desk, server side: the merge view after a save clash, and who else has a draft open."""

import pytest
from django.test import Client
from django.urls import reverse

from monographs import presence
from monographs.models import Revision

from .conftest import make_user
from .test_admin_workflow import change_url, form_data


@pytest.fixture
def clash(draft, alice):
    """Alice and Dave open the same draft; Alice saves first; Dave's save clashes. Returns Dave's client, his
    form data, and the page the clash showed him."""
    dave = make_user("dave", "Authors")
    first, second = Client(), Client()
    first.force_login(alice)
    second.force_login(dave)
    alice_data, dave_data = form_data(first, draft), form_data(second, draft)
    alice_data["summary"] = "Alice's summary"
    dave_data["summary"] = "Dave's summary"
    assert first.post(change_url(draft), alice_data).status_code == 302
    response = second.post(change_url(draft), dave_data)
    assert response.status_code == 200
    return second, dave_data, response


def test_a_clash_shows_both_texts_and_the_diff_with_three_choices(clash, draft):
    _client, _data, response = clash
    page = response.content.decode()
    form = response.context["adminform"].form
    assert form.clash.version == 2 and form.clash.saved_by == "Alice Tester"
    assert [f["name"] for f in form.clash.fields] == ["summary"]  # only what differs
    assert 'id="desk-merge"' in page and 'name="merge_version" value="2"' in page
    assert "Dave&#x27;s summary" in page and "Alice&#x27;s summary" in page
    assert 'class="merge-diff"><del>Alice</del><ins>Dave</ins>&#x27;s summary</div>' in page
    for choice in ("mine", "saved", "edit"):
        assert f'name="_merge" value="{choice}"' in page
    draft.refresh_from_db()
    assert draft.summary == "Alice's summary" and draft.version == 2


def test_saving_again_without_choosing_clashes_again(clash, draft):
    client, data, _response = clash
    response = client.post(change_url(draft), data)
    assert response.status_code == 200 and response.context["adminform"].form.clash is not None
    assert Revision.objects.get(pk=draft.pk).summary == "Alice's summary"


def test_take_mine_saves_my_text_against_the_version_shown(clash, draft):
    client, data, _response = clash
    response = client.post(change_url(draft), {**data, "_merge": "mine", "merge_version": "2", "_continue": "1"})
    assert response.status_code == 302 and response["Location"] == change_url(draft)
    draft.refresh_from_db()
    assert draft.summary == "Dave's summary" and draft.version == 3


def test_keep_the_saved_one_writes_nothing(clash, draft):
    client, data, _response = clash
    response = client.post(change_url(draft), {**data, "_merge": "saved", "merge_version": "2"})
    assert response.status_code == 302 and response["Location"] == change_url(draft)
    draft.refresh_from_db()
    assert draft.summary == "Alice's summary" and draft.version == 2
    assert "Kept the saved draft" in client.get(change_url(draft)).content.decode()


def test_the_edited_merge_is_saved_in_place_of_the_form_fields(clash, draft):
    client, data, _response = clash
    merged = {**data, "_merge": "edit", "merge_version": "2", "merged_summary": "Alice's and Dave's summary"}
    assert client.post(change_url(draft), merged).status_code == 302
    draft.refresh_from_db()
    assert draft.summary == "Alice's and Dave's summary" and draft.version == 3


def test_an_empty_merged_title_is_refused_by_name(clash, draft):
    client, data, _response = clash
    merged = {**data, "_merge": "edit", "merge_version": "2", "merged_title": ""}
    response = client.post(change_url(draft), merged)
    assert response.status_code == 200
    assert "The merged title: This field is required." in response.content.decode()
    assert Revision.objects.get(pk=draft.pk).version == 2


@pytest.mark.parametrize("choice", ["mine", "edit"])
def test_a_stale_merge_clashes_again(clash, draft, alice, choice):
    client, data, _response = clash
    alice_client = Client()
    alice_client.force_login(alice)
    again = form_data(alice_client, draft)
    again["summary"] = "Alice's second summary"
    assert alice_client.post(change_url(draft), again).status_code == 302  # version 3 now
    merged = {**data, "_merge": choice, "merge_version": "2", "merged_summary": "merged"}
    response = client.post(change_url(draft), merged)
    assert response.status_code == 200
    assert response.context["adminform"].form.clash.version == 3
    draft.refresh_from_db()
    assert draft.summary == "Alice's second summary" and draft.version == 3


# ------------------------------------------------------------------------------------------------
# Soft lock: who else has the draft open


def presence_url(revision):
    return reverse("admin:monographs_revision_presence", args=[revision.pk])


def test_the_draft_page_names_who_else_has_it_open(client, draft, alice):
    dave = make_user("dave", "Authors")
    client.force_login(alice)
    assert "opened this draft" not in client.get(change_url(draft)).content.decode()  # alone
    other = Client()
    other.force_login(dave)
    page = other.get(change_url(draft)).content.decode()
    assert "Alice Tester opened this draft just now" in page
    assert "Dave Tester opened this draft just now" in client.get(change_url(draft)).content.decode()
    # The heartbeat says the same, and the page still saves: the lock only informs.
    response = client.post(presence_url(draft))
    assert response.json()["others"][0]["name"] == "Dave Tester"
    data = form_data(client, draft)
    data["summary"] = "Saved while Dave looks on"
    assert client.post(change_url(draft), data).status_code == 302


def test_the_notice_counts_minutes_and_forgets_who_left(draft, alice):
    dave = make_user("dave", "Authors")
    presence.here(draft.pk, alice, now=1000.0)
    for beat in range(1, 7):  # alice keeps the page open, beating every 30 s
        presence.here(draft.pk, alice, now=1000.0 + 30 * beat)
    others = presence.here(draft.pk, dave, now=1000.0 + 190)
    assert [o["text"].split(" and ")[0] for o in others] == ["Alice Tester opened this draft 3 minutes ago"]
    # alice closes the tab: no beat for more than 90 s, and she is gone
    assert presence.here(draft.pk, dave, now=1000.0 + 180 + presence.GONE_AFTER + 1) == []
    # a new visit starts again from now
    presence.here(draft.pk, alice, now=2000.0)
    assert presence.here(draft.pk, dave, now=2010.0)[0]["minutes"] == 0


def test_the_heartbeat_needs_post_and_a_view_permission(client, draft, alice):
    client.force_login(alice)
    assert client.get(presence_url(draft)).status_code == 405
    stranger = make_user("stranger")  # staff, in no editorial group
    client.force_login(stranger)
    assert client.post(presence_url(draft)).status_code == 403


def test_a_cache_outage_hides_the_notice_and_blocks_nothing(client, draft, alice, settings):
    settings.CACHES = {"default": {"BACKEND": "tests.broken_cache.DownCache"}}
    client.force_login(alice)
    assert client.post(presence_url(draft)).json() == {"others": []}
    assert client.get(change_url(draft)).status_code == 200
