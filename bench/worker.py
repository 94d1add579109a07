"""One measurement inside Django, run by bench/run.py in a process of its own; prints one JSON object.

    python -m bench.worker import CORPUS_DIR
    python -m bench.worker loaddata FIXTURE
    python -m bench.worker page OUT_DIR
    python -m bench.worker search
    python -m bench.worker render
    python -m bench.worker consistency
    python -m bench.worker publish

The database is whatever DATABASE_URL names; settings are bench.settings.  Each result carries the
process's own peak RSS.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command, get_commands  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402

HANDLER = WSGIHandler()
PAGE_REQUESTS = int(os.environ.get("BENCH_PAGE_REQUESTS", "300"))


def peak_rss_mb() -> float:
    """VmHWM, this process's own peak resident set.  Not ru_maxrss: Linux carries that across exec,
    so a worker started by a parent that had read a large fixture reported the parent's peak."""
    match = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
    return int(match.group(1)) / 1024 if match else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def wsgi_get(path: str, query: str = "") -> tuple[int, bytes]:
    """One GET through Django's WSGI handler, as gunicorn would call it (response closed included)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status = []
    response = HANDLER(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        body = b"".join(response)
    finally:
        response.close()
    return int(status[0].split()[0]), body


def timed(path: str, query: str = "", clear_cache: bool = False, n: int = PAGE_REQUESTS) -> dict:
    for _ in range(10):  # warm-up: templates, URL resolver, connection
        wsgi_get(path, query)
    times = []
    for _ in range(n):
        if clear_cache:
            cache.clear()
        start = time.perf_counter()
        status, _ = wsgi_get(path, query)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise SystemExit(f"GET {path}?{query} answered {status}")
    return {"p50": statistics.median(times), "p95": percentile(times, 95), "n": n}


def queries(path: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        wsgi_get(path)
    return len(captured.captured_queries)


def profile_top(session, n: int = 5) -> list[tuple[str, float]]:
    """The `n` functions with the most time of their own (not in the functions they call), as shares."""
    own: dict[str, float] = {}

    def walk(frame, name: str) -> None:
        if not frame.is_synthetic:  # "[self]" and the like: time of the function above
            name = f"{frame.function} ({Path(frame.file_path or '?').name}:{frame.line_no})"
        own[name] = own.get(name, 0.0) + frame.time - sum(child.time for child in frame.children)
        for child in frame.children:
            walk(child, name)

    root = session.root_frame()
    walk(root, "?")
    return [(name, t / root.time) for name, t in sorted(own.items(), key=lambda item: -item[1])[:n]]


def do_import(corpus: str) -> dict:
    """import_sources of the corpus, timed, after the parse-only floor: every document parsed in this one
    process, nothing written.  Not profiled: pyinstrument's hook on every call slowed the importing
    process by about a sixth (1,500 documents, measured); `do_profile` profiles a sample instead."""
    from monographs.importers.sources import iter_source_paths, parse_document

    files = sum(1 for p in Path(corpus).iterdir() if p.is_file())
    start = time.perf_counter()
    for path in iter_source_paths([corpus]):
        parse_document(path)
    parse_seconds = time.perf_counter() - start
    start = time.perf_counter()
    call_command("import_sources", corpus, verbosity=0)
    seconds = time.perf_counter() - start
    return {"documents": files, "seconds": seconds, "parse_seconds": parse_seconds, "peak_rss_mb": peak_rss_mb()}


def do_profile(corpus: str) -> dict:
    """import_sources of (a sample of) a corpus, profiled by pyinstrument: the importing process's top five.
    Sampling every 50 ms: pyinstrument keeps every sample's stack (about 5 kB), and at 5 ms a
    2,000-document import on a busy machine held 200,000 of them; 50 ms still gives thousands."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.05)
    profiler.start()
    call_command("import_sources", corpus, verbosity=0)
    session = profiler.stop()
    if os.environ.get("BENCH_PROFILE"):
        Path(os.environ["BENCH_PROFILE"]).write_text(profiler.output_html())
    return {"profile_top": profile_top(session)}


def do_loaddata(fixture: str) -> dict:
    """The project's loaddata, as an operator types it: the load itself, then the search index rebuilt.

    Timed and measured in two parts: reading the fixture into rows (what the target compares with
    dumpdata), and the whole command.  VmHWM only grows, so read after the load it is the load's peak.
    """
    from monographs.management.commands.loaddata import Command

    class Timed(Command):
        def loaddata(self, fixture_labels):
            start = time.perf_counter()
            super().loaddata(fixture_labels)
            self.load_seconds, self.load_peak_rss_mb = time.perf_counter() - start, peak_rss_mb()

    command = Timed()
    start = time.perf_counter()
    call_command(command, fixture, verbosity=0)
    seconds = time.perf_counter() - start
    return {
        "seconds": command.load_seconds,
        "command_seconds": seconds,
        "objects": command.loaded_object_count,
        "load_peak_rss_mb": command.load_peak_rss_mb,
        "peak_rss_mb": peak_rss_mb(),
    }


