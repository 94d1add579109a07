"""Hostile source files: each is one clear error naming the file, the rest of the run goes on, memory stays low.

The hostile documents are imported by `manage.py import_sources` in a subprocess, on a migrated SQLite
file of the test's own, so that a document which exhausts memory or the stack costs that process, not the
test run, and so that its peak memory can be read: the child writes its own VmHWM (peak resident memory of
its address space, which starts afresh at exec) as it exits.  `ru_maxrss` would not do: Linux carries the
parent's peak across fork and exec, so a child of a big test worker would report the worker's memory.  The
address-space limit set in the child is only a safety net that keeps a regression from eating the machine.
"""

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from monographs.importers import sources
from monographs.models import Drug

from .conftest import ROOT

GOOD = "---\ntitle: Testamab\ndescription: A test drug.\n---\n## **Usage**\n\nTestamab is used in tests.\n"
SECRET = "---\ntitle: Secretumab\ndescription: Outside the directory.\n---\n## Usage\n\nNever to be read.\n"
MEMORY_LIMIT_MB = 300
SAFETY_NET_BYTES = 1536 * 1024 * 1024  # the child's address space: a regression fails, it never swaps


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for a, b in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{b}: &{b} [" + ",".join([f"*{a}"] * 9) + "]")
    return "---\ntitle: Laughs\ndescription: x\n" + "\n".join(lines) + "\n---\n## Usage\n\nHa.\n"


HOSTILE = {
    "billion laughs": ("laughs.txt", billion_laughs(), "YAML anchors and aliases are not allowed"),
    "recursive anchor": (
        "recursive.txt",
        "---\ntitle: Loop\ndescription: x\nloop: &loop [*loop]\n---\n## Usage\n\nRound.\n",
        "YAML anchors and aliases are not allowed",
    ),
    "50,000-deep HTML": (
        "deep.html.txt",
        "---\ntitle: Deep\nuri: a/deep\n---\n" + "<div>" * 50_000 + "x\n",  # left open: the body limit holds
        f"HTML elements are nested more than {sources.MAX_HTML_DEPTH} deep",
    ),
    "deep Markdown": (
        "deep.md.txt",
        "---\ntitle: Deep\ndescription: x\n---\n## Usage\n\n" + "> " * 5_000 + "x\n",
        f"Markdown quotes and lists are nested more than {sources.MAX_MARKDOWN_DEPTH} deep",
    ),
}


@pytest.fixture(scope="module")
def migrated(migrated_sqlite):
    """A migrated SQLite file (conftest's, made once per run), copied by each test."""
    return migrated_sqlite


@pytest.fixture
def database(migrated_copy):
    return migrated_copy()


# Run manage.py in this interpreter and, at exit (a CommandError's too), write this process's VmHWM in kB.
PEAK_REPORTER = """
import atexit, runpy, sys

def report(path=sys.argv[1]):
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(path, "w") as out:
        out.write(peak)

atexit.register(report)
sys.argv = sys.argv[2:]
runpy.run_path("manage.py", run_name="__main__")
"""


def manage(*args, database):
    """Run manage.py in a child process; its exit code, output and peak resident memory in MB."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    out, err, peak = database.with_suffix(".out"), database.with_suffix(".err"), database.with_suffix(".peak")

    def safety_net():
        resource.setrlimit(resource.RLIMIT_AS, (SAFETY_NET_BYTES, SAFETY_NET_BYTES))

    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        child = subprocess.run(
            [sys.executable, "-c", PEAK_REPORTER, str(peak), "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
            preexec_fn=safety_net,
        )
    # No report: the child died before its exit handlers (killed, or out of memory under the safety net).
    peak_mb = int(peak.read_text()) / 1024 if peak.exists() else float("inf")
    return child.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"), peak_mb


def drug_names(database) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [name for (name,) in connection.execute("SELECT name FROM monographs_drug ORDER BY name")]


@pytest.fixture(scope="module")
def baseline_mb(migrated, tmp_path_factory):
    """Peak memory of importing one good document: a hostile one may cost a little more, never a file's size."""
    folder = tmp_path_factory.mktemp("baseline")
    shutil.copyfile(migrated, folder / "db.sqlite3")
    (folder / "good.txt").write_text(GOOD)
    code, out, err, peak = manage("import_sources", str(folder / "good.txt"), database=folder / "db.sqlite3")
    assert code == 0, err
    return peak


