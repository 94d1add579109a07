"""Failure and concurrency: nothing silently lost, nothing half-written, backups restore exactly."""

import json
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from monographs.models import Monograph, Revision, WorkflowEvent
from monographs.workflow import EditConflict, WorkflowError

from .conftest import ROOT, make_user, row_counts
from .test_workflow import publish_new_dose, to_approved

S = Revision.Status
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises every writer, so there is no interleaving to test (CI runs both)",
)


def run_threads(count, target):
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as exc:  # noqa: BLE001 - each outcome is inspected by the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_of_one_draft_never_overwrite_silently(seeded):
    alice = make_user("alice", "Authors")
    draft = Monograph.objects.get(slug="denosumab").start_draft(alice)
    rounds, editors = 25, 4  # 100 interleaved saves
    for round_number in range(rounds):
        version = Revision.objects.get(pk=draft.pk).version

        def save(index, version=version, round_number=round_number):
            mine = Revision.objects.get(pk=draft.pk)
            mine.summary = f"round {round_number} editor {index}"
            mine.save_draft(alice, version)
            return mine.summary

        results = run_threads(editors, save)
        winners = [r for r in results if isinstance(r, str)]
        losers = [r for r in results if isinstance(r, EditConflict)]
        assert len(winners) == 1 and len(losers) == editors - 1, results
        stored = Revision.objects.get(pk=draft.pk)
        assert stored.summary == winners[0] and stored.version == version + 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_publishing_leaves_exactly_one_live_revision(seeded):
    alice, bob = make_user("alice", "Authors"), make_user("bob", "Proof-readers")
    publishers = [make_user(f"pub{i}", "Publishers") for i in range(4)]
    monograph = Monograph.objects.get(slug="denosumab")
    draft = to_approved(monograph.start_draft(alice), alice, bob)

    results = run_threads(4, lambda i: Revision.objects.get(pk=draft.pk).publish(publishers[i]))
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, WorkflowError) for r in results if r is not None)
    assert Revision.objects.live().filter(monograph=monograph).count() == 1
    assert WorkflowEvent.objects.filter(revision=draft, to_status=S.PUBLISHED).count() == 1
    assert WorkflowEvent.objects.filter(revision__monograph=monograph, to_status=S.SUPERSEDED).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_record_one_approval(seeded):
    alice = make_user("alice", "Authors")
    readers = [make_user(f"reader{i}", "Proof-readers") for i in range(4)]
    draft = Monograph.objects.get(slug="denosumab").start_draft(alice)
    draft.body += "\nEdited."
    draft.save_draft(alice, draft.version)
    draft.submit(alice, "note")
    results = run_threads(4, lambda i: Revision.objects.get(pk=draft.pk).approve(readers[i]))
    assert sum(r is None for r in results) == 1
    assert WorkflowEvent.objects.filter(revision=draft, to_status=S.APPROVED).count() == 1
    assert len(Revision.objects.get(pk=draft.pk).proof_readers) == 1


@pytest.mark.django_db
def test_a_corrupted_fixture_changes_nothing(seeded, tmp_path):
    before = row_counts()
    dumped = StringIO()
    call_command("dumpdata", "monographs", natural_foreign=True, natural_primary=True, stdout=dumped)
    data = json.loads(dumped.getvalue())
    for record in data:
        if record["model"] == "monographs.revision":
            record["fields"]["title"] = "Changed by the corrupt fixture"
    data[-1]["fields"]["revision"] = ["no-such-monograph", 1]  # a dangling natural key at the end
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(json.dumps(data))
    with pytest.raises((CommandError, Exception)):
        call_command("loaddata", str(corrupt), verbosity=0)
    assert row_counts() == before
    assert not Revision.objects.filter(title="Changed by the corrupt fixture").exists()


@pytest.mark.django_db
def test_a_truncated_fixture_changes_nothing(seeded, tmp_path):
    before = row_counts()
    truncated = tmp_path / "truncated.json"
    truncated.write_text((ROOT / "fixtures" / "seed.json").read_text(encoding="utf-8")[:5000])
    with pytest.raises(Exception, match="(?i)json|fixture"):
        call_command("loaddata", str(truncated), verbosity=0)
    assert row_counts() == before


BACKUP_EXCLUDE = ["contenttypes", "auth.permission", "sessions", "admin.logentry"]


@pytest.mark.django_db
def test_backup_and_restore_reproduce_every_page_revision_and_event(client, seeded, tmp_path):
    publish_new_dose()
    pages = [
        "/",
        "/drugs/",
        "/drugs/denosumab/",
        "/monographs/denosumab-patient-information/",
        "/compare/comparison-of-denusomab-and-bisphosphonates/",
        "/classes/antiresorptive-agents/",
    ]
    before_pages = {url: client.get(url).content for url in pages}
    before_rows = row_counts()
    events = sorted(
        WorkflowEvent.objects.values_list(
            "revision__monograph__slug", "revision__number", "sequence", "actor__username", "to_status", "comment"
        )
    )
    backup = tmp_path / "backup.json"
    call_command(
        "dumpdata", natural_foreign=True, natural_primary=True, exclude=BACKUP_EXCLUDE, output=str(backup), verbosity=0
    )

    # An empty database: every row of content and every account gone.
    from django.contrib.auth.models import Group, User

    from .conftest import CONTENT_MODELS

    Revision.objects.all().delete()  # protected references first: revisions, then monographs
    Monograph.objects.all().delete()
    for model in CONTENT_MODELS:
        model.objects.all().delete()
    User.objects.all().delete()
    Group.objects.all().delete()
    assert sum(row_counts().values()) == 0

    call_command("loaddata", str(backup), verbosity=0)
    assert row_counts() == before_rows
    assert (
        sorted(
            WorkflowEvent.objects.values_list(
                "revision__monograph__slug", "revision__number", "sequence", "actor__username", "to_status", "comment"
            )
        )
        == events
    )
    for url, content in before_pages.items():
        after = client.get(url).content
        assert after == content, (url, content[max(0, 1000) : 1300], after[1000:1300])


DOWN_CACHE = {"default": {"BACKEND": "tests.broken_cache.DownCache"}}


@pytest.mark.django_db
def test_a_cache_outage_degrades_to_uncached_pages(client, seeded, settings):
    expected = {
        url: client.get(url).content for url in ("/drugs/denosumab/", "/monographs/denosumab-patient-information/")
    }
    settings.CACHES = DOWN_CACHE  # Django's setting_changed handler swaps the cache backend
    for url, content in expected.items():
        response = client.get(url)
        assert response.status_code == 200
        assert response.content == content
    assert client.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 200