def do_page(out_dir: str) -> dict:
    """Drug pages (small and large monograph) against flatpages serving the same final HTML."""
    from django.contrib.flatpages.models import FlatPage
    from django.contrib.sites.models import Site
    from django.db.models import Count

    from monographs.models import Monograph

    # Drugs with one monograph only, so the two pages differ in size alone (a second monograph adds a lookup).
    primaries = list(
        Monograph.objects.filter(is_primary=True, kind="reference", revisions__status="published")
        .annotate(siblings=Count("drug__monographs", distinct=True))
        .filter(siblings=1)
        .select_related("drug")
        .values_list("drug__slug", "revisions__body")
    )
    by_size = sorted(primaries, key=lambda row: (len(row[1]), row[0]))
    picks = {"small": by_size[0][0], "large": by_size[-1][0]}
    site = Site.objects.get(pk=1)
    result = {"pages": {}, "peak_rss_mb": 0.0}
    for label, slug in picks.items():
        path = f"/drugs/{slug}/"
        status, html = wsgi_get(path)
        assert status == 200, (path, status)
        page, _ = FlatPage.objects.update_or_create(
            url=path, defaults={"title": slug, "content": html.decode("utf-8"), "template_name": ""}
        )
        page.sites.set([site])
        flat_path = "/flat" + path
        status, flat_html = wsgi_get(flat_path)
        assert flat_html == html, "the flatpage must serve byte-identical HTML"
        target = Path(out_dir) / "www" / path.strip("/") / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(html)
        cold_queries = queries(path)
        wsgi_get(path)
        with CaptureQueriesContext(connection) as warm:
            wsgi_get(path)
        result["pages"][label] = {
            "path": path,
            "flat_path": flat_path,
            "bytes": len(html),
            "body_chars": len(by_size[0 if label == "small" else -1][1]),
            "queries_uncached": cold_queries,
            "queries_cached": len(warm.captured_queries),
            "uncached": timed(path, clear_cache=True),
            "cached": timed(path),
            "flatpage": timed(flat_path),
        }
    result["page_cache_in_code"] = any(
        page["queries_cached"] < page["queries_uncached"] for page in result["pages"].values()
    )
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def search_available() -> bool:
    try:
        resolve("/search/")
    except Resolver404:
        return False
    import importlib.util

    return importlib.util.find_spec("monographs.search") is not None


def do_search() -> dict:
    """p50/p95 of /search/?q= over a fixed query set drawn from the corpus in the database."""
    from urllib.parse import urlencode

    from monographs.models import Alias, BrandName, Drug

    if not search_available():
        return {"available": False}
    if "reindex_search" in get_commands():
        call_command("reindex_search", verbosity=0)
    names = list(Drug.objects.order_by("slug").values_list("name", flat=True)[:200:40])
    brands = list(BrandName.objects.order_by("slug").values_list("name", flat=True)[:200:40])
    aliases = list(Alias.objects.order_by("slug").values_list("name", flat=True)[:5])
    typos = [name[0] + name[2] + name[1] + name[3:] for name in names]  # letter swap
    words = ["osteonecrosis", "hypocalcaemia", "photosensitivity", "renal function", "angioedema"]
    query_set = names + brands + aliases + typos + words
    rounds = max(1, int(os.environ.get("BENCH_SEARCH_ROUNDS", "5")))
    times = []
    for q in query_set:  # warm-up
        wsgi_get("/search/", urlencode({"q": q}))
    for _ in range(rounds):
        for q in query_set:
            start = time.perf_counter()
            status, _ = wsgi_get("/search/", urlencode({"q": q}))
            times.append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise SystemExit(f"search {q!r} answered {status}")
    return {
        "available": True,
        "queries": len(query_set),
        "p50": statistics.median(times),
        "p95": percentile(times, 95),
        "peak_rss_mb": peak_rss_mb(),
    }


def do_render() -> dict:
    """The slowest Markdown of tests/slow_markdown.py that drugref accepts, beside a normal monograph of
    the same size (the best of three renderings each)."""
    from monographs.bounds import BODY_LIMIT, markdown_problem
    from monographs.rendering import render_markdown
    from tests.slow_markdown import normal_monograph, slow_inputs

    def seconds(text: str) -> float:
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            render_markdown(text)
            best = min(best, time.perf_counter() - began)
        return best

    normal = normal_monograph()
    render_markdown(normal[:2000])  # build the converter before timing
    accepted = {name: text for name, text in slow_inputs().items() if markdown_problem(text, BODY_LIMIT) is None}
    timings = {name: seconds(text) for name, text in accepted.items()}
    slowest = max(timings, key=timings.get)
    return {
        "chars": len(normal),
        "normal_s": seconds(normal),
        "slowest": slowest,
        "slowest_s": timings[slowest],
        "shapes": len(accepted),
        "peak_rss_mb": peak_rss_mb(),
    }


