"""Real content, faithfully (issue 13, parts 1, 2, 3 and 6): the corpus in tests/documents/faithful/ imports
whole, and its public pages keep every heading, table cell, nested list and sentence of the sources.

The documents were written for these tests; each holds the shapes real pages have and the first importer
refused or damaged: ragged, corner-less, spanning and one-column tables, headings with markup, a body
`<h1>`, lists nested three deep with text after an inner list, adjacent emphasis, FAQs without answers,
answers leaked into questions, booleans written as text and the class sentence in its phrasings.
"""

import re
from io import StringIO
from pathlib import Path
from urllib.parse import urljoin

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command

from monographs.importers.sources import WARNINGS_KEY, find_classes, parse_document, split_front_matter
from monographs.models import Comparison, Drug, Revision

from .conftest import EXAMPLES, make_user

pytestmark = pytest.mark.django_db

CORPUS = EXAMPLES / "faithful"
IBANDRONIC = CORPUS / "a_ibandronic_acid.txt"


def _import() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_sources", str(CORPUS), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _page(client, slug: str) -> BeautifulSoup:
    response = client.get(Drug.objects.get(slug=slug).get_absolute_url())
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def _imported_body(client, source: Path, slug: str) -> BeautifulSoup:
    """The body of drug `slug`'s page once `source` is imported."""
    call_command("import_sources", str(source), verbosity=0, stderr=StringIO())
    return _page(client, slug).select_one("div.body")


def _words(text: str) -> str:
    return " ".join(text.split())


def _source_html(path: Path) -> BeautifulSoup:
    _front, body = split_front_matter(path, path.read_text(encoding="utf-8"))
    return BeautifulSoup(body, "html.parser")


def test_the_whole_corpus_imports_and_each_warning_is_printed_and_kept():
    out, err = _import()
    assert "3 created" in out
    assert "skipped" not in err
    revision = Revision.objects.get(source_file="a_ibandronic_acid.txt")
    warnings = revision.source_meta[WARNINGS_KEY]
    assert "table 1, row 3: fewer cells than columns; padded with empty cells" in warnings
    assert any(w.startswith("table 3: kept as a table in the body") and "spanning" in w for w in warnings)
    assert any(w.startswith("table 4: kept as a table in the body") and "one column" in w for w in warnings)
    for message in warnings:
        assert f"warning: {IBANDRONIC}: {message}" in err  # file, element, what happened
    assert WARNINGS_KEY not in Revision.objects.get(source_file="b_etoricoxib.txt").source_meta


def test_every_heading_is_a_heading_under_the_one_h1_and_in_the_contents(client):
    _import()
    page = _page(client, "ibandronic-acid")
    assert len(page.find_all("h1")) == 1  # the page's title; the body's <h1> was demoted
    body = page.select_one("div.body")
    source = _source_html(IBANDRONIC)
    for heading in source.find_all(re.compile(r"^h[1-6]$")):
        level = int(heading.name[1])
        found = body.find(f"h{level + 1}", string=_words(heading.get_text()))
        if found is None:  # a heading that names the table after it becomes that comparison's caption
            assert body.find("caption", string=_words(heading.get_text())) is not None, heading
            continue
        if level == 1:
            assert page.select_one(f'nav.toc a[href="#{found["id"]}"]') is not None


def test_every_table_cell_is_inside_a_table(client):
    _import()
    page = _page(client, "ibandronic-acid")
    tables = " ".join(_words(t.get_text(" ")) for t in page.select("div.body table"))
    for cell in _source_html(IBANDRONIC).find_all(["th", "td"]):
        assert _words(cell.get_text(" ")) in tables, cell
    # The comparison keeps its corner cell (in the caption: the model has no field for it) and pads the short row.
    comparison = Comparison.objects.get(slug="of-bisphosphonate-schedules")
    assert comparison.caption == "Comparison of bisphosphonate schedules (rows: Type of medication)"
    assert [c.text for c in comparison.attributes.get(label="How often").cells.order_by("subject__position")] == [
        "monthly",
        "weekly",
        "",
    ]
    # The header row without a corner cell names subjects only.
    assert [s.label for s in Comparison.objects.get(slug="tablet-strengths").subjects.all()] == ["150 mg", "50 mg"]
    # A table kept in the body keeps its caption, spanning cells, header scopes and the headings' markup.
    blood = page.find("caption", string="Blood tests during treatment").parent
    assert blood.find("th", colspan="2", string="Before the first dose") is not None
    assert [th["scope"] for th in blood.find("tr").find_all("th")] == ["col", "col"]
    markers = page.find("caption", string="Bone markers").parent
    assert str(markers.find("sub")) == "<sub>1</sub>"
    assert markers.find("a", href="https://example.org/p1np").get_text() == "P1NP"


