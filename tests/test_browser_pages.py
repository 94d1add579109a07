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
