"""`manage.py import_sources`: both formats, re-imports, and bad input that must change nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from monographs.management.commands import import_sources as import_sources_command
from monographs.models import (
    Alias,
    BrandName,
    Comparison,
    ContentGeneration,
    Drug,
    LegacyPath,
    Monograph,
    Revision,
    SearchEntry,
)

from .conftest import EXAMPLES, SEED_A, SEED_B, SOURCES, row_counts

pytestmark = pytest.mark.django_db

VALID_B = "---\ntitle: Testamab\ndescription: A test drug.\n---\n## **Usage**\n\nTestamab is used in tests.\n"


def test_it_imports_both_seeds_as_two_monographs_of_one_drug():
    call_command("import_sources", str(SOURCES), verbosity=0)
    drug = Drug.objects.get()
    assert drug.name == "Denosumab"
    assert drug.is_banned is False
    assert Alias.objects.get().name == "Denusomab"
    assert Alias.objects.get().kind == Alias.Kind.MISSPELLING
    assert sorted(b.name for b in drug.brands.all()) == ["Prolia®", "Xgeva®"]
    assert drug.brands.get(slug="prolia").notes == "60 mg dose for osteoporosis"
    assert sorted(c.name for c in drug.classes.all()) == ["Antiresorptive agents", "RANK ligand (RANKL) inhibitor"]
    reference, patient = Monograph.objects.order_by("-is_primary")
    assert (reference.kind, reference.is_primary) == ("reference", True)
    assert (patient.kind, patient.is_primary) == ("patient", False)
    assert LegacyPath.objects.get().monograph == patient


def test_imported_revisions_are_live_with_credits_dates_and_provenance():
    call_command("import_sources", str(SEED_A), verbosity=0)
    revision = Revision.objects.get()
    assert revision.status == Revision.Status.PUBLISHED
    assert revision.title == "Denusomab"  # the source text as it was
    assert [a.name for a in revision.authors] == ["Angelika Sebald"]
    assert [a.name for a in revision.proof_readers] == ["David A. Mitchell"]
    assert revision.created_at.isoformat() == "2018-05-21T15:59:00+00:00"
    assert revision.updated_at.isoformat() == "2018-11-11T15:13:15+00:00"
    assert revision.reviewed_at == revision.published_at == revision.updated_at
    assert revision.source_file == SEED_A.name
    assert revision.source_id == "treatment-other-medication-miscellaneous-denusomab"
    assert revision.source_meta["type"] == "page"
    assert len(revision.source_sha256) == 64
    event = revision.events.get()
    assert (event.from_status, event.to_status, event.actor) == ("", "published", None)


def test_a_table_becomes_a_comparison_with_an_embed_marker():
    call_command("import_sources", str(SEED_A), verbosity=0)
    comparison = Comparison.objects.get()
    assert comparison.caption == "Table 1 Comparison of denusomab and bisphosphonates"
    assert [s.label for s in comparison.subjects.all()] == ["Bisphosphonates*", "Denusomab"]
    assert comparison.subjects.get(position=2).drug.name == "Denusomab"
    assert [a.label for a in comparison.attributes.all()][0] == "Category"
    assert comparison.attributes.count() == 7
    assert comparison.footnotes.startswith("\\* the range of bisphosphonates")
    assert f"[[comparison:{comparison.slug}]]" in comparison.revision.body
    assert "<table" not in comparison.revision.body


def test_format_b_faqs_replace_the_body_faq_section():
    call_command("import_sources", str(SEED_B), verbosity=0)
    revision = Revision.objects.get()
    assert revision.faqs.count() == 10
    assert "FAQs" not in revision.body and "Q1:" not in revision.body
    assert revision.faqs.get(position=1).question == "What is the recommended dosage for Denosumab?"
    assert revision.faqs.get(position=1).answer.startswith("Prolia (osteoporosis): 60mg SC")
    assert revision.summary.startswith("Denosumab is prescribed for the treatment of osteoporosis")
    assert "## Usage" in revision.body and "**Usage**" not in revision.body
    assert "速" not in revision.body and "Prolia®" in revision.body
    assert revision.source_meta["lastModified"] == "2025-09-22T17:21:52.882Z"


def test_reimporting_the_same_documents_changes_nothing():
    call_command("import_sources", str(SOURCES), verbosity=0)
    before = row_counts()
    call_command("import_sources", str(SOURCES), verbosity=0)
    assert row_counts() == before


def test_reimporting_a_changed_document_supersedes_the_old_revision(write_source):
    path = write_source("doc.txt", VALID_B)
    call_command("import_sources", str(path), verbosity=0)
    path.write_text(VALID_B.replace("used in tests", "used in many tests"))
    call_command("import_sources", str(path), verbosity=0)
    old, new = Revision.objects.order_by("number")
    assert (old.status, new.status) == ("superseded", "published")
    assert "many tests" in new.body and "many tests" not in old.body
    assert Monograph.objects.count() == 1


def test_a_reference_document_renames_a_drug_known_only_by_a_misspelling():
    call_command("import_sources", str(SEED_A), verbosity=0)
    assert Drug.objects.get().name == "Denusomab"
    call_command("import_sources", str(SEED_B), verbosity=0)
    drug = Drug.objects.get()
    assert (drug.name, drug.slug) == ("Denosumab", "denosumab")
    assert Alias.objects.get().name == "Denusomab"
    assert Monograph.objects.count() == 2


def test_it_imports_varied_documents_of_both_formats():
    call_command("import_sources", str(EXAMPLES), verbosity=0)
    alendronic = Drug.objects.get(slug="alendronic-acid")
    assert alendronic.monographs.count() == 2
    assert alendronic.monographs.get(is_primary=True).kind == "reference"
    assert [c.name for c in alendronic.classes.all()] == ["Bisphosphonate"]  # plural and singular are one class
    assert sorted(b.name for b in alendronic.brands.all()) == ["Binosto", "Fosamax"]
    patient = alendronic.monographs.get(kind="patient").revisions.get()
    assert [a.name for a in patient.authors] == ["Jane Doe", "John Smith", "Ann Lee"]
    assert [a.name for a in patient.proof_readers] == ["Bob Brown", "Carol White"]
    assert patient.source_meta["tags"] == ["bisphosphonate", "osteoporosis"]  # unknown keys kept
    assert patient.comparisons.count() == 2
    assert "![A white oval tablet](/media/alendronate-tablet.png" in patient.body
    assert "<sup>2+</sup>" in patient.body and "<sub>3</sub>" in patient.body
    assert '!!! note ""' in patient.body
    zoledronic = Drug.objects.get(slug="zoledronic-acid").monographs.get().revisions.get()  # CRLF file
    assert [a.name for a in zoledronic.authors] == ["Dr. Mary-Jane O'Neil"]
    assert [a.name for a in zoledronic.proof_readers] == ["Peter Parker"]
    rofecoxib = Drug.objects.get(slug="rofecoxib")
    assert rofecoxib.is_banned is True
    assert rofecoxib.brands.get().name == "Vioxx®"
    assert "doesn’t appear" in rofecoxib.monographs.get().revisions.get().body


def test_links_between_imported_pages_resolve(client):
    call_command("import_sources", str(EXAMPLES), verbosity=0)
    response = client.get("/treatment/other/medication/miscellaneous/zoledronic-acid")
    assert response.status_code == 301
    assert client.get(response["Location"]).status_code == 200


BAD_DOCUMENTS = {
    "invalid YAML": (
        "---\ntitle: [unclosed\n---\n<p>x</p>\n",
        "invalid YAML front matter at line 3, column 1: expected ',' or ']'",
    ),
    "no front matter": ("<p>Just HTML</p>\n", "no YAML front matter"),
    "unclosed front matter": ("---\ntitle: X\n<p>x</p>\n", "front matter is not closed"),
    "missing title": ("---\nuri: a/b\n---\n<p>x</p>\n", "front matter has no `title`"),
    "title of the wrong type": ("---\ntitle: [1, 2]\n---\n<p>x</p>\n", "`title` must be text"),
    "undecodable bytes": (b"---\ntitle: Caf\xe9\n---\n<p>x</p>\n", "not UTF-8 text: undecodable byte 0xe9"),
    "empty body": ("---\ntitle: Nothing\nuri: a/b\n---\n\n  \n", "the body after the front matter is empty"),
    "neither format": ("---\ntitle: Plain\n---\nJust some words.\n", "a document of neither known format"),
    "front matter not a mapping": ("---\n- a\n- b\n---\n<p>x</p>\n", "front matter must be a mapping"),
    "binary junk": (b"---\ntitle: X\n---\n\x00\x01\x02", "binary data"),
    "truncated YAML": ('---\ntitle: "Denosu', "front matter is not closed"),
    "truncated YAML value": ('---\ntitle: "Denosu\n---\n<p>x</p>\n', "invalid YAML front matter"),
    "title too long": ("---\ntitle: " + "x" * 400 + "\n---\n<p>x</p>\n", "`title` is 400 characters long"),
}


# Documents that once were refused for their shape: they import, and what the importer changed or could
# not keep is a warning (printed, and kept in the revision's provenance).
WARNED_DOCUMENTS = {
    "bad date": ("---\ntitle: X\nupdated_at: yesterday\n---\n<p>x</p>\n", "front matter `updated_at`: not a date"),
    "bad is_banned": (
        "---\ntitle: X\nis_banned: perhaps\n---\n## A\n\ntext\n",
        "front matter `is_banned`: must be true or false, not 'perhaps'; ignored",
    ),
    "bad faqs": ("---\ntitle: X\nfaqs: nope\n---\n## A\n\ntext\n", "front matter `faqs`: must be a list"),
    "table without header": (
        "---\ntitle: X\n---\n<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>\n",
        "table 1: kept as a table in the body, not a comparison: it has no header row",
    ),
    "ragged table": (
        "---\ntitle: X\n---\n<table><tr><th></th><th>A</th></tr><tr><td>r</td></tr></table>\n",
        "table 1, row 2: fewer cells than columns; padded with empty cells",
    ),
    "uri of the wrong type": ("---\ntitle: X\nuri: [a, b]\n---\n<p>x</p>\n", "front matter `uri`: must be text"),
    "authorship of the wrong type": (
        "---\ntitle: X\nauthorship: 5\n---\n<p>x</p>\n",
        "front matter `authorship`: must be text",
    ),
    "faq without an answer": (
        "---\ntitle: X\nfaqs:\n  - q: Why?\n---\n## A\n\ntext\n",
        "FAQ 1: (“Why?”) has no answer",
    ),
    "nested table": (
        "---\ntitle: X\n---\n<table><tr><th></th><th>A</th></tr><tr><td>r</td><td><table><tr><th>x</th></tr>"
        "</table></td></tr></table>\n",
        "table 1: kept as a table in the body, not a comparison: it contains another table",
    ),
}


@pytest.mark.parametrize("case", sorted(WARNED_DOCUMENTS))
def test_a_document_of_an_odd_shape_imports_with_a_warning(case, write_source, capsys):
    content, warning = WARNED_DOCUMENTS[case]
    odd = write_source("odd.txt", content)
    call_command("import_sources", str(odd))
    assert f"warning: {odd}: {warning}" in capsys.readouterr().err
    revision = Revision.objects.get(source_file="odd.txt")
    assert any(message.startswith(warning) for message in revision.source_meta["_import_warnings"])


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_bad_input_names_the_file_and_reason_and_writes_nothing(case, write_source):
    call_command("import_sources", str(SOURCES), verbosity=0)
    before = row_counts()
    content, reason = BAD_DOCUMENTS[case]
    good = write_source("good.txt", VALID_B)
    bad = write_source("bad.txt", content)
    with pytest.raises(CommandError) as excinfo:
        call_command("import_sources", str(good), str(bad), verbosity=0)
    message = str(excinfo.value)
    assert str(bad) in message
    assert reason in message
    assert "nothing was written" in message
    assert row_counts() == before


def test_an_oversized_document_is_refused(write_source):
    bad = write_source("huge.txt", "---\ntitle: Huge\n---\n<p>" + "x" * (10 * 1024 * 1024) + "</p>\n")
    refusal = r"huge.txt: file is 1,048,577\+ bytes; the limit is 1,048,576 bytes \(1 MB\)"
    with pytest.raises(CommandError, match=refusal):
        call_command("import_sources", str(bad), verbosity=0)


def test_duplicate_source_ids_in_one_batch_are_refused(write_source):
    first = write_source("one.txt", VALID_B)
    second = write_source("two.txt", VALID_B)
    with pytest.raises(CommandError, match="duplicate source id 'B:testamab'"):
        call_command("import_sources", str(first), str(second), verbosity=0)
    assert Drug.objects.count() == 0


def test_a_failure_while_writing_rolls_back_the_whole_batch(write_source):
    call_command("import_sources", str(SEED_B), verbosity=0)
    before = row_counts()
    good = write_source("a.txt", VALID_B)
    clash = write_source(
        "b.txt", "---\ntitle: Otherumab\ndescription: x\n---\n## Alternate Names\n\nSold as **Prolia** (x).\n"
    )
    with pytest.raises(CommandError, match="brand name “Prolia” is already recorded for Denosumab"):
        call_command("import_sources", str(good), str(clash), verbosity=0)
    assert row_counts() == before


def test_skip_invalid_imports_the_rest_and_lists_each_skipped_file(write_source, capsys):
    good = write_source("good.txt", VALID_B)
    bad = write_source("bad.txt", "no front matter\n")
    call_command("import_sources", str(good), str(bad), "--skip-invalid")
    captured = capsys.readouterr()
    assert f"skipped: {bad}: no YAML front matter" in captured.err
    assert "1 created, 0 updated, 0 unchanged, 1 skipped" in captured.out
    assert Drug.objects.get().name == "Testamab"


def test_reimport_never_overwrites_editorial_work(write_source):
    path = write_source("doc.txt", VALID_B)
    call_command("import_sources", str(path), verbosity=0)
    Revision.objects.update(source_sha256="")  # as if an editor had published their own revision
    path.write_text(VALID_B + "\nMore.\n")
    with pytest.raises(CommandError, match="re-importing would replace editorial work"):
        call_command("import_sources", str(path), verbosity=0)


def test_brand_names_are_not_duplicated_across_imports():
    call_command("import_sources", str(SEED_B), verbosity=0)
    call_command("import_sources", str(SEED_B), verbosity=0)
    assert BrandName.objects.count() == 2


def test_a_misspelling_is_found_among_many_drugs_of_the_same_letter(write_source):
    """The near-miss search is narrowed in SQL (first letter, length); the rule itself decides."""
    Drug.objects.bulk_create(
        Drug(name=name, slug=name.lower())
        for name in ["Denosumab", "Dexamethasone", "Denosu", "Denosumabumab", "Dalteparin", "Desmopressin"]
    )
    path = write_source("a.txt", "---\ntitle: Denosmuab\nuri: a/denosmuab\n---\n<p>A page.</p>\n")
    call_command("import_sources", str(path), verbosity=0)
    assert Alias.objects.get().drug.name == "Denosumab"
    assert Drug.objects.count() == 6


def test_a_title_one_slip_from_two_drugs_is_refused(write_source):
    Drug.objects.bulk_create(Drug(name=name, slug=name.lower()) for name in ["Fenoterol", "Fenoterox"])
    path = write_source("a.txt", "---\ntitle: Fenoteroz\nuri: a/fenoteroz\n---\n<p>A page.</p>\n")
    with pytest.raises(CommandError, match="one letter away from several drugs \\(Fenoterol, Fenoterox\\)"):
        call_command("import_sources", str(path), verbosity=0)


class Terminal(StringIO):
    def isatty(self):
        return True


def import_batch(*args, stdout, stderr, **options):
    call_command("import_sources", *args, stdout=stdout, stderr=stderr, **options)
    return stdout.getvalue(), stderr.getvalue()


def test_a_large_batch_shows_progress_on_a_terminal_only(write_source, monkeypatch):
    monkeypatch.setattr(import_sources_command, "PROGRESS_FROM", 3)  # "large": 3 documents and more
    for name in ("Alphamab", "Betamab", "Gammamab"):
        folder = str(write_source(f"{name}.txt", VALID_B.replace("Testamab", name)).parent)
    out, err = import_batch(folder, stdout=Terminal(), stderr=Terminal())
    # Reference documents are written as they are read; the others, once all are read, under "importing".
    assert "\rreading:   0%|" in err and "| 0/3 [" in err
    assert "3 created" in out and "\r" not in out  # the report is never mixed with the bar
    for stdout, stderr in ((StringIO(), Terminal()), (Terminal(), StringIO())):
        out, err = import_batch(folder, stdout=stdout, stderr=stderr)
        assert "%" not in err and "3 unchanged" in out  # output to a file or a pipe: no bar
    out, err = import_batch(folder, stdout=Terminal(), stderr=Terminal(), verbosity=0)
    assert "%" not in err
    monkeypatch.setattr(import_sources_command, "PROGRESS_FROM", 4)
    out, err = import_batch(folder, stdout=Terminal(), stderr=Terminal())
    assert "%" not in err  # a small batch: no bar
    monkeypatch.setattr(import_sources_command, "PROGRESS_FROM", 3)
    leaflets = [
        write_source(
            f"{name}_leaflet.txt", f"---\ntitle: {name}\nuri: treatment/other/medication/{name}\n---\n<p>A.</p>\n"
        )
        for name in ("Deltamab", "Epsilamab", "Zetamab")
    ]
    _, err = import_batch(*map(str, leaflets), stdout=Terminal(), stderr=Terminal())
    assert "\rreading:   0%|" in err and "\rimporting:   0%|" in err


def test_a_dry_run_prints_the_report_and_writes_nothing(client, write_source, tmp_path):
    call_command("import_sources", str(SOURCES), verbosity=0)
    page = client.get("/monographs/denosumab-patient-information/").content
    before = (row_counts(), SearchEntry.objects.count(), ContentGeneration.value())
    changed = SEED_A.read_text(encoding="utf-8").replace("maxillofacial context", "dry-run context")
    write_source(SEED_A.name, changed)
    write_source(SEED_B.name, SEED_B.read_bytes())
    write_source("new.txt", VALID_B)
    write_source("odd.txt", WARNED_DOCUMENTS["ragged table"][0])
    folder = write_source("bad.txt", "no front matter\n").parent

    with pytest.raises(CommandError, match="1 document\\(s\\) could not be imported: without --dry-run"):
        call_command("import_sources", str(folder), "--dry-run", stdout=(out := StringIO()), stderr=(err := StringIO()))
    lines = out.getvalue().splitlines()
    assert sorted(lines[:-1]) == sorted(
        [
            "created: new.txt",
            "created: odd.txt",
            f"updated: {SEED_A.name}",
            f"unchanged: {SEED_B.name}",
        ]
    )
    assert lines[-1] == "Dry run, nothing was written: 2 created, 1 updated, 1 unchanged, 1 error(s), 1 warning(s)"
    assert f"error: {folder / 'bad.txt'}: no YAML front matter" in err.getvalue()
    assert f"warning: {folder / 'odd.txt'}: table 1, row 2: fewer cells than columns" in err.getvalue()
    # Nothing escaped: rows and events, the search index, the content generation (so no cached page of
    # any process went stale), and the page itself.
    assert (row_counts(), SearchEntry.objects.count(), ContentGeneration.value()) == before
    assert "dry-run context" not in client.get("/monographs/denosumab-patient-information/").content.decode()
    assert client.get("/monographs/denosumab-patient-information/").content == page

    call_command("import_sources", str(folder), "--dry-run", "--skip-invalid", stdout=StringIO(), stderr=StringIO())
    assert (row_counts(), SearchEntry.objects.count(), ContentGeneration.value()) == before
    call_command("import_sources", str(folder), "--skip-invalid", stdout=(real := StringIO()), stderr=StringIO())
    assert real.getvalue().splitlines()[:-1] == lines[:-1]  # what the dry run said the import would do


def a_page_with_an_untitled_table(title: str, dose: str) -> str:
    return (
        f"---\ntitle: {title}\nuri: treatment/other/medication/{title.lower()}\n---\n<p>{title} is used in tests.</p>\n"
        f"<table><tr><th></th><th>{title}</th></tr><tr><td>Dose</td><td>{dose}</td></tr></table>\n"
    )


def test_two_documents_tables_of_one_slug_get_addresses_of_their_own(client, write_source):
    """/compare/<slug>/ shows one table: two pages whose tables both come in as `table-1` (no caption)
    must not share it, or one drug's comparison link would show the other drug's table.  The first
    keeps the slug; the other's is prefixed with its monograph's; a re-import changes neither."""
    write_source("a.txt", a_page_with_an_untitled_table("Alphamab", "10 mg weekly"))
    write_source("b.txt", a_page_with_an_untitled_table("Betamab", "900 mg daily"))
    folder = write_source("c.txt", VALID_B).parent
    call_command("import_sources", str(folder), verbosity=0)
    alpha, beta = (Comparison.objects.get(revision__monograph__drug__name=name) for name in ("Alphamab", "Betamab"))
    assert (alpha.slug, beta.slug) == ("table-1", "betamab-patient-information-table-1")
    assert "[[comparison:betamab-patient-information-table-1]]" in beta.revision.body
    assert "900 mg daily" in client.get("/compare/betamab-patient-information-table-1/").content.decode()
    assert "10 mg weekly" in client.get("/compare/table-1/").content.decode()
    assert "900 mg daily" in client.get(beta.revision.monograph.drug.get_absolute_url()).content.decode()
    out = StringIO()
    call_command("import_sources", str(folder), stdout=out)
    assert "0 created, 0 updated, 3 unchanged" in out.getvalue()
    (folder / "b.txt").write_text(a_page_with_an_untitled_table("Betamab", "800 mg daily"), encoding="utf-8")
    call_command("import_sources", str(folder), verbosity=0)
    live = Comparison.objects.live().get(revision__monograph__drug__name="Betamab")
    assert live.slug == "betamab-patient-information-table-1" and live.revision != beta.revision


def test_a_table_whose_caption_has_an_underscore_is_shown_in_its_page(client, write_source):
    """slugify keeps `_`, which the body's marker cannot hold (markdownify writes it `\\_`, and the embed
    pattern takes letters, digits and hyphens): the page showed “[[comparison:dose\\_a]]” instead of the table."""
    source = write_source(
        "a.txt",
        "---\ntitle: Alphamab\nuri: treatment/other/medication/alphamab\n---\n<p>Alphamab is used in tests.</p>\n"
        "<table><caption>Dose_A</caption><tr><th></th><th>Alphamab</th></tr><tr><td>Dose</td><td>10 mg weekly</td>"
        "</tr></table>\n",
    )
    call_command("import_sources", str(source), verbosity=0)
    table = Comparison.objects.get()
    assert f"[[comparison:{table.slug}]]" in table.revision.body
    page = client.get("/drugs/alphamab/").content.decode()
    assert "[[comparison" not in page and "10 mg weekly" in page
