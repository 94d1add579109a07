"""One test per cleaning rule the importer applies."""

import re

import ftfy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monographs.importers.cleaning import (
    clean_answer,
    clean_question,
    fix_text,
    is_misspelling,
    normalise_heading_text,
    normalise_headings,
    parse_authorship,
    repair_mojibake,
    split_names,
)


def test_it_repairs_utf8_read_as_euc_jp_inside_latin_text():
    assert repair_mojibake("brand names **Prolia速** (60 mg) and **Xgeva速** (120 mg)") == (
        "brand names **Prolia®** (60 mg) and **Xgeva®** (120 mg)"
    )


def test_it_repairs_utf8_read_as_gbk():
    mangled = "°C".encode().decode("gbk")  # 属C
    assert repair_mojibake(f"Store below 25 {mangled} in the original package, away from light") == (
        "Store below 25 °C in the original package, away from light"
    )


def test_it_repairs_cp1252_mojibake_with_ftfy():
    assert repair_mojibake("It doesnâ€™t dissolve in the cafÃ© water") == "It doesn’t dissolve in the café water"


def test_it_leaves_genuine_cjk_text_alone():
    text = "地舒单抗（Denosumab）是一种单克隆抗体。"
    assert repair_mojibake(text) == text


def test_it_leaves_cjk_runs_that_do_not_redecode():
    text = "The Japanese name of the drug is 速効 in this long English sentence about it."
    assert repair_mojibake(text) == text


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("## **Usage**", "## Usage"),
        ("### **Common Side Effects:**", "### Common Side Effects:"),
        ("#### __Adults:__", "#### Adults:"),
        ("## *Dosage*", "## Dosage"),
        ("## Plain heading", "## Plain heading"),
        ("## **Bold** and not", "## **Bold** and not"),
    ],
)
def test_it_normalises_bold_headings(heading, expected):
    assert normalise_headings(heading) == expected


def test_it_cuts_an_answer_that_leaked_into_the_question():
    raw = "What is the recommended dosage for Denosumab?**\n**A:** Prolia (osteoporosis): 60mg SC every 6 months."
    assert clean_question(raw) == "What is the recommended dosage for Denosumab?"


@pytest.mark.parametrize(
    "raw", ["Q1: Can it be crushed?", "**Q10: Can it be crushed?**", "**Can it be crushed?**", "Q: Can it be crushed?"]
)
def test_it_drops_question_numbers_and_debris(raw):
    assert clean_question(raw) == "Can it be crushed?"


@pytest.mark.parametrize("raw", ["A:** Swallow it whole.", "**A:** Swallow it whole.", "A: Swallow it whole.**"])
def test_it_drops_answer_leads_and_debris(raw):
    assert clean_answer(raw) == "Swallow it whole."


def test_it_keeps_real_emphasis_in_answers():
    assert clean_answer("A:** Take it **on an empty stomach**.") == "Take it **on an empty stomach**."


def test_it_joins_folded_lines_in_faqs():
    assert clean_answer("A:** Hypocalcemia should be corrected\nbefore initiating  therapy.") == (
        "Hypocalcemia should be corrected before initiating therapy."
    )


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Angelika Sebald", ["Angelika Sebald"]),
        ("A. Smith, B. Jones & C. Brown and D. Green", ["A. Smith", "B. Jones", "C. Brown", "D. Green"]),
        (" David A. Mitchell. ", ["David A. Mitchell"]),
        ("Smith J.", ["Smith J."]),
        ("  Peter Parker ;", ["Peter Parker"]),
        ("“Jane Doe”,, and ,John Smith!", ["Jane Doe", "John Smith"]),
    ],
)
def test_it_splits_credited_names(text, names):
    assert split_names(text) == names


def test_it_parses_the_seed_authorship_string():
    assert parse_authorship("Authored by Angelika Sebald;Proof-read/edited by David A. Mitchell") == {
        "author": ["Angelika Sebald"],
        "proof_reader": ["David A. Mitchell"],
    }


def test_it_parses_varied_authorship_strings():
    credits = parse_authorship("Written by Jane Doe, John Smith & Ann Lee | Reviewed by: Bob Brown and Carol White.")
    assert credits == {"author": ["Jane Doe", "John Smith", "Ann Lee"], "proof_reader": ["Bob Brown", "Carol White"]}


