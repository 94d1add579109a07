"""Admin forms as a browser posts them: a bad value is a message, never a 500; adding a table works."""

import pytest
from django.urls import reverse

from monographs.models import Monograph, Revision

from . import factories
from .conftest import admin_form_data
from .test_workflow import to_approved

S = Revision.Status


def change_url(revision):
    return reverse("admin:monographs_revision_change", args=[revision.pk])


def test_a_forged_schedule_date_is_a_message_not_a_500(client, draft, alice, bob, carol):
    to_approved(draft, alice, bob)
    client.force_login(carol)
    url = reverse("admin:monographs_revision_workflow", args=[draft.pk, "schedule"])
    for value in ("next tuesday", "2027-13-45 25:00", ""):
        response = client.post(url, {"publish_at": value}, follow=True)
        assert response.status_code == 200, value
        assert "Give a go-live time in the future" in response.content.decode(), value
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at) == (S.APPROVED, None)


def test_a_schedule_date_in_the_future_schedules(client, draft, alice, bob, carol):
    to_approved(draft, alice, bob)
    client.force_login(carol)
    url = reverse("admin:monographs_revision_workflow", args=[draft.pk, "schedule"])
    client.post(url, {"publish_at": "2099-03-01T09:00"})
    draft.refresh_from_db()
    assert draft.publish_at is not None and draft.publish_at.year == 2099


def post_new_table(client, draft, slug: str, grid: str):
    """The draft's change form as the browser has it, with one table added."""
    data = admin_form_data(client, change_url(draft))
    prefix = "comparisons"
    count = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = count + 1
    data.update(
        {
            f"{prefix}-{count}-slug": slug,
            f"{prefix}-{count}-caption": "Dosing intervals",
            f"{prefix}-{count}-grid": grid,
            f"{prefix}-{count}-footnotes": "",
        }
    )
    return client.post(change_url(draft), data)


def test_an_author_adds_a_comparison_table_through_the_change_form(client, draft, alice):
    client.force_login(alice)
    grid = "| | Denosumab | Zoledronic acid |\n| Interval | 6 months | 12 months |"
    response = post_new_table(client, draft, "dosing-intervals", grid)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    table = Revision.objects.get(pk=draft.pk).comparisons.get(slug="dosing-intervals")
    assert [s.label for s in table.subjects.all()] == ["Denosumab", "Zoledronic acid"]
    assert [(a.label, [c.text for c in cells]) for a, cells in table.rows()] == [
        ("Interval", ["6 months", "12 months"])
    ]
    assert table.subjects.get(position=1).drug == Monograph.objects.get(slug="denosumab").drug


def test_a_table_cannot_take_the_address_of_another_monographs_table(client, draft, alice):
    """/compare/<slug>/ shows one table: another monograph's draft must not take a live table's address."""
    other = factories.monograph(factories.drug("Alendronic acid"))
    factories.comparison(other.live_revision, "dosing-intervals", [other.drug])
    client.force_login(alice)
    response = post_new_table(client, draft, "dosing-intervals", "| | Denosumab |\n| Interval | 6 months |")
    assert response.status_code == 200
    assert "/compare/dosing-intervals/ is the address of a table of the monograph alendronic-acid" in (
        response.content.decode()
    )
    assert not Revision.objects.get(pk=draft.pk).comparisons.filter(slug="dosing-intervals").exists()


@pytest.mark.parametrize("slug", ["Dosing", "dosing_intervals"])
def test_a_table_slug_is_one_the_bodys_marker_can_name(client, draft, alice, slug):
    """Django's SlugField takes capitals and `_`; `[[comparison:…]]` in the body names lower-case letters,
    digits and hyphens only, and a table it cannot name would show its marker as text."""
    client.force_login(alice)
    response = post_new_table(client, draft, slug, "| | Denosumab |\n| Interval | 6 months |")
    assert response.status_code == 200
    assert "Use lower-case letters, digits and hyphens only" in response.content.decode()
    assert not Revision.objects.get(pk=draft.pk).comparisons.filter(slug=slug).exists()


def test_publish_now_asks_for_confirmation_naming_the_revision(client, draft, alice, bob, carol):
    to_approved(draft, alice, bob)
    client.force_login(carol)
    page = client.get(change_url(draft)).content.decode()
    assert f"Yes, publish r{draft.number} of “{draft.title}” now" in page
    url = reverse("admin:monographs_revision_workflow", args=[draft.pk, "publish"])
    response = client.post(url, follow=True)
    assert "Nothing published" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == S.APPROVED
    response = client.post(url, {"confirm_publish": "on"}, follow=True)
    assert f"“{draft.title}” r{draft.number}: published — readers see it now." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == S.PUBLISHED


def test_a_schedule_is_read_in_the_editors_time_zone_and_named_in_iso(client, draft, alice, bob, carol):
    import datetime as dt

    to_approved(draft, alice, bob)
    client.force_login(carol)
    url = reverse("admin:monographs_revision_workflow", args=[draft.pk, "schedule"])
    response = client.post(url, {"publish_at": "2099-07-01 09:00", "time_zone": "America/New_York"}, follow=True)
    assert "scheduled for 2099-07-01 09:00 America/New_York" in response.content.decode()
    draft.refresh_from_db()
    assert draft.publish_at == dt.datetime(2099, 7, 1, 13, 0, tzinfo=dt.UTC)
    assert "scheduled for <time" in response.content.decode() and "2099-07-01 13:00 UTC" in response.content.decode()


def test_an_unknown_time_zone_falls_back_to_the_servers(client, draft, alice, bob, carol):
    import datetime as dt

    to_approved(draft, alice, bob)
    client.force_login(carol)
    url = reverse("admin:monographs_revision_workflow", args=[draft.pk, "schedule"])
    client.post(url, {"publish_at": "2099-07-01 09:00", "time_zone": "../../etc/passwd"})
    draft.refresh_from_db()
    assert draft.publish_at == dt.datetime(2099, 7, 1, 9, 0, tzinfo=dt.UTC)
