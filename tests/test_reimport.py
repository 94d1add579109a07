"""A re-import made by another process is seen by a running server at once, and the feed and sitemap show it.

The server here is the test's `client` with the default local-memory cache.  The other process — an
`import_sources` run from a shell or cron — is the same command run with a local-memory cache of its own
(`another_process`): whatever it writes to its cache never reaches the server's, as between two processes,
so the server can only learn of the change through the database.  `test_a_server_process_sees_…` does the
same with a real server process and a real second process, on a SQLite file.
"""

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from monographs import workflow
from monographs.importers.known import Known
from monographs.models import (
    Alias,
    BrandName,
    ContentGeneration,
    Drug,
    DrugClass,
    Monograph,
    Revision,
    SearchEntry,
    now,
)
from monographs.signals import announce

from .conftest import ROOT, SEED_A, SEED_B, make_user
from .test_workflow import publish_new_dose, to_approved

pytestmark = pytest.mark.django_db

PATIENT_PAGE = "/monographs/denosumab-patient-information/"
DRUG_PAGE = "/drugs/denosumab/"
OLD_SENTENCE = "Denusomab is relevant in a maxillofacial context"
NEW_SENTENCE = "Denusomab was re-imported with this sentence"
AUTHOR_PROOF_READER_PUBLISHER = (("alice", "Authors"), ("bob", "Proof-readers"), ("carol", "Publishers"))


@contextmanager
def another_process():
    """Code in the block uses a local-memory cache of its own, as another process would."""
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "elsewhere"}}
    ):
        yield


