"""The whole corpus at once (issue 13, "Done when"): every document in tests/documents/faithful, figures and
topics — written for these tests, never copied from a site — imported in one run with `--assets`, then
checked on the rendered public pages by rules that know nothing about any one document: every sentence,
every heading as a heading, every table cell inside a table, every nested list still nested, no image or
video that answers 404, and no topic page turned into a drug."""

import re
from io import StringIO

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command

from monographs.importers.sources import split_front_matter
from monographs.models import Drug, Revision, Topic

from .conftest import EXAMPLES
from .test_figures import FILES, MISSING, MP4, WEBM, image_bytes

pytestmark = pytest.mark.django_db

FOLDERS = [EXAMPLES / "faithful", EXAMPLES / "figures", EXAMPLES / "topics"]
FORMAT_A = sorted(path for folder in FOLDERS for path in folder.glob("a*.txt"))


def words(text: str) -> str:
    return re.sub(r"\s+([.,;:)])", r"\1", " ".join(text.split()))


@pytest.fixture
def corpus(settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path / "media"
    site = tmp_path / "site"
    for name, kind in FILES.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(image_bytes(kind))
    (site / "videos" / "nerve-block.mp4").write_bytes(MP4)
    (site / "videos" / "nerve-block.webm").write_bytes(WEBM)
    out = StringIO()
    call_command("import_sources", *map(str, FOLDERS), "--assets", str(site), stdout=out, stderr=StringIO())
    assert " 0 skipped" in out.getvalue()
    pages = {}
    for path in FORMAT_A:
        revision = Revision.objects.live().get(source_file=path.name)
        response = client.get(revision.monograph.get_absolute_url())
        assert response.status_code == 200, path.name
        pages[path] = BeautifulSoup(response.content, "html.parser").find("main")
    return pages


def source(path) -> BeautifulSoup:
    _front, body = split_front_matter(path, path.read_text(encoding="utf-8"))
    soup = BeautifulSoup(body, "html.parser")
    for video in soup.find_all("video"):  # the "your browser cannot play this" text is dropped on purpose
        for text in video.find_all(string=True):
            text.extract()
    return soup


def test_every_document_of_the_corpus_imports_and_no_topic_became_a_drug(corpus):
    assert len(corpus) == len(FORMAT_A) >= 5
    topics = set(Topic.objects.values_list("name", flat=True))
    assert topics, "the corpus has topic pages"
    assert not Drug.objects.filter(name__in=topics).exists()


def test_no_topic_is_listed_among_the_drugs(corpus, client):
    a_to_z = BeautifulSoup(client.get("/drugs/").content, "html.parser").find("main").get_text(" ")
    for name in Topic.objects.values_list("name", flat=True):
        assert name not in a_to_z
    topics = BeautifulSoup(client.get("/topics/").content, "html.parser").find("main").get_text(" ")
    assert all(name in topics for name in Topic.objects.values_list("name", flat=True))


def test_every_sentence_is_on_its_page(corpus):
    checked = 0
    for path, page in corpus.items():
        text = words(page.get_text(" "))
        for element in source(path).find_all(["p", "li", "td", "th", "figcaption", "dd", "dt", "blockquote"]):
            for sentence in re.split(r"(?<=[.:!?])\s+", words(element.get_text(" "))):
                if sentence:
                    assert sentence in text, (path.name, sentence)
                    checked += 1
    assert checked >= 100


def test_every_heading_is_a_heading(corpus):
    checked = 0
    for path, page in corpus.items():
        headings = {words(h.get_text(" ")) for h in page.find_all(re.compile(r"^h[1-6]$"))}
        captions = {words(c.get_text(" ")) for c in page.find_all("caption")}
        for heading in source(path).find_all(re.compile(r"^h[1-6]$")):
            text = words(heading.get_text(" "))
            # A heading that names the table after it becomes that comparison's caption.
            assert text in headings or any(text in caption for caption in captions), (path.name, text)
            checked += 1
    assert checked >= 8


def test_every_table_cell_is_inside_a_table(corpus):
    checked = 0
    for path, page in corpus.items():
        tables = " ".join(words(table.get_text(" ")) for table in page.find_all("table"))
        for cell in source(path).find_all(["td", "th"]):
            assert words(cell.get_text(" ")) in tables, (path.name, cell)
            checked += 1
    assert checked >= 30


def test_every_nested_list_is_still_nested(corpus):
    checked = 0
    for path, page in corpus.items():
        for inner in source(path).select("li > ul > li, li > ol > li"):
            first = words(inner.find(string=True, recursive=True) or "")
            if not first:
                continue
            found = [li for li in page.find_all("li") if words(li.get_text(" ")).startswith(first)]
            assert any(li.find_parent("li") is not None for li in found), (path.name, first)
            checked += 1
    assert checked >= 5


def test_no_image_or_video_answers_404(corpus, client):
    seen = 0
    for path, page in corpus.items():
        for element in page.find_all(["img", "source", "video"]):
            for attribute in ("src", "poster"):
                url = element.get(attribute)
                if url and url.startswith("/"):
                    response = client.get(url)
                    assert response.status_code == 200, (path.name, url)
                    seen += 1
        assert MISSING not in str(page)  # the lost file's figure shows its caption, no broken image
    assert seen >= 5