def test_nested_lists_stay_nested_with_the_text_after_an_inner_list_in_its_item(client):
    _import()
    body = _page(client, "ibandronic-acid").select_one("div.body")
    deep = body.find("li", string="loose fillings")
    assert [p.name for p in deep.parents if p.name in {"ul", "li"}][:5] == ["ul", "li", "ul", "li", "ul"]
    outer = deep.find_parent("li").find_parent("li")
    assert outer.find("p", string="Bring a list of the medicines you take.") is not None
    assert "Bring a list" not in deep.find_parent("li").get_text()
    water = body.find("li", string="Use plain tap water only.")
    assert water.parent.name == "ol" and water.parent.find_parent("li").find_parent("ol") is not None
    # Format B: two- and three-space sub-lists.
    body = _page(client, "naproxen").select_one("div.body")
    stools = body.find("li", string="black stools")
    assert stools.find_parent("li").find_parent("li").find(string=re.compile("Stomach problems")) is not None
    assert body.find("li", string="swollen ankles").find_parent("li").find(string=re.compile("Raised blood"))
    assert body.find("li", string="ask a pharmacist").find_parent("ol") is not None


def test_adjacent_emphasis_is_one_run(client):
    _import()
    body = _page(client, "ibandronic-acid").select_one("div.body")
    paragraph = body.find("p", string=re.compile("signal strength")) or body.find(
        lambda tag: tag.name == "p" and "signal strength" in tag.get_text()
    )
    assert "<em>B<sub>0</sub></em>. Stronger fields" in str(paragraph)
    assert "*" not in paragraph.get_text()


def test_every_sentence_of_the_source_is_on_the_page(client):
    _import()
    page = _words(_page(client, "ibandronic-acid").select_one("div.body").get_text(" "))
    source = _source_html(IBANDRONIC)
    for element in source.find_all(["p", "li"]):
        for sentence in re.split(r"(?<=[.:])\s+", _words(element.get_text(" "))):
            words = re.sub(r"\s+([.,)])", r"\1", sentence)
            assert words.split(" ")[0] in page and re.sub(r"\s+([.,)])", r"\1", page).find(words) >= 0, sentence


def test_format_b_faqs_without_answers_are_dropped_and_leaked_answers_recovered(client):
    _out, err = _import()
    revision = Revision.objects.get(source_file="b_naproxen.txt")
    assert [(f.question, f.answer) for f in revision.faqs.all()] == [
        ("Can I take naproxen with paracetamol?", "Yes, the two can be taken together at their usual doses."),
        (
            "Is naproxen safe in pregnancy?",
            "Avoid it in the last three months of pregnancy unless a doctor advises it.",
        ),
    ]
    assert "FAQ 2: (“How long does naproxen take to work?”) has no answer; dropped" in err
    assert "FAQ 3: (“Should naproxen be taken with food?”) has no answer; dropped" in err
    page = _page(client, "naproxen")
    assert "A:" not in page.get_text() and "**" not in page.get_text()


def test_booleans_written_as_text_are_read():
    _import()
    assert Drug.objects.get(slug="naproxen").is_banned is False  # is_banned: "false"
    assert Drug.objects.get(slug="etoricoxib").is_banned is True  # is_banned: "Yes"


def test_the_class_sentence_is_recognised_in_its_phrasings(client):
    _import()
    assert [c.name for c in Drug.objects.get(slug="naproxen").classes.all()] == ["Nonsteroidal anti-inflammatory drugs"]
    assert [c.name for c in Drug.objects.get(slug="etoricoxib").classes.all()] == ["COX-2 inhibitors"]
    assert [c.name for c in Drug.objects.get(slug="ibandronic-acid").classes.all()] == ["Bisphosphonates"]
    assert "Nonsteroidal anti-inflammatory drugs" in _page(client, "naproxen").select_one("article header").get_text()


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("The pharmacological class of naproxen is: Nonsteroidal anti-inflammatory drugs.", "Nonsteroidal"),
        ("Its pharmacological classification is **Bisphosphonates**.", "Bisphosphonates"),
        ("Denosumab's pharmacological class is RANK ligand (RANKL) inhibitor.", "RANK ligand (RANKL) inhibitor"),
        ("It belongs to a group of medicines called bisphosphonates, which slow bone loss.", "Bisphosphonates"),
        ("Celecoxib is one of a class of drugs known as COX-2 inhibitors.", "COX-2 inhibitors"),
        ("Alendronate belongs to the class of bisphosphonates (like risedronate).", "Bisphosphonates"),
        ("Drug class: Proton pump inhibitors\nOmeprazole reduces acid.", "Proton pump inhibitors"),
        ("Therapeutic class: Statins", "Statins"),
    ],
)
def test_each_accepted_class_phrasing(sentence, expected):
    found = find_classes(sentence.replace("**", ""))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_a_sentence_that_names_no_class_is_not_one():
    assert find_classes("The class of patients who belong to the study group of 2019 were seen weekly.") == []