def changed_seed_a(tmp_path):
    """Seed A with one sentence changed and its source date (`updated_at`) left as it was."""
    path = tmp_path / SEED_A.name
    text = SEED_A.read_text(encoding="utf-8")
    assert OLD_SENTENCE in text
    path.write_text(text.replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    return path


def seed_b_with_a_new_brand(tmp_path):
    path = tmp_path / SEED_B.name
    text = SEED_B.read_text(encoding="utf-8")
    old = "and **Xgeva速** (120 mg dose for cancer treatment)."
    assert old in text
    path.write_text(text.replace(old, ", **Xgeva速** (120 mg dose for cancer treatment) and **Testeva** (a test)."))
    return path


def test_a_reimport_by_another_process_is_on_the_page_at_once(client, seeded, tmp_path):
    page = client.get(PATIENT_PAGE)
    assert OLD_SENTENCE in page.content.decode()
    assert client.get(PATIENT_PAGE).content == page.content  # served from the server's cache
    with another_process():
        call_command("import_sources", str(changed_seed_a(tmp_path)), verbosity=0)
    text = client.get(PATIENT_PAGE).content.decode()
    assert NEW_SENTENCE in text and OLD_SENTENCE not in text
    # A browser that revalidates with the old page's date gets the new page, not a 304.
    again = client.get(PATIENT_PAGE, HTTP_IF_MODIFIED_SINCE=page["Last-Modified"])
    assert again.status_code == 200 and NEW_SENTENCE in again.content.decode()


def test_a_drug_change_imported_by_another_process_reaches_pages_whose_revision_did_not_change(
    client, seeded, tmp_path
):
    """The brand list of the patient page comes from the drug, which a reference document's import changes:
    only the content generation, moved on in the import's transaction, can tell the server."""
    assert "Testeva" not in client.get(PATIENT_PAGE).content.decode()
    live = Revision.objects.live().get(monograph__slug="denosumab-patient-information")
    with another_process():
        call_command("import_sources", str(seed_b_with_a_new_brand(tmp_path)), verbosity=0)
    assert Revision.objects.live().get(monograph__slug="denosumab-patient-information") == live
    assert "<li>Testeva</li>" in client.get(PATIENT_PAGE).content.decode()


def test_a_publish_by_cron_in_another_process_is_on_the_page_at_once(client, seeded):
    """`publish_scheduled` from cron publishes the drug reference; the patient page lists it by its title."""
    alice, bob, carol = (make_user(name, group) for name, group in AUTHOR_PROOF_READER_PUBLISHER)
    draft = Monograph.objects.get(slug="denosumab").start_draft(alice)
    draft.title = "Denosumab, as scheduled"
    to_approved(draft, alice, bob)
    draft.schedule(carol, timezone.now() + dt.timedelta(hours=1))
    assert "Denosumab, as scheduled" not in client.get(PATIENT_PAGE).content.decode()
    Revision.objects.filter(pk=draft.pk).update(publish_at=timezone.now())  # the hour has passed
    with another_process():
        call_command("publish_scheduled", stdout=StringIO())
    assert "Denosumab, as scheduled" in client.get(PATIENT_PAGE).content.decode()


def test_the_page_stamp_names_the_live_revision_whatever_its_dates(seeded, tmp_path):
    """A re-import that kept every date of the old revision still changes the stamp of the cached page."""
    before = Revision.objects.live_stamp(monograph_slug="denosumab-patient-information")
    call_command("import_sources", str(changed_seed_a(tmp_path)), verbosity=0)
    new = Revision.objects.live().get(monograph__slug="denosumab-patient-information")
    Revision.objects.filter(pk=new.pk).update(published_at=before.published_at)
    after = Revision.objects.live_stamp(monograph_slug="denosumab-patient-information")
    assert after.revision_id == new.pk != before.revision_id


def test_a_superseding_import_goes_live_now_and_keeps_the_source_date(client, seeded, tmp_path):
    old = Revision.objects.live().get(monograph__slug="denosumab-patient-information")
    started = now()
    call_command("import_sources", str(changed_seed_a(tmp_path)), verbosity=0)
    new = Revision.objects.live().get(monograph__slug="denosumab-patient-information")
    assert new.published_at >= started > old.published_at
    assert new.updated_at == old.updated_at == dt.datetime(2018, 11, 11, 15, 13, 15, tzinfo=dt.UTC)  # at source
    assert new.events.get().at == new.published_at
    old.refresh_from_db()
    assert old.status == Revision.Status.SUPERSEDED and old.events.last().at == new.published_at

    text = client.get(PATIENT_PAGE).content.decode()
    assert 'Updated at source on <time datetime="2018-11-11">11 November 2018</time>.' in text
    assert parsedate_to_datetime(client.get(PATIENT_PAGE)["Last-Modified"]) == new.published_at

    atom = "{http://www.w3.org/2005/Atom}"
    entries = ET.fromstring(client.get("/feeds/updates/").content).findall(f"{atom}entry")
    assert entries[0].findtext(f"{atom}title") == "Denusomab — Patient information, revision 2"
    assert entries[0].findtext(f"{atom}updated") == new.published_at.isoformat()

    sitemap = client.get("/sitemap.xml").content.decode()
    assert (
        f"<loc>http://testserver{PATIENT_PAGE}</loc><lastmod>{new.published_at.date().isoformat()}</lastmod>"
        in sitemap.replace("\n", "").replace(" ", "")
    )


def test_a_first_import_goes_live_with_the_source_date(db):
    """So that building the fixture from the same sources gives the same bytes every time."""
    call_command("import_sources", str(SEED_A), verbosity=0)
    assert Revision.objects.get().published_at == dt.datetime(2018, 11, 11, 15, 13, 15, tzinfo=dt.UTC)


# A real server process and a real second process ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(database) -> dict:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.pop("REDIS_URL", None)  # the local-memory cache: each process has its own
    return env


def manage(database, *commands: list[str]) -> None:
    """Run management commands, one after the other, in one child process (starting one costs seconds)."""
    script = "import sys, django; django.setup(); from django.core.management import call_command\n"
    script += "".join(f"call_command(*{command!r})\n" for command in commands)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=child_env(database), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the two processes share a SQLite file of their own")
def test_a_server_process_sees_a_reimport_by_another_process_at_once(tmp_path, migrated_copy):
    database = migrated_copy()
    manage(database, ["import_sources", str(SEED_A), str(SEED_B), "-v", "0"])
    port, log = free_port(), tmp_path / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "drugref.wsgi"],
        cwd=ROOT,
        env=child_env(database),
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    url = f"http://127.0.0.1:{port}{PATIENT_PAGE}"

    def get() -> str:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local server of the test's own
            return response.read().decode()

    try:
        deadline = time.monotonic() + 60  # a busy machine starts a Python process in seconds
        while True:
            try:
                first = get()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not answer:\n{log.read_text()}")
                time.sleep(0.05)
        assert OLD_SENTENCE in first and get() == first  # the page is in the server's cache now
        manage(database, ["import_sources", str(changed_seed_a(tmp_path)), "-v", "0"])
        text = get()
        assert NEW_SENTENCE in text and OLD_SENTENCE not in text
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_an_editors_changes_to_the_drug_stand_after_a_reimport_of_its_unchanged_source(client, seeded):
    """A brand removed and a class renamed in drugref (each a signed-off change) stay as the editors left
    them when the unchanged reference document comes in again: it wrote the brand back and made the old
    class name a second class before."""
    drug = Drug.objects.get(slug="denosumab")
    BrandName.objects.filter(drug=drug, name__startswith="Prolia").delete()
    drug_class = drug.classes.order_by("name").first()
    others = sorted(c.name for c in drug.classes.exclude(pk=drug_class.pk))
    drug_class.name = "Bone resorption inhibitors"
    drug_class.save()
    announce(drugs=[drug])  # as an approved change would
    classes = DrugClass.objects.count()
    call_command("import_sources", str(SEED_B), verbosity=0)
    assert not BrandName.objects.filter(name__startswith="Prolia").exists()
    assert sorted(c.name for c in drug.classes.all()) == sorted(["Bone resorption inhibitors", *others])
    assert DrugClass.objects.count() == classes
    assert "Prolia" not in SearchEntry.objects.get(monograph__slug="denosumab").names


