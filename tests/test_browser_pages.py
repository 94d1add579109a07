"""The seed pages in a real browser, on a phone and on a desktop."""

import pytest

from .browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_the_drug_page_reads_well(page_at, live_server, seeded, width):
    page = page_at(width)
    page.goto(f"{live_server.url}/drugs/denosumab/")
    assert page.locator("h1").inner_text() == "Denosumab"
    assert page.locator("dt:text-is('Brand names') + dd li").all_inner_texts() == ["Prolia®", "Xgeva®"]
    page.locator("summary", has_text="What is the recommended dosage for Denosumab?").click()
    assert page.get_by_text("Prolia (osteoporosis): 60mg SC every 6 months.").is_visible()
    # Nothing may force a phone reader to scroll sideways (wide tables scroll inside their box).
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"drug-denosumab-{width}")


@pytest.mark.parametrize("width", [390, 1280])
def test_the_patient_page_shows_the_table_in_place(page_at, live_server, seeded, width):
    page = page_at(width)
    response = page.goto(f"{live_server.url}/treatment/other/medication/miscellaneous/denusomab")
    assert response.url.endswith("/monographs/denosumab-patient-information/")
    table = page.locator("table.comparison")
    assert table.locator("caption").inner_text() == "Table 1 Comparison of denusomab and bisphosphonates"
    assert table.locator("tbody td").count() == 14
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"monograph-denusomab-{width}")


def test_a_comparison_on_its_own_page_says_its_caption_once(page_at, live_server, seeded):
    """The heading is the caption; the table keeps its <caption> for screen readers, not shown a second time."""
    page = page_at(390)
    page.goto(f"{live_server.url}/compare/comparison-of-denusomab-and-bisphosphonates/")
    caption = "Table 1 Comparison of denusomab and bisphosphonates"
    assert page.locator("h1").inner_text() == caption
    assert page.locator("table.comparison caption").text_content() == caption
    assert page.locator("table.comparison caption").bounding_box()["height"] <= 1  # visually hidden
    screenshot(page, "comparison-390")


# How far the words in a text box (its value, or its placeholder while empty) run past the room inside it.
TEXT_BOX_OVERRUN = """box => {
    const style = getComputedStyle(box);
    const context = document.createElement("canvas").getContext("2d");
    context.font = style.font;
    const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return Math.max(0, Math.ceil(context.measureText(box.value || box.placeholder).width - room));
}"""


@pytest.mark.parametrize(
    ("path", "box"),
    [("/", "#home-search-q"), ("/search/", "#search-q"), ("/drugs/prolia-injection-pen/", "#notfound-q")],
)
def test_a_search_box_on_a_phone_shows_its_words_whole(page_at, live_server, seeded, path, box):
    """The placeholder says what may be typed, and the 404 page fills its box from the address: on a phone
    neither is cut off (the 404 page's visible label once took the box's room beside it)."""
    page = page_at(390)
    page.goto(live_server.url + path)
    assert page.locator(box).evaluate(TEXT_BOX_OVERRUN) == 0
