"""Topic pages: format A pages outside the medication section that name no drug, at up to three reading levels."""

import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import override_settings

from monographs import workflow
from monographs.admin import NewMonographForm
from monographs.models import Drug, Monograph, ProposedChange, Revision, SearchEntry, Topic
from monographs.search import search

from .conftest import EXAMPLES, make_user

TOPICS = EXAMPLES / "topics"
ATOM = "{http://www.w3.org/2005/Atom}"
LEVEL_URLS = ["/topics/gum-abscess/", "/topics/gum-abscess/more-info/", "/topics/gum-abscess/detailed/"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(db):
    call_command("import_sources", str(TOPICS), verbosity=0)


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return BeautifulSoup(response.content, "html.parser")


def test_a_topic_page_creates_no_drug_and_its_three_levels_are_one_topic(imported):
    assert list(Drug.objects.values_list("name", flat=True)) == ["Amoxicillin"]
    topic = Topic.objects.get()
    assert (topic.name, topic.slug, topic.source_key) == ("Gum abscess", "gum-abscess", "/diagnosis/a-z/gum-abscess")
    levels = topic.monographs.order_by("level")
    assert [(m.level, m.drug_id, m.is_primary) for m in levels] == [
        (1, None, False),
        (2, None, False),
        (3, None, False),
    ]
    assert all(m.revisions.live().exists() for m in levels)


def test_a_page_outside_the_section_whose_title_names_a_known_drug_is_that_drugs_monograph(imported):
    elsewhere = Monograph.objects.get(source_key="A:treatment-children-amoxicillin")
    assert elsewhere.drug.name == "Amoxicillin" and elsewhere.topic is None


def test_with_no_medication_section_configured_every_page_is_a_drugs(db):
    with override_settings(DRUGREF_MEDICATION_URI_PREFIX=""):
        call_command("import_sources", str(TOPICS / "a1_gum_abscess.txt"), verbosity=0)
    assert Topic.objects.count() == 0
    assert Drug.objects.get().name == "Gum abscess"


def test_each_level_says_which_it_is_and_links_to_the_others(client, imported):
    for number, url in enumerate(LEVEL_URLS, start=1):
        soup = page(client, url)
        assert soup.h1.get_text() == "Gum abscess"
        label = soup.select_one(".reading-level").get_text()
        assert label.startswith(f"Reading level {number}:")
        nav = soup.select_one("nav.reading-levels")
        links = [a["href"] for a in nav.find_all("a")]
        assert links == [other for other in LEVEL_URLS if other != url]
        assert nav.select_one("[aria-current=page]").get_text() == Monograph.Level(number).label
        assert soup.find("link", rel="canonical")["href"] == f"http://testserver{url}"
        assert "Drug (INN)" not in soup.get_text()
    assert "Introduction" in page(client, LEVEL_URLS[0]).select_one(".reading-level").get_text()
    assert "Detailed" in page(client, LEVEL_URLS[2]).select_one(".reading-level").get_text()


def test_the_topic_page_lists_the_drugs_that_cite_it(client, imported):
    from . import factories

    factories.monograph(factories.drug("Clindamycin"), body="See [the topic](/topics/gum-abscess/detailed/).")
    factories.monograph(factories.drug("Metronidazole"), body="Not [this one](/diagnosis/a-z/gum-abscessus).")
    section = page(client, LEVEL_URLS[0]).find(id="citing-drugs").parent
    assert [a["href"] for a in section.find_all("a")] == ["/drugs/amoxicillin/", "/drugs/clindamycin/"]


def test_legacy_uris_of_each_level_answer_301_to_the_level(client, imported):
    for uri, target in zip(
        ["/diagnosis/a-z/gum-abscess", "/diagnosis/a-z/gum-abscess/more-info/", "/diagnosis/a-z/gum-abscess/detailed"],
        LEVEL_URLS,
        strict=True,
    ):
        response = client.get(uri)
        assert (response.status_code, response["Location"]) == (301, target)


def test_a_drug_pages_link_to_the_topics_old_uri_leads_to_the_topic(client, imported):
    soup = page(client, "/drugs/amoxicillin/")
    href = soup.select_one(".body").find("a", string="gum abscess")["href"]
    assert href == "/diagnosis/a-z/gum-abscess/detailed"
    response = client.get(href, follow=True)
    assert response.redirect_chain == [("/topics/gum-abscess/detailed/", 301)]
    assert response.status_code == 200
    # The publish check sees the link as working too.
    from monographs.links import broken_links

    assert broken_links(Monograph.objects.get(drug__slug="amoxicillin", is_primary=True).live_revision) == []


def test_the_topic_address_shows_the_lowest_live_level(client, imported):
    editor = make_user("pat", "Publishers")
    introduction = Monograph.objects.get(topic__slug="gum-abscess", level=1)
    workflow.unpublish(introduction.live_revision, editor, "Being rewritten")
    response = client.get("/topics/gum-abscess/")
    assert (response.status_code, response["Location"]) == (302, "/topics/gum-abscess/more-info/")
    nav = page(client, LEVEL_URLS[1]).select_one("nav.reading-levels")
    assert [a["href"] for a in nav.find_all("a")] == [LEVEL_URLS[2]]
    assert client.get("/topics/gum-abscess/no-such-level/").status_code == 404
    assert client.get("/topics/no-such-topic/").status_code == 404


def test_the_topic_a_to_z_lists_topics_and_the_drug_a_to_z_lists_drugs_only(client, imported):
    topics = page(client, "/topics/")
    assert [(a.get_text(), a["href"]) for a in topics.select("main section a")] == [("Gum abscess", LEVEL_URLS[0])]
    drugs = page(client, "/drugs/")
    assert "Gum abscess" not in drugs.get_text()
    assert "Amoxicillin" in drugs.get_text()
    home = page(client, "/")
    assert home.select_one(".site-nav").find("a", href="/topics/")


def test_a_topic_with_nothing_live_is_not_listed(client, imported):
    editor = make_user("pat", "Publishers")
    for monograph in Monograph.objects.filter(topic__isnull=False):
        workflow.unpublish(monograph.live_revision, editor, "Withdrawn")
    assert "Gum abscess" not in page(client, "/topics/").get_text()
    assert client.get("/topics/gum-abscess/").status_code == 404
    assert client.get("/diagnosis/a-z/gum-abscess").status_code == 404


def test_search_finds_the_topic(client, imported):
    assert SearchEntry.objects.filter(monograph__topic__isnull=False).count() == 3
    urls = {hit.url for hit in search("abscess").hits}
    assert set(LEVEL_URLS) <= urls
    soup = page(client, "/search/?q=periodontal")
    result = soup.select_one("main ol li, main ul li")
    assert result.find("a")["href"] == LEVEL_URLS[2]
    assert "Topic, detailed" in result.get_text()


def test_sitemap_and_feed_contain_the_topic(client, imported):
    sitemap = client.get("/sitemap.xml").content.decode()
    for url in [*LEVEL_URLS, "/topics/"]:
        assert f"<loc>http://testserver{url}</loc>" in sitemap
    feed = ET.fromstring(client.get("/feeds/updates/").content)
    entries = {e.find(f"{ATOM}link").get("href"): e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")}
    assert entries["http://testserver/topics/gum-abscess/more-info/"] == (
        "Gum abscess — Topic, more information, revision 1"
    )


def test_the_old_monograph_address_of_a_level_leads_to_the_topic(client, imported):
    level = Monograph.objects.get(topic__slug="gum-abscess", level=3)
    response = client.get(f"/monographs/{level.slug}/")
    assert (response.status_code, response["Location"]) == (301, LEVEL_URLS[2])


def test_structured_data_says_the_page_is_about_the_topic(client, imported):
    import json

    soup = page(client, LEVEL_URLS[0])
    graph = json.loads(soup.find("script", type="application/ld+json").string)["@graph"]
    assert {"@type": "MedicalEntity", "@id": "http://testserver/topics/gum-abscess/#topic", "name": "Gum abscess"} in (
        graph
    )


def test_reimporting_the_topic_changes_nothing(imported):
    counts = (Topic.objects.count(), Monograph.objects.count(), Revision.objects.count())
    call_command("import_sources", str(TOPICS), verbosity=0)
    assert (Topic.objects.count(), Monograph.objects.count(), Revision.objects.count()) == counts


def test_two_documents_for_one_level_of_a_topic_are_refused(imported, write_source):
    # A page of the topic whose `type` (level 2) names a level another page already is.
    twin = (TOPICS / "a3_gum_abscess_detailed.txt").read_text().replace("type: level3", "type: level2")
    twin = twin.replace("id: diagnosis-a-z-gum-abscess-detailed", "id: diagnosis-a-z-gum-abscess-detailed-copy")
    twin = twin.replace("uri: diagnosis/a-z/gum-abscess/detailed", "uri: diagnosis/a-z/gum-abscess/detailed/")
    path = write_source("twin.txt", twin)
    with pytest.raises(CommandError, match="already has a level 2 page"):
        call_command("import_sources", str(path), verbosity=0)


def test_a_monograph_belongs_to_a_drug_or_a_topic_never_both_nor_neither(imported):
    topic, drug = Topic.objects.get(), Drug.objects.get()
    for fields in ({"drug": drug, "topic": topic, "level": 2}, {}, {"topic": topic}, {"drug": drug, "level": 1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Monograph.objects.create(slug="x", kind="patient", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Monograph.objects.create(slug="x", kind="patient", topic=topic, level=1)  # the level is taken


def test_the_admin_form_names_the_rule(imported):
    form = NewMonographForm(
        {"slug": "x", "kind": "patient", "review_interval_months": 24, "title": "X", "drug": "", "topic": ""}
    )
    assert not form.is_valid()
    assert "choose exactly one" in str(form.errors)
    with pytest.raises(ValidationError):
        Monograph(slug="y", kind="patient", topic=Topic.objects.get(), level=None).full_clean()


def test_a_topics_name_and_address_change_only_by_an_approved_proposal(client, imported):
    author, reviewer = make_user("ann", "Authors"), make_user("rob", "Proof-readers")
    topic = Topic.objects.get()
    client.force_login(author)
    response = client.post(
        f"/admin/monographs/topic/{topic.pk}/change/",
        {"name": "Dental abscess", "slug": "dental-abscess", "proposal_note": "The usual name"},
    )
    assert response.status_code == 302
    topic.refresh_from_db()
    assert (topic.name, topic.slug) == ("Gum abscess", "gum-abscess")  # nothing changes yet
    proposal = ProposedChange.objects.get(target="topic")
    workflow.approve_change(proposal, reviewer)
    topic.refresh_from_db()
    assert (topic.name, topic.slug) == ("Dental abscess", "dental-abscess")
    assert page(client, "/topics/").select_one("main section a").get_text() == "Dental abscess"
    response = client.get("/topics/gum-abscess/more-info/")  # the old address of each level still leads there
    assert (response.status_code, response["Location"]) == (301, "/topics/dental-abscess/more-info/")
    assert {hit.url for hit in search("dental").hits} >= {"/topics/dental-abscess/"}


def test_an_author_creates_a_topic_and_its_first_level_in_the_admin_and_previews_it(client, imported):
    author = make_user("ann", "Authors")
    client.force_login(author)
    response = client.post("/admin/monographs/topic/add/", {"name": "Dry socket", "slug": "dry-socket"})
    assert response.status_code == 302
    topic = Topic.objects.get(slug="dry-socket")  # creating is direct: nothing is public until a revision is
    form = {
        "topic": topic.pk,
        "level": 2,
        "slug": "dry-socket-more-information",
        "kind": "patient",
        "review_interval_months": 12,
        "title": "Dry socket",
        "legacy_paths-TOTAL_FORMS": 0,
        "legacy_paths-INITIAL_FORMS": 0,
        "revisions-TOTAL_FORMS": 0,
        "revisions-INITIAL_FORMS": 0,
    }
    response = client.post("/admin/monographs/monograph/add/", {**form, "drug": Drug.objects.get().pk})
    assert response.status_code == 200 and "choose exactly one" in response.content.decode()
    response = client.post("/admin/monographs/monograph/add/", form)
    assert response.status_code == 302
    draft = Revision.objects.get(monograph__topic=topic)
    soup = BeautifulSoup(client.get(f"/admin/monographs/revision/{draft.pk}/preview/").content, "html.parser")
    assert "Preview" in soup.select_one("[role=status]").get_text()
    assert soup.select_one(".reading-level").get_text() == "Reading level 2: More information"
    assert "Dry socket" not in page(client, "/topics/").get_text()  # a draft is not public
    assert client.get("/topics/dry-socket/").status_code == 404


def test_topics_survive_a_dump_and_load(client, imported, tmp_path):
    from io import StringIO

    from .conftest import CONTENT_MODELS

    out = StringIO()
    exclude = ["monographs.searchentry", "monographs.searchword"]
    call_command("dumpdata", "monographs", natural_foreign=True, natural_primary=True, exclude=exclude, stdout=out)
    backup = tmp_path / "backup.json"
    backup.write_text(out.getvalue(), encoding="utf-8")
    Revision.objects.all().delete()
    Monograph.objects.all().delete()
    for model in CONTENT_MODELS:
        model.objects.all().delete()
    call_command("loaddata", str(backup), verbosity=0)
    assert Topic.objects.get().monographs.count() == 3
    assert page(client, LEVEL_URLS[1]).select_one(".reading-level").get_text().startswith("Reading level 2")


def test_a_cached_topic_page_follows_its_other_levels(client, imported):
    assert len(page(client, LEVEL_URLS[0]).select("nav.reading-levels a")) == 2  # rendered and cached
    detailed = Monograph.objects.get(topic__slug="gum-abscess", level=3)
    workflow.unpublish(detailed.live_revision, make_user("pat", "Publishers"), "Being rewritten")
    nav = page(client, LEVEL_URLS[0]).select_one("nav.reading-levels")
    assert [a["href"] for a in nav.find_all("a")] == [LEVEL_URLS[1]]
    response = client.get(LEVEL_URLS[0], HTTP_IF_MODIFIED_SINCE="Wed, 21 Oct 2099 07:28:00 GMT")
    assert response.status_code == 304  # conditional GETs: Last-Modified is when the level went live