def test_the_revision_page_lists_the_import_warnings_for_editors(client):
    _import()
    client.force_login(make_user("root", is_superuser=True))
    revision = Revision.objects.get(source_file="a_ibandronic_acid.txt")
    response = client.get(f"/admin/monographs/revision/{revision.pk}/change/")
    listed = BeautifulSoup(response.content, "html.parser").select_one("#import-warnings").find_next_sibling("ul")
    assert [li.get_text() for li in listed.find_all("li")] == revision.source_meta[WARNINGS_KEY]


def test_a_page_is_still_refused_when_it_cannot_be_represented(write_source):
    from monographs.importers.sources import SourceError

    with pytest.raises(SourceError, match="no `title`"):
        parse_document(write_source("x.txt", "---\nuri: a\n---\n<table><tr><td>x</td></tr></table>\n"))


def test_a_table_kept_in_the_body_is_sanitised_when_imported(write_source):
    doc = parse_document(
        write_source(
            "t.txt",
            '---\ntitle: X\n---\n<table><tr><th colspan="2" onclick="steal()">Head<script>steal()</script></th></tr>'
            '<tr><td style="color:red"><a href="javascript:steal()">a</a> <b>b</b></td><td>c</td></tr></table>\n',
        )
    )
    assert "onclick" not in doc.body and "script" not in doc.body and "style" not in doc.body
    assert '<th colspan="2" scope="col">Head</th>' in doc.body and "<a>a</a> <b>b</b>" in doc.body


def test_reindenting_format_b_lists_leaves_fenced_code_and_four_space_lists_alone():
    from monographs.importers.sources import _reindent_lists

    fenced = "```\n- a\n  - b\n```\n"
    assert _reindent_lists(fenced) == fenced
    four = "- a\n    - b\n        - c\n    more of a\n- d\n"
    assert _reindent_lists(four) == four
    assert _reindent_lists("1. a\n   - b\n  - c\n") == "1. a\n    - b\n    - c\n"


def test_an_answer_written_as_a_number_is_kept(write_source):
    doc = parse_document(
        write_source("n.txt", "---\ntitle: X\nfaqs:\n  - q: How many tablets a day?\n    a: 2\n---\n## A\n\nt\n")
    )
    assert doc.faqs == [("How many tablets a day?", "2")] and doc.warnings == []


def test_warnings_are_printed_once(caplog):
    _out, err = _import()
    assert err.count("table 1, row 3: fewer cells than columns") == 1
    # Not also through the root logger (whose console handler would print each a second time).
    assert [r for r in caplog.records if r.name == "monographs.importers"] == []


def test_a_table_inside_a_list_item_stays_in_the_item(write_source, client):
    source = write_source(
        "zz_listed_table.txt",
        "---\ntitle: Risedronate\n---\n<ul><li>Doses:<table><tr><th>Dose</th></tr><tr><td>35 mg weekly</td></tr>"
        "</table></li><li>Next item</li></ul>\n",
    )
    body = _imported_body(client, source, "risedronate")
    cell = body.find("td", string="35 mg weekly")
    assert cell is not None and cell.find_parent("li").find(string=re.compile("Doses")) is not None
    assert body.find(string="Next item").find_parent("li").find_parent("ul") is cell.find_parent("ul")


def test_a_long_table_kept_in_the_body_imports_row_by_row(write_source, client):
    rows = "".join(
        f'<tr><td>Site {n}</td><td><a href="https://example.org/s/{n}">clinic {n}</a></td></tr>' for n in range(400)
    )
    source = write_source(
        "long_table.txt",
        f'---\ntitle: Pamidronate\n---\n<table><tr><th colspan="2">Infusion sites</th></tr>{rows}</table>\n',
    )
    call_command("import_sources", str(source), verbosity=0, stderr=StringIO())  # not refused as one huge block
    assert not Comparison.objects.filter(revision__source_file="long_table.txt").exists()  # spanning: a body table
    table = _page(client, "pamidronate").select_one("div.body table")
    assert len(table.find_all("tr")) == 401 and table.find("a", string="clinic 399") is not None