def test_it_credits_unlabelled_names_as_authors():
    assert parse_authorship("Jane Doe") == {"author": ["Jane Doe"], "proof_reader": []}


@pytest.mark.parametrize(
    ("candidate", "name", "expected"),
    [
        ("Denusomab", "Denosumab", True),  # two letters swapped
        ("Denosumabb", "Denosumab", True),  # extra letter
        ("Denosumb", "Denosumab", True),  # missing letter
        ("Alendronate", "Alendronata", True),  # wrong letter
        ("Cefuroxime", "Cefotaxime", False),  # distinct drugs
        ("Prednisone", "Prednisolone", False),
        ("Xanax", "Zanax", False),  # short names, different first letter
        ("Denosumab", "Denosumab", False),
    ],
)
def test_misspelling_rule(candidate, name, expected):
    assert is_misspelling(candidate, name) is expected


def _misspelling_by_edit_distance(candidate: str, name: str) -> bool:
    """The rule as first written: the reference the linear-time version must agree with."""
    from monographs.importers.cleaning import _is_letter_swap, damerau_distance

    a, b = candidate.strip().lower(), name.strip().lower()
    if a == b or min(len(a), len(b)) < 6 or a[0] != b[0]:
        return False
    return damerau_distance(a, b) == 1 or _is_letter_swap(a, b)


_NAME = st.text(alphabet="abcdeABC ", min_size=0, max_size=10)


@settings(max_examples=300, deadline=None)
@given(st.lists(_NAME, min_size=2, max_size=10))
def test_misspelling_rule_agrees_with_edit_distance(names):
    """Every ordered pair of a few random names (~30 an example): drawing each pair as an example of its
    own checked 3,000 pairs in 3 s, nearly all of it Hypothesis's cost, not the rule's."""
    for candidate in names:
        for name in names:
            assert is_misspelling(candidate, name) is _misspelling_by_edit_distance(candidate, name), (candidate, name)


@settings(max_examples=1000, deadline=None)
@given(_NAME, st.data())
def test_misspelling_rule_agrees_with_edit_distance_on_one_slip(name, data):
    """Random pairs are rarely one slip apart, so also derive near-misses from the name itself."""
    slips = [name[:i] + name[i + 1 :] for i in range(len(name))]
    slips += [name[:i] + "x" + name[i:] for i in range(len(name) + 1)]
    slips += [
        name[:i] + name[j] + name[i + 1 : j] + name[i] + name[j + 1 :]
        for i in range(len(name))
        for j in range(i + 1, len(name))
    ]
    candidate = data.draw(st.sampled_from(slips)) if slips else name
    assert is_misspelling(candidate, name) is _misspelling_by_edit_distance(candidate, name)


# Lines as source documents have them: plain ASCII, entities, tags, mojibake of cp1252 and of EUC-JP, controls.
_LINE_PIECES = st.sampled_from(
    [
        "Dose 60 mg",
        " & ",
        "&amp;",
        "&eacute;",
        "<b>",
        "caf\u00c3\u00a9",
        "doesn\u00e2\u20ac\u2122t",
        "Prolia\u901f",
        "\u00e9",
        "e\u0301",
        "\x1b[31m",
        "\x07",
        "\r",
        "\ufb01",
        "\u3042\u3044",
        "\t",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_LINE_PIECES, max_size=6).map("".join), max_size=8).map("\n".join))
def test_fix_text_is_ftfy_line_by_line(text):
    """The fast path (lines ftfy could not change are not handed to it) changes nothing ftfy would do."""
    expected = ftfy.fix_text(
        text, normalization="NFC", uncurl_quotes=False, fix_line_breaks=False, fix_character_width=False
    )
    assert fix_text(text) == expected


def unwrapped_by_regex_alone(text: str) -> str:
    """normalise_heading_text as it was, before its shortcut for texts that cannot be wrapped."""
    text = text.strip()
    while True:
        stripped = re.sub(r"^(\*\*|__)(.*)\1$", r"\2", text).strip()
        stripped = re.sub(r"^([*_])(?![*_])(.*)\1$", r"\2", stripped).strip()
        if stripped == text:
            return text
        text = stripped


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="*_ aB:\t\n#", max_size=14))
def test_heading_text_is_unwrapped_as_by_the_regular_expressions_alone(text):
    assert normalise_heading_text(text) == unwrapped_by_regex_alone(text)
