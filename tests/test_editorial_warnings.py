"""The revision page tells editors what looks like a slip: a title one typing slip from a known name, a
summary cut off.  Advice, never a refusal."""

import pytest
from django.urls import reverse

from monographs.models import Alias, Revision

from . import factories

pytestmark = pytest.mark.django_db


def warnings_for(**content) -> list[str]:
    drug = factories.drug("Denosumab", brands=["Prolia"])
    Alias.objects.create(drug=drug, name="Denusomab", slug="denusomab", kind=Alias.Kind.MISSPELLING)
    return factories.monograph(drug, **content).revisions.get().editorial_warnings()


def test_a_title_one_slip_from_a_drug_name_is_flagged_even_when_it_is_a_known_misspelling():
    (warning,) = warnings_for(title="Denusomab", summary="Used for bones.")
    assert "“Denusomab”" in warning and "“denosumab”" in warning


def test_a_title_one_slip_from_a_brand_is_flagged():
    (warning,) = warnings_for(title="Prollia (Patient information)", summary="Used for bones.")
    assert "“Prollia”" in warning and "“prolia”" in warning


def test_a_correct_title_and_a_whole_summary_raise_nothing():
    assert warnings_for(title="Denosumab (Patient information)", summary="Used for bones.") == []


def test_a_short_word_is_not_checked():
    assert warnings_for(title="Denosumab dose", summary="Used for bones.") == []


@pytest.mark.parametrize("summary", ["It treats fractur...", "It treats fractur…"])
def test_a_summary_ending_in_an_ellipsis_is_flagged(summary):
    assert warnings_for(title="Denosumab", summary=summary) == ["The summary ends in “…”: it may have been cut off."]


def test_a_summary_ending_mid_word_is_flagged():
    (warning,) = warnings_for(title="Denosumab", summary="It treats osteoporosis and fractur")
    assert "ends mid-sentence" in warning


def test_the_seed_revisions_show_their_warnings_on_the_revision_page(client, seeded, alice):
    client.force_login(alice)
    pages = {
        revision.title: client.get(reverse("admin:monographs_revision_change", args=[revision.pk])).content.decode()
        for revision in Revision.objects.live()
    }
    denusomab = next(html for title, html in pages.items() if title.startswith("Denusomab"))
    assert 'id="editorial-warnings"' in denusomab and "“Denusomab” is one slip" in denusomab
    cut_off = [html for html in pages.values() if "The summary ends in “…”" in html]
    assert cut_off, "seed B's summary is cut off at the source (“fractur...”)"