def assert_one_clear_error(database, folder, name, reason, baseline_mb):
    code, out, err, peak = manage("import_sources", str(folder), "--skip-invalid", database=database)
    assert code == 0, err
    skipped = [line for line in err.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 1, err
    assert skipped[0].startswith(f"skipped: {folder / name}: {reason}"), err
    assert "Traceback" not in err
    assert "1 created, 0 updated, 0 unchanged, 1 skipped" in out
    assert drug_names(database) == ["Testamab"]
    assert peak < MEMORY_LIMIT_MB, f"peak {peak:.0f} MB"
    # 50,000 nested elements parse into a tree of ~30 MB before the depth check refuses it: the price of
    # reading it at all, bounded by the 1 MB read limit — never the size of what the file claims.
    assert peak < baseline_mb + 50, f"peak {peak:.0f} MB against {baseline_mb:.0f} MB for one good document"


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_document_is_one_clear_error_and_the_run_goes_on(case, database, tmp_path, baseline_mb):
    name, content, reason = HOSTILE[case]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    (folder / name).write_text(content)
    assert_one_clear_error(database, folder, name, reason, baseline_mb)


def test_a_50_mb_file_is_refused_after_reading_only_the_limit(database, tmp_path, baseline_mb):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    with open(folder / "huge.txt", "wb") as huge:
        huge.write(b"---\ntitle: Huge\ndescription: x\n---\n## Usage\n\n")
        chunk = "Big text é. ".encode() * (1024 * 1024 // 13)
        for _ in range(50):
            huge.write(chunk)
    assert (folder / "huge.txt").stat().st_size > 50 * 1000 * 1000
    reason = f"file is {sources.MAX_SOURCE_BYTES + 1:,}+ bytes; the limit is {sources.MAX_SOURCE_BYTES:,} bytes"
    assert_one_clear_error(database, folder, "huge.txt", reason, baseline_mb)


def test_a_link_out_of_the_directory_is_refused_and_never_read(database, tmp_path, baseline_mb):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    (folder / "link.txt").symlink_to(outside / "secret.txt")
    assert_one_clear_error(database, folder, "link.txt", "is a symbolic link; links are not followed", baseline_mb)


def test_without_skip_invalid_every_hostile_file_is_listed_and_nothing_is_written(database, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    for name, content, _reason in HOSTILE.values():
        (folder / name).write_text(content)
    (tmp_path / "secret.txt").write_text(SECRET)
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    code, out, err, peak = manage("import_sources", str(folder), database=database)
    assert code == 1
    assert f"{len(HOSTILE) + 1} document(s) could not be imported; nothing was written" in err
    for name, _content, reason in [*HOSTILE.values(), ("link.txt", "", "is a symbolic link")]:
        assert f"  {folder / name}: {reason}" in err
    assert "Traceback" not in err
    assert drug_names(database) == []
    assert peak < MEMORY_LIMIT_MB


# In-process checks of each limit (the documents are small; a regression costs a RecursionError, no memory).


def front(extra: str) -> str:
    return f"---\ntitle: Limitumab\ndescription: x\n{extra}---\n## Usage\n\nText.\n"


LIMITS = {
    "front matter nested too deep": (
        front("x: " + "[" * (sources.MAX_FRONT_MATTER_DEPTH + 1) + "]" * (sources.MAX_FRONT_MATTER_DEPTH + 1) + "\n"),
        f"front matter is nested more than {sources.MAX_FRONT_MATTER_DEPTH} deep",
    ),
    "front matter nested past the C composer's stack": (
        front("x: " + "[" * 100_000 + "]" * 100_000 + "\n"),
        f"front matter is nested more than {sources.MAX_FRONT_MATTER_DEPTH} deep",
    ),
    "too many front-matter values": (
        front("x: [" + ", ".join("1" for _ in range(sources.MAX_FRONT_MATTER_VALUES)) + "]\n"),
        f"front matter has more than {sources.MAX_FRONT_MATTER_VALUES:,} keys and values",
    ),
    "a front-matter string too long": (
        front("x: " + "y" * (sources.MAX_FRONT_MATTER_STRING + 1) + "\n"),
        f"front matter has a value of {sources.MAX_FRONT_MATTER_STRING + 1:,} characters",
    ),
    "front matter too large": (
        front("x: |\n" + ("  " + "z" * 1000 + "\n") * 262),  # 262,823 bytes with the title and description
        f"the front matter is 262,823 bytes; the limit is {sources.MAX_FRONT_MATTER_BYTES:,} bytes",
    ),
    "a body too large": (
        "---\ntitle: Big\ndescription: x\n---\n## Usage\n\n" + "Words and more words.\n" * 15_000,
        f"the body is 330,010 bytes; the limit is {sources.MAX_BODY_BYTES:,} bytes",
    ),
    "HTML one level too deep": (
        "---\ntitle: Deep\n---\n" + "<div>" * (sources.MAX_HTML_DEPTH + 1) + "x\n",
        f"HTML elements are nested more than {sources.MAX_HTML_DEPTH} deep",
    ),
    "deep Markdown lists": (
        front("").replace("Text.", "\n".join("    " * i + "- item" for i in range(sources.MAX_MARKDOWN_DEPTH + 1))),
        f"Markdown quotes and lists are nested more than {sources.MAX_MARKDOWN_DEPTH} deep",
    ),
    "deep Markdown in an FAQ answer": (
        front("faqs:\n  - q: Why?\n    a: '" + "> " * 100 + "because'\n"),
        "FAQ 1: Markdown quotes and lists are nested more than",
    ),
    "deep Markdown made from HTML": (
        "---\ntitle: Quotes\n---\n" + "<blockquote>" * 40 + "x" + "</blockquote>" * 40 + "\n",
        f"Markdown quotes and lists are nested more than {sources.MAX_MARKDOWN_DEPTH} deep",
    ),
    "an integer too long for Python": (front("x: " + "9" * 5000 + "\n"), "could not be parsed (ValueError: "),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(LIMITS))
def test_each_limit_is_one_clear_error(case, write_source):
    content, reason = LIMITS[case]
    good = write_source("good.txt", GOOD)
    bad = write_source("bad.txt", content)
    with pytest.raises(CommandError) as excinfo:
        call_command("import_sources", str(good), str(bad), verbosity=0)
    assert f"{bad}: {reason}" in str(excinfo.value)
    assert Drug.objects.count() == 0


@pytest.mark.django_db
def test_documents_at_the_limits_import(write_source):
    depth = sources.MAX_FRONT_MATTER_DEPTH - 1  # the top-level mapping is one level
    html_depth = sources.MAX_HTML_DEPTH - 2  # the body's <div> and <p>
    docs = [
        front("x: " + "[" * depth + "]" * depth + "\n"),
        "---\ntitle: Deepa\nuri: treatment/other/medication/deep\n---\n<div>"
        + "<span>" * html_depth
        + "x"
        + "</span>" * html_depth
        + "<p>y\n",
        front("").replace("Text.", "> " * sources.MAX_MARKDOWN_DEPTH + "deep").replace("Limitumab", "Quotamab"),
    ]
    paths = [str(write_source(f"{n}.txt", doc)) for n, doc in enumerate(docs)]
    call_command("import_sources", *paths, verbosity=0)
    assert Drug.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["file", "directory"])
def test_a_link_named_on_the_command_line_is_refused(kind, tmp_path):
    target = tmp_path / "real"
    if kind == "file":
        target.write_text(GOOD)
    else:
        target.mkdir()
        (target / "good.txt").write_text(GOOD)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(CommandError) as excinfo:
        call_command("import_sources", str(link), verbosity=0)
    assert f"{link}: is a symbolic link; links are not followed" in str(excinfo.value)
    assert Drug.objects.count() == 0


@pytest.mark.django_db
def test_a_linked_directory_inside_a_directory_is_refused_by_name(tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    (folder / "more").symlink_to(outside, target_is_directory=True)
    call_command("import_sources", str(folder), "--skip-invalid")
    assert f"skipped: {folder / 'more'}: is a symbolic link; links are not followed" in capsys.readouterr().err
    assert [d.name for d in Drug.objects.all()] == ["Testamab"]


@pytest.mark.django_db
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    os.mkfifo(folder / "pipe.txt")

    class Hung(BaseException):
        """Not an Exception: the importer must not turn it into the file's error."""

    def hang_up(signum, frame):
        raise Hung("the import waited for a writer to open the FIFO")

    previous = signal.signal(signal.SIGALRM, hang_up)
    signal.alarm(20)
    try:
        with pytest.raises(CommandError) as excinfo:
            call_command("import_sources", str(folder), verbosity=0)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert f"{folder / 'pipe.txt'}: not a regular file (a FIFO)" in str(excinfo.value)
