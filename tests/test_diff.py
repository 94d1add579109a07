"""The comparison of two revisions: parts matched by place, never by label; every reader-visible field."""

import pytest

from monographs import diff
from monographs.diff import Column, Row, Snapshot, Table

from . import factories

ONSET = Row("Onset of action", ("fast", "slow"))
DOSE = Row("Dose", ("60 mg", "5 mg"))
COLUMNS = (Column("Denosumab", "drug denosumab"), Column("Bisphosphonates*"))


def table(rows=(ONSET, DOSE), columns=COLUMNS, **fields) -> Table:
    return Table(**{"slug": "t", "caption": "Table 1", "footnotes": "", "columns": columns, "rows": rows, **fields})


def snap(**fields) -> Snapshot:
    base = {
        "title": "Denosumab",
        "summary": "A RANKL inhibitor.",
        "body": "## Dosage\n\n### Adults:\n\n60 mg every 6 months.\n\n## Monitoring\n\nCalcium.",
        "faqs": (("How is it given?", "By injection."),),
        "tables": (table(),),
        "authors": ("Ada Author",),
    }
    return Snapshot(**{**base, **fields})


def changed(old: Snapshot, new: Snapshot) -> dict[str, diff.Block]:
    return {block.label: block for block in diff.compare(old, new) if block.changed}


def numbers(old: Snapshot, new: Snapshot) -> list[str]:
    return [n for block in diff.compare(old, new) for n in block.numbers_changed]


def test_identical_revisions_have_no_changes():
    assert changed(snap(), snap()) == {}


def test_a_duplicated_row_label_is_an_added_row_with_its_number_flagged():
    new = snap(tables=(table(rows=(ONSET, Row("Onset of action", ("600 mg daily", "slow")), DOSE)),))
    blocks = changed(snap(), new)
    assert list(blocks) == ["Table “t” › row “Onset of action (row 2)” (added)"]
    assert numbers(snap(), new) == ["∅ → Onset of action | 600 mg daily | slow"]


def test_a_duplicated_row_inserted_before_its_namesake_is_the_added_one():
    new = snap(tables=(table(rows=(Row("Onset of action", ("600 mg daily", "slow")), ONSET, DOSE)),))
    assert list(changed(snap(), new)) == ["Table “t” › row “Onset of action (row 1)” (added)"]


def test_a_changed_cell_of_a_duplicated_row_is_reported_in_that_row():
    twice = (ONSET, Row("Onset of action", ("fast", "slow")), DOSE)
    new = snap(tables=(table(rows=(ONSET, Row("Onset of action", ("fast", "slow 2 weeks")), DOSE)),))
    blocks = changed(snap(tables=(table(rows=twice),)), new)
    assert list(blocks) == ["Table “t” › Onset of action (row 2) × Bisphosphonates*"]
    assert numbers(snap(tables=(table(rows=twice),)), new) == ["∅ → 2 weeks"]


def test_removed_and_moved_rows():
    new = snap(tables=(table(rows=(DOSE, ONSET)),))
    assert list(changed(snap(), new)) == ["Table “t” › row “Dose” (moved from 2 to 1)"]  # one of two swapped
    new = snap(tables=(table(rows=(ONSET,)),))
    blocks = changed(snap(), new)
    assert list(blocks) == ["Table “t” › row “Dose” (removed)"]
    assert numbers(snap(), new) == ["Dose | 60 mg | 5 mg → ∅"]


def test_added_moved_and_removed_columns():
    three = (*COLUMNS, Column("Romosozumab"))
    rows = (Row("Onset of action", ("fast", "slow", "fast")), Row("Dose", ("60 mg", "5 mg", "210 mg")))
    new = snap(tables=(table(columns=three, rows=rows),))
    blocks = changed(snap(), new)
    assert "Table “t” › column “Romosozumab” (added)" in blocks
    assert "Table “t” › Dose × Romosozumab" in blocks and "∅ → 210 mg" in numbers(snap(), new)
    assert not any("row" in label for label in blocks)  # an added column moves no row
    swapped = snap(
        tables=(table(columns=COLUMNS[::-1], rows=tuple(Row(r.label, r.cells[::-1]) for r in (ONSET, DOSE))),)
    )
    assert list(changed(snap(), swapped)) == ["Table “t” › column “Bisphosphonates*” (moved from 2 to 1)"]
    gone = snap(tables=(table(columns=COLUMNS[:1], rows=(Row("Onset of action", ("fast",)), Row("Dose", ("60 mg",)))),))
    blocks = changed(snap(), gone)
    assert "Table “t” › column “Bisphosphonates*” (removed)" in blocks
    assert "5 mg → ∅" in numbers(snap(), gone)