def test_a_reimport_of_unchanged_sources_changes_nothing(seeded):
    """Nothing to write, nothing announced: every cached page of every server stays good."""
    generation = ContentGeneration.value()
    out = StringIO()
    call_command("import_sources", str(SEED_B), str(SEED_A), stdout=out)
    assert "0 created, 0 updated, 2 unchanged" in out.getvalue()
    assert ContentGeneration.value() == generation


def test_a_misspelt_title_found_again_by_its_alias_stays_a_misspelling(client, seeded, tmp_path):
    """Seed A's title “Denusomab” is recorded as a misspelling of Denosumab; re-imported with a change,
    the title is found by that alias, which must keep its kind: the A–Z and search must not take it for
    another name of the drug (it became a synonym on every re-import)."""
    call_command("import_sources", str(changed_seed_a(tmp_path)), verbosity=0)
    assert Alias.objects.get(slug="denusomab").kind == Alias.Kind.MISSPELLING
    assert "Denusomab" not in client.get("/drugs/").content.decode()  # the A–Z lists no misspelling
    assert SearchEntry.objects.get(monograph__slug="denosumab").misspellings == "Denusomab"


def unpublish_denosumab():
    carol = make_user("carol", "Publishers")
    live = Revision.objects.live().get(monograph__slug="denosumab")
    workflow.unpublish(live, carol, "Withdrawn from the market")
    return live


def test_a_monograph_taken_off_the_site_stays_off_when_its_unchanged_source_comes_in_again(seeded):
    """Only a publisher puts a monograph back: the nightly import of an unchanged site must not."""
    unpublish_denosumab()
    out = StringIO()
    call_command("import_sources", str(SEED_B), stdout=out)
    assert "0 created, 0 updated, 1 unchanged" in out.getvalue()
    assert not Revision.objects.live().filter(monograph__slug="denosumab").exists()