def test_a_format_b_list_right_under_its_paragraph_stays_a_list(write_source, client):
    # The drug-reference site writes Markdown the CommonMark way: a list may start on the line after a
    # paragraph.  Python-Markdown wants a blank line there, and without one read the items as more of the
    # paragraph: "- Abdominal pain" as text.
    source = write_source(
        "b_risedronate.txt",
        "---\ntitle: Risedronate\nis_banned: false\n---\n## **Side Effects**\n\n"
        "Common side effects (1 in 100):\n- Abdominal pain\n- Dyspepsia\n  - heartburn\n\n"
        "Take it:\n1. before breakfast\n2. with water\n\n"
        "- Rare:\nlazy text of the item\n- Jaw problems\n",
    )
    body = _imported_body(client, source, "risedronate")
    assert body.find("p", string="Common side effects (1 in 100):") is not None
    pain = body.find("li", string="Abdominal pain")
    assert pain is not None and pain.find_next_sibling("li").find(string=re.compile("Dyspepsia")) is not None
    assert body.find("li", string="heartburn").find_parent("li").find(string=re.compile("Dyspepsia")) is not None
    assert [li.get_text() for li in body.find("p", string="Take it:").find_next_sibling("ol")("li")] == [
        "before breakfast",
        "with water",
    ]
    # A line that continues an item (CommonMark's lazy continuation) keeps the list whole.
    rare = body.find("li", string=re.compile("Rare"))
    assert _words(rare.get_text(" ")) == "Rare: lazy text of the item"
    assert rare.find_next_sibling("li").get_text() == "Jaw problems"
    assert "- " not in body.get_text()


def test_a_line_break_in_the_source_stays_a_line_break(write_source, client):
    # <br> (format A) and a line ending in two spaces (format B) are the sources' line breaks: in an address,
    # a dose per line, a table cell; tidying the converted Markdown must not strip them into spaces.
    a = write_source(
        "a_pamidronate.txt",
        "---\ntitle: Pamidronate\n---\n<p>Infusion clinic<br>Guy's Hospital<br/>\n  Great Maze Pond</p>\n"
        "<ul><li>Adults: 30 mg<br>Children: 1 mg/kg</li></ul>\n"
        "<table><tr><th></th><th>Dose</th></tr><tr><td>Paget's disease</td><td>30 mg<br>weekly</td></tr></table>\n",
    )
    b = write_source(
        "b_risedronate.txt",
        "---\ntitle: Risedronate\nis_banned: false\n---\n## **Dosage**\n\nAdults: 5 mg daily  \nor 35 mg weekly\n",
    )
    call_command("import_sources", str(a), str(b), verbosity=0, stderr=StringIO())
    body = _page(client, "pamidronate").select_one("div.body")
    address = body.find(lambda tag: tag.name == "p" and "Infusion clinic" in tag.get_text())
    assert [str(part).strip() for part in address.contents] == [
        "Infusion clinic",
        "<br/>",
        "Guy's Hospital",
        "<br/>",
        "Great Maze Pond",
    ]
    assert body.find("li").find("br") is not None
    assert str(body.find(lambda tag: tag.name == "td" and "30 mg" in tag.get_text())) == "<td>30 mg<br/>weekly</td>"
    dose = (
        _page(client, "risedronate").select_one("div.body").find(lambda tag: tag.name == "p" and "Adults" in tag.text)
    )
    assert dose.find("br") is not None and _words(dose.get_text(" ")) == "Adults: 5 mg daily or 35 mg weekly"


def test_a_link_whose_text_is_its_address_keeps_its_text(write_source, client):
    # markdownify wrote such a link as an autolink, `<address>`, which Python-Markdown reads as an HTML tag
    # unless the address starts with http: the sanitiser then removed the link and its words.
    source = write_source(
        "a_etidronate.txt",
        "---\ntitle: Etidronate\n---\n"
        '<p>Read <a href="/diagnosis/a-z/paget">/diagnosis/a-z/paget</a>, <a href="leaflet.pdf">leaflet.pdf</a>, '
        '<a href="mailto:help@example.org">mailto:help@example.org</a> or '
        '<a href="https://example.org/x">https://example.org/x</a>.</p>\n',
    )
    body = _imported_body(client, source, "etidronate")
    assert [a.get_text() for a in body("a")] == [
        "/diagnosis/a-z/paget",
        "leaflet.pdf",
        "mailto:help@example.org",
        "https://example.org/x",
    ]