def test_a_renamed_column_or_row_is_one_change_that_says_so():
    """Fixing one spelling in a header is one block, not every cell of its column removed and added."""
    renamed = (Column("Denusomab", "drug denosumab"), COLUMNS[1])
    blocks = changed(snap(), snap(tables=(table(columns=renamed),)))
    assert list(blocks) == ["Table “t” › column “Denusomab” (renamed from “Denosumab”)"]
    rows = (Row("Onset", ONSET.cells), DOSE)
    assert list(changed(snap(), snap(tables=(table(rows=rows),)))) == [
        "Table “t” › row “Onset” (renamed from “Onset of action”)"
    ]


def test_a_subjects_link_is_compared():
    relinked = (Column("Denosumab", "drug denosumab-biosimilar"), COLUMNS[1])
    blocks = changed(snap(), snap(tables=(table(columns=relinked),)))
    assert list(blocks) == ["Table “t” › column “Denosumab”"]
    classed = (COLUMNS[0], Column("Bisphosphonates*", "class bisphosphonates"))
    assert list(changed(snap(), snap(tables=(table(columns=classed),)))) == ["Table “t” › column “Bisphosphonates*”"]


def test_a_duplicated_heading_is_an_added_section_with_its_number_flagged():
    old = snap()
    new = snap(body=old.body.replace("## Monitoring", "### Adults:\n\n120 mg every month.\n\n## Monitoring"))
    blocks = changed(old, new)
    assert list(blocks) == ["Dosage › Adults: (section 3) (added)"]
    assert numbers(old, new) == ["∅ → ### Adults:\n\n120 mg every month."]


def test_moved_and_changed_faqs():
    two = (("How is it given?", "By injection."), ("How often?", "Every 6 months."))
    assert list(changed(snap(faqs=two), snap(faqs=two[::-1]))) == ["FAQ 1 (moved from 2 to 1)"]
    blocks = changed(snap(faqs=two), snap(faqs=(two[0], ("How often?", "Every 3 months."))))
    assert list(blocks) == ["FAQ 2"] and "3 months" in blocks["FAQ 2"].html
    asked = changed(snap(faqs=two), snap(faqs=(two[0], ("How often is it given?", "Every 6 months."))))
    assert list(asked) == ["FAQ 2"]


@pytest.mark.parametrize(
    "field, value, label",
    [
        ("title", "Denosumab 60 mg", "Title"),
        ("summary", "A RANKL inhibitor given twice a year.", "Summary"),
        ("body", "## Dosage\n\n### Adults:\n\n60 mg every 3 months.\n\n## Monitoring\n\nCalcium.", "Dosage › Adults:"),
        ("faqs", (("How is it given?", "By infusion."),), "FAQ 1"),
        ("authors", ("Ada Author", "Bo Writer"), "Credited authors"),
        ("tables", (table(slug="t2"),), "Table “t2” › slug"),
        ("tables", (table(caption="Table 2"),), "Table “t” › caption"),
        ("tables", (table(footnotes="* in 2 trials"),), "Table “t” › footnotes"),
        (
            "tables",
            (table(rows=(Row("Onset", ONSET.cells), DOSE)),),
            "Table “t” › row “Onset” (renamed from “Onset of action”)",
        ),
        ("tables", (), "Table “t” (removed)"),
    ],
)
def test_every_reader_visible_field_is_compared(field, value, label):
    assert label in changed(snap(), snap(**{field: value}))


def test_the_snapshot_of_a_revision_holds_every_reader_visible_field(db):
    drug = factories.drug("Denosumab", classes=["RANKL inhibitors"])
    monograph = factories.monograph(drug, body="## Dosage\n\n60 mg", summary="S", faqs=1, author="Ada Author")
    revision = monograph.revisions.get()
    table = factories.comparison(revision, "t", [drug], attributes=("Route", "Dose"))
    table.subjects.create(position=2, label="RANKL class", drug_class=drug.classes.get())
    table.footnotes = "* in 2 trials"
    table.save()
    snapshot = diff.snapshot(revision)
    assert (snapshot.title, snapshot.summary, snapshot.body) == ("Denosumab", "S", "## Dosage\n\n60 mg")
    assert snapshot.faqs == (("Question 1?", "Answer **1**."),) and snapshot.authors == ("Ada Author",)
    assert snapshot.tables == (
        Table(
            slug="t",
            caption="Comparison t",
            footnotes="* in 2 trials",
            columns=(Column("Denosumab", "drug denosumab"), Column("RANKL class", "class rankl-inhibitors")),
            rows=(Row("Route", ("Route of Denosumab", "")), Row("Dose", ("Dose of Denosumab", ""))),
        ),
    )