def test_a_changed_source_of_a_monograph_taken_off_the_site_is_refused(seeded, tmp_path):
    unpublished = unpublish_denosumab()
    revisions = Revision.objects.count()
    with pytest.raises(CommandError, match=r"denosumab was taken off the site in drugref \(r\d+ unpublished by carol"):
        call_command("import_sources", str(seed_b_with_a_new_brand(tmp_path)), verbosity=0)
    assert Revision.objects.count() == revisions
    assert not Revision.objects.live().filter(monograph__slug="denosumab").exists()
    unpublished.refresh_from_db()
    assert unpublished.status == Revision.Status.UNPUBLISHED


def test_editors_own_revision_stands_when_the_unchanged_source_comes_in_again(seeded, tmp_path):
    """Once editors published their own revision of an imported monograph, the nightly import of the
    unchanged site goes on (it stopped the whole batch); a changed source is a conflict it refuses."""
    ours = publish_new_dose()
    out = StringIO()
    call_command("import_sources", str(SEED_B), str(SEED_A), stdout=out)
    assert "0 created, 0 updated, 2 unchanged" in out.getvalue()
    assert Revision.objects.live().get(monograph__slug="denosumab") == ours
    with pytest.raises(CommandError, match="re-importing would replace editorial work"):
        call_command("import_sources", str(seed_b_with_a_new_brand(tmp_path)), verbosity=0)
    assert Revision.objects.live().get(monograph__slug="denosumab") == ours


def test_a_source_whose_faqs_now_come_out_otherwise_is_re_imported(seeded):
    """An import compares the FAQs it would write too, not only the body: a fix to how answers are read
    (an answer's list kept) reaches a monograph when its unchanged file comes in again."""
    live = Revision.objects.live().get(monograph__slug="denosumab")
    faq = live.faqs.first()
    faq.answer = " ".join(faq.answer.split())  # as an importer that joined an answer's lines wrote it
    faq.answer += " (as an older importer wrote it)"
    faq.save()
    out = StringIO()
    call_command("import_sources", str(SEED_B), stdout=out)
    assert "0 created, 1 updated, 0 unchanged" in out.getvalue()
    assert "older importer" not in Revision.objects.live().get(monograph__slug="denosumab").faqs.first().answer


def test_a_new_reading_of_the_same_file_is_no_conflict_with_editors_work(seeded, tmp_path):
    """A newer importer may make another body of the same source file (here: as if the body read before
    had been otherwise).  Where editors have their own revision live, or took the monograph off the site,
    that is no change at the source: "unchanged", not a conflict that stops the nightly batch."""
    ours = publish_new_dose()
    imported = Revision.objects.filter(monograph__slug="denosumab").exclude(source_sha256="").get()
    Revision.objects.filter(pk=imported.pk).update(body=imported.body + "\nAs an older importer read it.\n")
    out = StringIO()
    call_command("import_sources", str(SEED_B), stdout=out)
    assert "0 created, 0 updated, 1 unchanged" in out.getvalue()
    assert Revision.objects.live().get(monograph__slug="denosumab") == ours


def test_a_refused_document_costs_the_batch_no_reload(seeded, tmp_path, monkeypatch):
    """Refusals are found before anything of the document is written: with --skip-invalid the batch
    goes on without reading every name of the site again (Known.reload, seconds at 20,000 monographs)."""
    unpublish_denosumab()
    reloads = []
    monkeypatch.setattr(Known, "reload", lambda self, reload=Known.reload: reloads.append(1) or reload(self))
    err = StringIO()
    call_command(
        "import_sources", str(seed_b_with_a_new_brand(tmp_path)), "--skip-invalid", stderr=err, stdout=StringIO()
    )
    assert "was taken off the site in drugref" in err.getvalue()
    assert reloads == [1]  # the batch's own start, no more
