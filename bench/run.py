"""`make bench`: drugref's figures beside their baselines, measured side by side in one run.

Environment:
    BENCH_SIZES           corpus sizes to import, comma-separated (default 1000,20000); the smallest
                          serves the page and throughput figures; each is dumped and loaded into PostgreSQL
    BENCH_SEED            corpus seed (default 1)
    BENCH_WRK_SECONDS     length of each wrk run (default 30)
    BENCH_WRK_CONNECTIONS wrk connections (default 50)
    BENCH_PAGE_REQUESTS   requests per in-process page measurement (default 300)
    BENCH_PG_URL          PostgreSQL server for the loaddata and search figures (default postgres://postgres@127.0.0.1:5432)
    BENCH_PG_PREFIX       prefix of the PostgreSQL databases it creates and drops (default drugref_bench):
                          PREFIX_search_N for N documents
    BENCH_KEEP            keep the work directory (corpora, databases, fixture) when set
    BENCH_WORK            use (and keep) this work directory; an import already measured there (its
                          corpus, database and result file) is reported, not repeated — so a long run
                          that stopped part-way can be resumed; so is the loaddata of the largest
                          fixture, whose PostgreSQL database (PREFIX_search_N) is then kept
    BENCH_PROFILE         write a pyinstrument profile of each import next to the work directory

Every process the script starts (gunicorn, nginx, wrk, workers) runs in a session of its own and is
stopped by its process-group id when the script ends, fails or is interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_PREFIX = os.environ.get("BENCH_PG_PREFIX", "drugref_bench")
PYTHON = sys.executable
STARTED: list[subprocess.Popen] = []
ROWS: list[tuple[str, str, str, str]] = []  # (section, what, figure, baseline / note)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def env_for(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key-" + "x" * 40,
        "DEBUG": "false",
        "HTTPS": "false",  # plain HTTP on loopback; TLS would be the proxy's job
        "STATIC_MANIFEST": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def run(cmd: list[str], env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command to completion in its own session (so an interrupt can stop its whole group)."""
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    STARTED.append(proc)
    out, err = proc.communicate()
    STARTED.remove(proc)
    if check and proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:] or out[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return run([PYTHON, "manage.py", *args], env=env)


def worker(env: dict, *args: str) -> dict:
    out = run([PYTHON, "-m", "bench.worker", *args], env=env).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH-RESULT "))
    return json.loads(line.removeprefix("BENCH-RESULT "))


def start(cmd: list[str], env: dict | None = None, log_path: Path | None = None) -> subprocess.Popen:
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    STARTED.append(proc)
    return proc


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group we created, then SIGKILL what is left after 10 s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc in STARTED:
        STARTED.remove(proc)


def stop_all() -> None:
    for proc in list(STARTED):
        stop(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids += process_tree(int(child))
    return pids


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size so far."""
    match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def tree_rss(proc: subprocess.Popen) -> str:
    pids = process_tree(proc.pid)
    master, workers = peak_rss_mb(pids[0]), [peak_rss_mb(pid) for pid in pids[1:]]
    return f"master {master:.0f} MB, workers " + " / ".join(f"{w:.0f}" for w in workers) + " MB"


def ensure_packages() -> bool:
    missing = [name for name, binary in (("wrk", "wrk"), ("nginx-light", "nginx")) if not shutil.which(binary)]
    if not missing:
        return True
    if os.geteuid() != 0:
        log(f"wrk/nginx missing and not root: install them with `sudo apt-get install {' '.join(missing)}`")
        return False
    log(f"installing {' '.join(missing)} with apt-get (apt-get update; apt-get install -y {' '.join(missing)})")
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=apt_env)
    run(["apt-get", "install", "-y", "-qq", *missing], env=apt_env)
    # Debian's package starts a system nginx on port 80; this benchmark starts its own.
    return bool(shutil.which("wrk") and shutil.which("nginx"))


def wrk(url: str, seconds: int, connections: int) -> dict:
    out = run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": p99_ms, "errors": errors, "non2xx": int(non2xx.group(1)) if non2xx else 0}


def fmt_wrk(result: dict) -> str:
    return (
        f"{result['rps']:,.0f} req/s, p99 {result['p99_ms']:.1f} ms, "
        f"{result['errors']} errors, {result['non2xx']} non-2xx"
    )


def add(section: str, what: str, figure: str, note: str = "") -> None:
    ROWS.append((section, what, figure, note))
    log(f"{section} | {what} | {figure} | {note}")


# ---------------------------------------------------------------------------------------------


def bench_import(work: Path, sizes: list[int], seed: int) -> dict[int, str]:
    """Import each corpus into a fresh SQLite database; return size → DATABASE_URL."""
    databases = {}
    for size in sizes:
        corpus = work / f"corpus-{size}"
        db_url = f"sqlite:///{work / f'import-{size}.sqlite3'}"
        env = env_for(db_url)
        measured = work / f"import-{size}.json"
        if measured.exists():
            result = json.loads(measured.read_text())
            log(f"import of {size} documents already measured in {work} ({result['when']}); migrating it")
            manage(env, "migrate", "--no-input", "-v", "0")
        else:
            log(f"make_corpus {size} (seed {seed})")
            shutil.rmtree(corpus, ignore_errors=True)
            Path(db_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            manage(env, "make_corpus", str(size), str(corpus), "--seed", str(seed))
            manage(env, "migrate", "--no-input", "-v", "0")
            log(f"import_sources: {size} documents")
            result = {**worker(env, "import", str(corpus)), "when": time.strftime("%Y-%m-%d %H:%M")}
            result.update(profile_import(work, corpus, size))
            measured.write_text(json.dumps(result))
        rate = result["documents"] / result["seconds"]
        note = f"peak RSS {result['peak_rss_mb']:.0f} MB; measured {result['when']}"
        note += f" ({result['note']})" if result.get("note") else ""
        if size >= 20_000:
            note += f"; target ≥ 150 docs/s {'met' if rate >= 150 else 'MISSED'}"
        add("Import", f"import_sources, {result['documents']:,} documents (SQLite)", f"{rate:,.1f} docs/s", note)
        if "parse_seconds" in result:  # imports measured before the floor have none
            floor = result["documents"] / result["parse_seconds"]
            add(
                "Import",
                f"parse-only floor, the same {result['documents']:,} documents (nothing written)",
                f"{floor:,.1f} docs/s ({result['parse_seconds']:.0f} s)",
                f"the import runs at {rate / floor:.0%} of it",
            )
            top = "; ".join(f"{name} {share:.0%}" for name, share in result["profile_top"])
            sample = result.get("profile_documents", size)
            add(
                "Import",
                f"import_sources, {size:,} documents: profile's top five (own time)",
                top,
                f"pyinstrument, the importing process (not its workers), a separate import of {sample:,} of them",
            )
        if size == max(sizes) and size < 20_000:
            add(
                "Import",
                "20,000 documents",
                "not run",
                f"BENCH_SIZES=1000,20000; ~{20_000 / rate / 60:.0f} min at this rate",
            )
        databases[size] = db_url
    return databases


# The profile is taken of a separate import of this many of the corpus' documents (the first by name, as the
# importer reads them), into a database of its own: the timed import runs without the profiler's hook.
PROFILE_SAMPLE = 2000


def profile_import(work: Path, corpus: Path, size: int) -> dict:
    sample = work / f"profile-sample-{size}"
    shutil.rmtree(sample, ignore_errors=True)
    sample.mkdir()
    files = sorted((p for p in corpus.iterdir() if p.is_file()), key=lambda p: p.name)[:PROFILE_SAMPLE]
    for path in files:
        shutil.copyfile(path, sample / path.name)
    database = work / f"profile-{size}.sqlite3"
    database.unlink(missing_ok=True)
    env = env_for(f"sqlite:///{database}")
    if os.environ.get("BENCH_PROFILE"):  # the whole profile, beside the table's top five
        env["BENCH_PROFILE"] = str(work.parent / f"bench-import-{size}.html")
    log(f"import_sources of {len(files):,} of the documents, profiled")
    manage(env, "migrate", "--no-input", "-v", "0")
    result = worker(env, "profile", str(sample))
    shutil.rmtree(sample)
    database.unlink()
    return {**result, "profile_documents": len(files)}


def dump(work: Path, size: int, source_db: str) -> tuple[Path, float]:
    fixture = work / f"dump-{size}.json"
    log(f"dumpdata of the {size}-document database")
    started = time.perf_counter()
    manage(
        env_for(source_db),
        *("dumpdata", "monographs", "--natural-foreign", "--natural-primary", "--output", str(fixture)),
    )
    return fixture, time.perf_counter() - started


def load_into_postgres(work: Path, size: int, source_db: str) -> tuple[str, dict, Path, float]:
    """A fresh PostgreSQL database loaded from a dump of the import database (kept for the search figures)."""
    fixture, dump_seconds = dump(work, size, source_db)
    pg_url = create_pg_database(PG_SERVER, f"{PG_PREFIX}_search_{size}")
    manage(env_for(pg_url), "migrate", "--no-input", "-v", "0")
    log(f"loaddata of the {size}-document fixture into PostgreSQL")
    return pg_url, worker(env_for(pg_url), "loaddata", str(fixture)), fixture, dump_seconds


def idle_rss_mb(env: dict) -> float:
    """Peak RSS of a manage.py process that has set Django up and done nothing else."""
    out = manage(env, "shell", "-c", "print(open('/proc/self/status').read())").stdout
    return int(re.search(r"VmHWM:\s+(\d+) kB", out).group(1)) / 1024


def bench_loaddata(work: Path, size: int, source_db: str, resume: bool, idle_mb: float) -> str:
    """dumpdata of the import database, then the project's loaddata of it into a fresh PostgreSQL
    database, the production one; returns its URL (kept for the search figures).

    With BENCH_WORK the loaded database is kept, with its figures in loaddata-N.json, so a resumed
    run measures search against it again (after `migrate`) instead of loading it again.
    """
    name, measured = f"{PG_PREFIX}_search_{size}", work / f"loaddata-{size}.json"
    if resume and measured.exists() and pg_database_exists(PG_SERVER, name):
        result = json.loads(measured.read_text())
        log(f"loaddata of {size} documents already measured in {work} ({result['when']}); migrating {name}")
        pg_url = f"{PG_SERVER}/{name}"
        manage(env_for(pg_url), "migrate", "--no-input", "-v", "0")
    else:
        pg_url, result, fixture, dump_seconds = load_into_postgres(work, size, source_db)
        result.update(
            dump_seconds=dump_seconds,
            fixture_mb=fixture.stat().st_size / 1e6,
            idle_mb=idle_mb,
            when=time.strftime("%Y-%m-%d %H:%M"),
        )
        if resume:
            measured.write_text(json.dumps(result))
    objects, seconds = result["objects"], result["seconds"]  # counted by the worker, not by reading the fixture here
    ratio = seconds / result["dump_seconds"]
    add(
        "Import",
        f"loaddata, {size:,}-document fixture into PostgreSQL ({objects:,} objects, {result['fixture_mb']:.0f} MB)",
        f"{seconds:.1f} s ({objects / seconds:,.0f} objects/s): {ratio:.1f}× dumpdata",
        f"dumpdata (SQLite) took {result['dump_seconds']:.1f} s; target ≤ 3× {'met' if ratio <= 3 else 'MISSED'}; "
        f"measured {result['when']}",
    )
    if "command_seconds" in result:  # figures measured before the loaddata command rebuilt the index have none
        whole = result["command_seconds"]
        add(
            "Import",
            f"loaddata command, {size:,} documents: the load, then the pages rendered and the search index rebuilt",
            f"{whole:.1f} s: {whole / result['dump_seconds']:.1f}× dumpdata",
            f"of which rendering the pages and rebuilding the search index {whole - seconds:.1f} s",
        )
        above = result["load_peak_rss_mb"] - result["idle_mb"]
        add(
            "Memory",
            f"loaddata command, {size:,} documents: peak RSS (VmHWM) after the load / after the index",
            f"{result['load_peak_rss_mb']:.0f} / {result['peak_rss_mb']:.0f} MB",
            f"idle manage.py {result['idle_mb']:.0f} MB: the load {above:+.0f} MB, the whole command "
            f"{result['peak_rss_mb'] - result['idle_mb']:+.0f} MB; target ≤ 60 MB above idle "
            f"{'met' if above <= 60 else 'MISSED'} (the load)",
        )
    return pg_url


def bench_pages(work: Path, db_url: str, size: int) -> dict:
    log(f"page timings through WSGIHandler on the {size}-document database")
    result = worker(env_for(db_url), "page", str(work))
    cached_note = "page cache in the code" if result["page_cache_in_code"] else "no page cache in the code: warm path"
    for label, page in result["pages"].items():
        floor = page["flatpage"]
        what = f"drug page, {label} monograph ({page['body_chars']:,} chars of Markdown, {page['bytes']:,} B HTML)"
        for mode in ("uncached", "cached"):
            t = page[mode]
            ratio = t["p50"] / floor["p50"]
            note = f"{ratio:.1f}× the flatpage floor (p50)"
            if mode == "cached":
                note += f"; target ≤ 1.3× {'met' if ratio <= 1.3 else 'MISSED'} ({cached_note})"
            else:
                note += f"; target ≤ 10× {'met' if ratio <= 10 else 'MISSED'} (pre-rendered HTML)"
            add("Page", f"{what}, {mode}", f"p50 {t['p50']:.2f} ms, p95 {t['p95']:.2f} ms", note)
        add(
            "Page",
            f"flatpage floor, same HTML as the {label} page",
            f"p50 {floor['p50']:.2f} ms, p95 {floor['p95']:.2f} ms",
            f"{floor['n']} requests",
        )
    small, large = result["pages"]["small"], result["pages"]["large"]
    constant = small["queries_uncached"] == large["queries_uncached"]
    add(
        "Page",
        "SQL queries per drug page (small / large monograph)",
        f"uncached {small['queries_uncached']} / {large['queries_uncached']}, "
        f"cached {small['queries_cached']} / {large['queries_cached']}",
        "constant: target met" if constant else "NOT constant: target missed",
    )
    add("Memory", "bench process serving the in-process pages", f"peak RSS {result['peak_rss_mb']:.0f} MB", "")
    return result


def bench_render(db_url: str) -> None:
    """Markdown shaped to be slow (tests/slow_markdown.py): the slowest shape drugref accepts, rendered."""
    log("rendering the slow-Markdown corpus beside a normal monograph of the same size")
    result = worker(env_for(db_url), "render")
    ratio = result["slowest_s"] / result["normal_s"]
    add(
        "Render",
        f"slowest of {result['shapes']} slow-shaped Markdown inputs ({result['slowest']}, {result['chars']:,} chars)",
        f"{result['slowest_s'] * 1000:.0f} ms (normal monograph, same size: {result['normal_s'] * 1000:.0f} ms)",
        f"{ratio:.1f}× normal; target ≤ 20× {'met' if ratio <= 20 else 'MISSED'}",
    )


def bench_consistency(databases: dict[int, str]) -> None:
    """/admin/consistency/ at each size: the first page after a change (a whole run of the checks,
    stored) and pages of the stored run; then the cost of publishing one revision, at each size in the
    same run, so their growth can be read side by side (target: 1,000 → 20,000 grows < 2×)."""
    publish = {}
    for size, imported in sorted(databases.items()):
        # On a copy: the editors, the stored run and the publishes (with their notifications, whose users
        # `dumpdata monographs` leaves out) would otherwise be in the import database a resumed run dumps.
        copy = Path(imported.removeprefix("sqlite:///")).with_name(f"publish-{size}.sqlite3")
        shutil.copyfile(imported.removeprefix("sqlite:///"), copy)
        db_url = f"sqlite:///{copy}"
        log(f"consistency report and one publish, {size:,} monographs")
        result = worker(env_for(db_url), "consistency")
        stored = result["stored"]
        slowest = max(page["p50"] for page in stored.values())
        note = f"{result['findings']:,} findings, {result['pages']:,} pages; peak RSS {result['peak_rss_mb']:.0f} MB"
        if size >= 20_000:
            note += "; target < 1 s a page " + ("met" if slowest < 1 else "MISSED")
        add(
            "Consistency",
            f"/admin/consistency/, {size:,} monographs (SQLite): a page of the stored run (first / middle / last)",
            " / ".join(f"{page['p50'] * 1000:.0f} ms" for page in stored.values()) + f" (p50 of {result['requests']})",
            note,
        )
        add(
            "Consistency",
            f"/admin/consistency/, {size:,} monographs (SQLite): first page after a change (checks run, stored)",
            f"{result['run_s']:.2f} s (median of 3)",
            "the dashboard never runs them; made when there is no current run (a change that announces nothing, "
            "an import of many drugs, RUN_SECONDS after the last)",
        )
        publish[size] = result = worker(env_for(db_url), "publish")
        kinds = ", ".join(f"{label} {s * 1000:.0f} ms" for label, s in result["by_kind"].items() if s is not None)
        note = f"median of {result['published']} publishes ({kinds})"
        smallest = min(publish)
        if size != smallest:
            growth = result["median_s"] / publish[smallest]["median_s"]
            note += f"; {growth:.2f}× the {smallest:,}-monograph publish"
            if smallest <= 1_000 and size >= 20_000:
                note += "; target < 2× " + ("met" if growth < 2 else "MISSED")
        add(
            "Consistency",
            f"publishing one revision through the workflow, {size:,} monographs (SQLite)",
            f"{result['median_s'] * 1000:.0f} ms",
            note,
        )
        add(
            "Consistency",
            f"/admin/consistency/, {size:,} monographs (SQLite): first page after each publish",
            f"{result['page_after_s'] * 1000:.0f} ms (median of {result['published']}, "
            f"max {result['page_after_max_s'] * 1000:.0f} ms)",
            f"whole runs of the checks meanwhile: {result['full_runs']} (the publishes update the stored run)"
            + (
                "; target < 1 s a page " + ("met" if result["page_after_max_s"] < 1 else "MISSED")
                if size >= 20_000
                else ""
            ),
        )
        copy.unlink()


def create_pg_database(server: str, name: str) -> str:
    import psycopg

    # Connect to template1 (never to the `postgres` database) and copy template0.
    with psycopg.connect(f"{server}/template1", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return f"{server}/{name}"


def pg_database_exists(server: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{server}/template1", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def drop_pg_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/template1", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_search(work: Path, databases: dict[int, str], loaded: dict[int, str], keep: set[int]) -> None:
    """SQLite: the import databases.  PostgreSQL: `loaded` (size → URL) or a database loaded here;
    dropped afterwards unless its size is in `keep`."""
    smallest = min(databases)
    if not worker(env_for(databases[smallest]), "search-available")["available"]:
        add(
            "Search",
            "p50/p95 over a fixed query set",
            "n/a (no search yet)",
            "monographs/search.py and /search/ absent",
        )
        return
    for size, db_url in sorted(databases.items()):
        result = worker(env_for(db_url), "search")
        add(
            "Search",
            f"{size:,} monographs, SQLite ({result['queries']} queries)",
            f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms",
            f"peak RSS {result['peak_rss_mb']:.0f} MB",
        )
        pg_url = loaded.get(size) or load_into_postgres(work, size, db_url)[0]
        try:
            result = worker(env_for(pg_url), "search")
            note = f"peak RSS {result['peak_rss_mb']:.0f} MB"
            if size >= 20_000:
                note += "; target p95 ≤ 25 ms " + ("met" if result["p95"] <= 25 else "MISSED")
            add(
                "Search",
                f"{size:,} monographs, PostgreSQL ({result['queries']} queries)",
                f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms",
                note,
            )
        finally:
            if size not in keep:
                drop_pg_database(PG_SERVER, pg_url.rsplit("/", 1)[1])


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def check_serves(url: str, expected: bytes) -> None:
    """A baseline that answers anything but the same page must fail the run, not be measured."""
    try:
        body = fetch(url)
    except OSError as error:
        raise RuntimeError(f"{url} does not serve the page: {error}") from error
    if body != expected:
        raise RuntimeError(f"{url} serves {len(body):,} bytes that differ from the {len(expected):,}-byte page")


def readable_copy(www: Path) -> Path:
    """The static pages where nginx's unprivileged workers can read them (BENCH_WORK may be in a private home)."""
    root = Path(tempfile.mkdtemp(prefix="drugref-bench-www-"))
    shutil.copytree(www, root, dirs_exist_ok=True)
    for item in [root, *root.rglob("*")]:
        item.chmod(0o755 if item.is_dir() else 0o644)
    return root


def nginx_config(work: Path, root: Path, port: int) -> Path:
    prefix = work / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    temp = prefix / "tmp"
    conf.write_text(
        f"""worker_processes 2;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type text/html;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ try_files $uri $uri/index.html =404; }}
    }}
}}
"""
    )
    return conf


def start_gunicorn(env: dict, log_path: Path, warm_paths: tuple[str, ...]) -> tuple[subprocess.Popen, int]:
    """gunicorn with 2 sync workers on a free loopback port, each worker warmed on `warm_paths`."""
    port = free_port()
    gunicorn = start(
        [PYTHON, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "drugref.wsgi"],
        env={**env, "GUNICORN_CMD_ARGS": ""},
        log_path=log_path,
    )
    try:
        wait_for_port(port, gunicorn)
        for _ in range(20):  # warm each worker's templates, connection and cache (an error status raises)
            for url in warm_paths:
                fetch(f"http://127.0.0.1:{port}{url}")
    except BaseException:
        stop(gunicorn)
        raise
    return gunicorn, port


def bench_cache_outage(work: Path, db_url: str, path: str, seconds: int, connections: int, normal_rps: float) -> None:
    """The drug page with Redis as the cache (REDIS_URL), Redis stopped — or frozen — half-way through wrk.

    A stopped Redis refuses connections; a frozen one (SIGSTOP) accepts them and never answers, which
    costs a socket timeout.  Either way the pages must keep coming, uncached, with no errors.
    """
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        add("Reliability", "cache outage under wrk", "not run", "redis-server missing: apt-get install redis-server")
        return
    for how, outage in (("stopped", signal.SIGTERM), ("frozen", signal.SIGSTOP)):
        redis_port = free_port()
        redis = start(
            [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        )
        log_path = work / f"gunicorn-redis-{how}.log"
        try:
            wait_for_port(redis_port, redis)
            env = {**env_for(db_url), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
            gunicorn, port = start_gunicorn(env, log_path, (path,))
            try:
                log(f"wrk {seconds} s: gunicorn drug page with Redis {how} at {seconds / 2:.0f} s")
                timer = threading.Timer(seconds / 2, redis.send_signal, [outage])
                timer.start()
                try:
                    result = wrk(f"http://127.0.0.1:{port}{path}", seconds, connections)
                finally:
                    timer.cancel()
                memory = tree_rss(gunicorn)
            finally:
                stop(gunicorn)
        finally:
            redis.send_signal(signal.SIGCONT)
            stop(redis)
        outages = log_path.read_text(errors="replace").count("Redis unavailable")
        met = not result["errors"] and not result["non2xx"] and outages
        add(
            "Reliability",
            f"gunicorn, 2 sync workers: drug page, Redis cache {how} half-way through wrk",
            fmt_wrk(result),
            f"outage seen {outages}× in the workers' log; 0 errors and 0 non-2xx {'met' if met else 'MISSED'}; "
            f"gunicorn {memory}",
        )
        ratio = result["rps"] / normal_rps
        add(
            "Reliability",
            f"Redis-{how} throughput ÷ normal throughput (drug page)",
            f"{ratio:.2f}",
            f"{result['rps']:,.0f} ÷ {normal_rps:,.0f} req/s; target ≥ 0.70 (an outage costs ≤ 30 %) "
            + ("met" if ratio >= 0.7 else "MISSED"),
        )


def bench_throughput(work: Path, db_url: str, pages: dict) -> None:
    if not ensure_packages():
        add("Throughput", "gunicorn and nginx under wrk", "not run", "wrk/nginx unavailable")
        return
    seconds = int(os.environ.get("BENCH_WRK_SECONDS", "30"))
    connections = int(os.environ.get("BENCH_WRK_CONNECTIONS", "50"))
    path = pages["pages"]["small"]["path"]
    flat_path = pages["pages"]["small"]["flat_path"]
    html = (work / "www" / path.strip("/") / "index.html").read_bytes()  # written by the page worker
    cached = "cached" if pages["page_cache_in_code"] else "no page cache in the code"

    gunicorn, port = start_gunicorn(env_for(db_url), work / "gunicorn.log", (path, flat_path))
    try:
        log(f"wrk {seconds} s, {connections} connections: gunicorn drug page {path}")
        result = wrk(f"http://127.0.0.1:{port}{path}", seconds, connections)
        normal_rps = result["rps"]
        met = result["rps"] >= 1000 and not result["errors"] and not result["non2xx"]
        note = f"target ≥ 1,000 req/s and 0 errors {'met' if met else 'MISSED'} ({cached})"
        add("Throughput", "gunicorn, 2 sync workers: drug page", fmt_wrk(result), note)
        log(f"wrk {seconds} s: gunicorn flatpage floor {flat_path}")
        result = wrk(f"http://127.0.0.1:{port}{flat_path}", seconds, connections)
        add("Throughput", "gunicorn, 2 sync workers: flatpage, same HTML", fmt_wrk(result), "Django's floor")
        add("Memory", "gunicorn (after both runs)", tree_rss(gunicorn), "")
    finally:
        stop(gunicorn)

    bench_cache_outage(work, db_url, path, seconds, connections, normal_rps)

    port, root = free_port(), readable_copy(work / "www")
    nginx = start(["nginx", "-c", str(nginx_config(work, root, port)), "-e", str(work / "nginx" / "error.log")])
    try:
        wait_for_port(port, nginx)
        check_serves(f"http://127.0.0.1:{port}{path}", html)
        log(f"wrk {seconds} s: nginx static file")
        result = wrk(f"http://127.0.0.1:{port}{path}", seconds, connections)
        add("Throughput", "nginx, 2 workers: same HTML as a static file", fmt_wrk(result), "static floor")
        add("Memory", "nginx", tree_rss(nginx), "")
    finally:
        stop(nginx)
        shutil.rmtree(root, ignore_errors=True)


def machine() -> str:
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    mem = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    return (
        f"{os.cpu_count()} CPUs ({cpu.group(1) if cpu else 'unknown CPU'}), "
        f"{int(mem.group(1)) / 1048576:.0f} GiB RAM, Python {platform.python_version()}, {platform.platform()}"
    )


def print_table() -> None:
    headers = ("section", "measurement", "figure", "baseline / target / note")
    widths = [max(len(headers[i]), *(len(row[i]) for row in ROWS)) for i in range(4)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    print()
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in ROWS:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
    print()


def main() -> int:
    sizes = sorted({int(s) for s in os.environ.get("BENCH_SIZES", "1000,20000").split(",") if s.strip()})
    seed = int(os.environ.get("BENCH_SEED", "1"))
    resume = bool(os.environ.get("BENCH_WORK"))
    keep = bool(os.environ.get("BENCH_KEEP")) or resume
    if os.environ.get("BENCH_WORK"):
        work = Path(os.environ["BENCH_WORK"]).resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="drugref-bench-"))
    began = time.monotonic()

    def interrupted(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    log(f"work directory {work}; sizes {sizes}; machine: {machine()}")
    try:
        databases = bench_import(work, sizes, seed)
        idle_mb = idle_rss_mb(env_for(databases[min(sizes)]))
        loaded = {size: bench_loaddata(work, size, databases[size], resume, idle_mb) for size in sizes}
        pages = bench_pages(work, databases[min(sizes)], min(sizes))
        bench_search(work, databases, loaded, keep={max(sizes)} if resume else set())
        bench_throughput(work, databases[min(sizes)], pages)
        bench_render(databases[min(sizes)])
        bench_consistency(databases)  # on copies of the import databases
    finally:
        stop_all()
        for size in sizes:  # a database left by an interrupted run (BENCH_WORK keeps the largest)
            if not (resume and size == max(sizes)):
                with contextlib.suppress(Exception):
                    drop_pg_database(PG_SERVER, f"{PG_PREFIX}_search_{size}")
        if keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        if ROWS:
            print(f"drugref benchmark — {time.strftime('%Y-%m-%d %H:%M')} — {machine()}")
            print(
                f"corpus seed {seed}, sizes {', '.join(f'{s:,}' for s in sizes)}; "
                f"took {(time.monotonic() - began) / 60:.1f} min"
            )
            print_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