def test_a_relative_link_to_another_page_of_the_site_leads_to_that_page(write_source, client):
    # A page links its neighbours relatively ("bisphosphonates" beside ".../miscellaneous/zoledronate"). Read
    # on this site as written, the link resolves against /drugs/zoledronic-acid/ and answers 404; read against
    # the page's own source address, as the source site's browser did, it answers 301 to where that page is now.
    prefix = "treatment/other/medication/miscellaneous"
    zoledronic = write_source(
        "a_zoledronic_acid.txt",
        f"---\ntitle: Zoledronic acid\nuri: {prefix}/zoledronate\n---\n"
        '<p>See <a href="alendronate">alendronate</a>, <a href="./alendronate#dose">its dose</a>, '
        '<a href="../../surgery/reconstruction?print=1">surgery</a>, <a href="#top">the top</a> and '
        '<a href="https://example.org/x">another site</a>.</p>\n',
    )
    alendronic = write_source(
        "a_alendronic_acid.txt", f"---\ntitle: Alendronic acid\nuri: {prefix}/alendronate\n---\n<p>Text.</p>\n"
    )
    call_command("import_sources", str(zoledronic), str(alendronic), verbosity=0, stderr=StringIO())
    page = client.get(Drug.objects.get(slug="zoledronic-acid").get_absolute_url())
    links = [a["href"] for a in BeautifulSoup(page.content, "html.parser").select("div.body a")]
    assert links == [
        f"/{prefix}/alendronate",
        f"/{prefix}/alendronate#dose",
        "/treatment/other/surgery/reconstruction?print=1",
        "#top",
        "https://example.org/x",
    ]
    assert client.get(urljoin(page.wsgi_request.path, links[0])).url == "/drugs/alendronic-acid/"


def test_an_faq_answer_written_with_line_breaks_keeps_its_list(client, write_source):
    """A literal block (or a quoted string with \\n) keeps the answer's lines: a list in it is a list on
    the page, not “Common side effects: - nausea - headache” run into one line."""
    source = write_source(
        "faq.txt",
        "---\ntitle: Listamab\nfaqs:\n  - q: What are the side effects?\n    a: |-\n"
        "      Common side effects:\n      - nausea\n        that passes\n      - headache\n\n"
        "      See a doctor if they last.\n---\n## Usage\n\nListamab is used in tests.\n",
    )
    call_command("import_sources", str(source), verbosity=0)
    answer = _page(client, "listamab").select_one("details .answer")
    assert answer is not None
    assert [_words(li.get_text()) for li in answer.select("li")] == ["nausea that passes", "headache"]
    assert "See a doctor if they last." in answer.get_text()


def test_a_wrapped_answer_line_that_starts_with_a_number_is_not_a_list(client, write_source):
    """As in the body (CommonMark): only a bullet or `1.` starts a list under a paragraph's line; a line
    of wrapped text that starts with a year ("2010. It…") is more of the paragraph, not a list item that
    would lose its number."""
    source = write_source(
        "faq.txt",
        "---\ntitle: Listamab\nfaqs:\n  - q: When was it approved?\n    a: |-\n"
        "      It was first approved in the year\n      2010. It is given every six months.\n"
        "  - q: How is it taken?\n    a: |-\n      In three steps:\n      1. wash\n      2. inject\n"
        "---\n## Usage\n\nListamab is used in tests.\n",
    )
    call_command("import_sources", str(source), verbosity=0)
    first, second = _page(client, "listamab").select("details .answer")
    assert first.select("li") == [] and "in the year 2010. It is given" in _words(first.get_text())
    assert [_words(li.get_text()) for li in second.select("li")] == ["wash", "inject"]


def test_an_abbreviations_expansion_stays_with_it(client, write_source):
    """`<abbr title>` lost its expansion in the conversion to Markdown: it becomes the document's
    abbreviation, and every use of the text on the page carries it."""
    source = write_source(
        "abbr.txt",
        "---\ntitle: Abbrmab\nuri: treatment/other/medication/abbrmab\n---\n"
        '<p>Its <abbr title="International Nonproprietary Name">INN</abbr> is Abbrmab; each INN is unique.</p>\n',
    )
    body = _imported_body(client, source, "abbrmab")
    assert [(a.get_text(), a["title"]) for a in body.select("abbr")] == [
        ("INN", "International Nonproprietary Name"),
        ("INN", "International Nonproprietary Name"),
    ]
    assert _words(body.get_text()) == "Its INN is Abbrmab; each INN is unique."