def editors():
    """An author, a proof-reader and a publisher of the bench (made once per database, kept)."""
    from django.contrib.auth.models import Group, User

    people = []
    for name, group in (
        ("bench-author", "Authors"),
        ("bench-proof", "Proof-readers"),
        ("bench-publisher", "Publishers"),
    ):
        user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": True, "first_name": name})
        user.groups.add(Group.objects.get(name=group))
        people.append(User.objects.get(pk=user.pk))  # permissions read afresh
    return people


def do_consistency() -> dict:
    """/admin/consistency/ as a proof-reader opens it: the first page after a change (the checks run and
    their run is stored), then pages of the stored run (first, middle, last), each the median of a few."""
    from django.test import Client

    from monographs import consistency
    from monographs.models import ConsistencyFinding

    _, proof_reader, _ = editors()
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(proof_reader)

    def get(page: int) -> float:
        start = time.perf_counter()
        response = client.get("/admin/consistency/", {"page": page})
        seconds = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"/admin/consistency/?page={page} answered {response.status_code}")
        return seconds

    get(1)  # warm-up: templates, URL resolver, connection
    runs = []
    for _ in range(3):
        consistency.forget()
        runs.append(get(1))
    found = ConsistencyFinding.objects.count()
    last = max(1, -(-found // consistency.PAGE_SIZE))
    requests = max(5, min(PAGE_REQUESTS, 30))
    pages = {}
    for label, number in (("first", 1), ("middle", (last + 1) // 2), ("last", last)):
        times = [get(number) for _ in range(requests)]
        pages[label] = {"page": number, "p50": statistics.median(times), "max": max(times)}
    return {
        "findings": found,
        "pages": last,
        "run_s": statistics.median(runs),
        "stored": pages,
        "requests": requests,
        "peak_rss_mb": peak_rss_mb(),
    }


def do_publish() -> dict:
    """Publishing one revision through monographs/workflow.py, as the admin does: a draft started from
    the live revision, submitted, approved, then published — the publish timed (its transaction and
    what runs when it commits: page store, search index, link graph, the stored consistency findings
    updated for the drug), then the first /admin/consistency/ page after it, which reads stored rows only
    (`full_runs` counts the whole runs of the checks made meanwhile: 0 when the publishes updated the
    stored run in place).  Monographs with and without comparisons, chosen the same way at every size."""
    from django.test import Client

    from monographs import consistency, workflow
    from monographs.models import Monograph, Revision

    author, proof_reader, publisher = editors()
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(proof_reader)
    if client.get("/admin/consistency/").status_code != 200:  # a stored run to update (made if stale)
        raise SystemExit("/admin/consistency/ did not answer 200")
    whole = consistency.run_and_store
    full_runs = []

    def counted():
        full_runs.append(1)
        return whole()

    consistency.run_and_store = counted
    live = Revision.objects.live().filter(monograph__is_primary=True, monograph__topic__isnull=True)
    with_tables = list(
        live.filter(comparisons__isnull=False)
        .order_by("monograph__slug")
        .values_list("monograph_id", flat=True)
        .distinct()[:3]
    )
    plain = list(
        live.filter(comparisons__isnull=True).order_by("monograph__slug").values_list("monograph_id", flat=True)[:3]
    )
    times = {"with a comparison": [], "without": []}
    pages = []
    for label, ids in (("with a comparison", with_tables), ("without", plain)):
        for monograph in Monograph.objects.filter(pk__in=ids).order_by("slug"):
            draft = workflow.start_draft(monograph, author)
            draft.summary = draft.summary or f"{draft.title}: benchmark summary."  # an import may leave it empty
            workflow.save_draft(draft, author, draft.version)
            workflow.submit(draft, author, "Benchmark: the same text published again")
            workflow.approve(draft, proof_reader)
            start = time.perf_counter()
            workflow.publish(draft, publisher, confirm_broken_links=True)
            times[label].append(time.perf_counter() - start)
            start = time.perf_counter()
            if client.get("/admin/consistency/").status_code != 200:
                raise SystemExit("/admin/consistency/ did not answer 200 after a publish")
            pages.append(time.perf_counter() - start)
    every = [t for ts in times.values() for t in ts]
    return {
        "monographs": Monograph.objects.count(),
        "published": len(every),
        "median_s": statistics.median(every),
        "by_kind": {label: statistics.median(ts) if ts else None for label, ts in times.items()},
        "page_after_s": statistics.median(pages),
        "page_after_max_s": max(pages),
        "full_runs": len(full_runs),
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str]) -> None:
    task, *args = argv
    result = {
        "import": lambda: do_import(*args),
        "profile": lambda: do_profile(*args),
        "loaddata": lambda: do_loaddata(*args),
        "page": lambda: do_page(*args),
        "search": do_search,
        "render": do_render,
        "consistency": do_consistency,
        "publish": do_publish,
        "search-available": lambda: {"available": search_available()},
    }[task]()
    print("BENCH-RESULT " + json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
