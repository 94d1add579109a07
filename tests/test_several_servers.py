"""Several app servers behind one proxy: two gunicorn processes, one PostgreSQL, one Redis, one bucket.

Each server is started as an operator starts one (`gunicorn drugref.wsgi`, DEBUG off) on a loopback port of
its own, with the test database's DATABASE_URL, a private redis-server's REDIS_URL and a moto S3 bucket, and
a local MEDIA_ROOT of its own that must stay empty.  A person's cookies go to both, as behind a proxy that
sends each request to either.  What one server does, the other must show at once.
"""

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import redis
from django.db import connection, connections, transaction
from django.utils import timezone

from monographs.models import Monograph, Revision, WorkflowEvent
from monographs.workflow import publish_due

from .conftest import ROOT, make_user
from .s3 import CREDENTIALS, new_bucket, s3_endpoint_fixture  # noqa: F401
from .test_cache_outage import INSTALL_HINT, REDIS_SERVER, Redis, free_port
from .test_uploads import HTML, png
from .test_workflow import to_approved

S = Revision.Status
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: the app servers are processes of their own that share its database (CI runs both)",
)
pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


# ------------------------------------------------------------------------------------------------
# A browser, and the servers


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 comes back as it is


class Browser:
    """One person's browser: one cookie jar for both servers (cookies ignore the port), no redirects followed."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirects)

    def request(self, url: str, data: bytes | None = None, headers: dict | None = None) -> Answer:
        try:
            with self.opener.open(urllib.request.Request(url, data=data, headers=headers or {}), timeout=60) as r:
                return Answer(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def get(self, url: str) -> Answer:
        return self.request(url)

    def csrf_token(self) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def post(self, url: str, fields: dict) -> Answer:
        data = urlencode({"csrfmiddlewaretoken": self.csrf_token(), **fields}).encode()
        return self.request(url, data, {"Content-Type": "application/x-www-form-urlencoded"})

    def log_in(self, server: str, username: str, password: str = "pw") -> Answer:
        assert self.get(f"{server}/admin/login/").status == 200  # sets the CSRF cookie
        return self.post(f"{server}/admin/login/", {"username": username, "password": password, "next": "/admin/"})

    def upload(self, server: str, name: str, content: bytes, content_type: str) -> Answer:
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Requested-With": "XMLHttpRequest",
            "X-CSRFToken": self.csrf_token(),
        }
        return self.request(f"{server}/markdownx/upload/", body, headers)


def database_url() -> str:
    """The test database (the one pytest-django made), as a DATABASE_URL for another process."""
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


class Server:
    """`gunicorn drugref.wsgi` on a free loopback port, as in production but for the test settings' hasher."""

    def __init__(self, env: dict, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "drugref.wsgi", "--bind", f"127.0.0.1:{self.port}"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn on {self.port} exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/robots.txt", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"gunicorn on {self.port} did not answer within 60 s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Site:
    a: Server
    b: Server
    env: dict
    media_roots: list[Path]
    bucket: object
    redis_url: str


@pytest.fixture(scope="module")
def redis_server():
    if REDIS_SERVER is None:
        if os.environ.get("DRUGREF_REQUIRE_REDIS"):
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    server = Redis()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def servers(django_db_setup, s3_endpoint, redis_server, tmp_path_factory):
    """Two app servers sharing the test database, a Redis and a bucket; each with an empty local MEDIA_ROOT."""
    tmp_path = tmp_path_factory.mktemp("servers")
    bucket = new_bucket(s3_endpoint)
    roots = [tmp_path / "media-a", tmp_path / "media-b"]
    base = {
        **os.environ,
        **CREDENTIALS,
        "DJANGO_SETTINGS_MODULE": "tests.settings",  # drugref's settings with the suite's fast password hasher
        "SECRET_KEY": "several-servers-test-secret-key-shared-by-both-0123456789",
        "DEBUG": "false",
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_MANIFEST": "false",
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "0",  # no connection outlives a request, so the test's flush never waits on one
        "REDIS_URL": redis_server.url,
        "AWS_STORAGE_BUCKET_NAME": bucket.name,
        "AWS_S3_ENDPOINT_URL": bucket.endpoint,
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",  # notifications go nowhere
        "LOGIN_FAILURE_LIMIT": "5",  # what the lock-out test counts to, whatever the developer's shell says
        "NUM_PROXIES": "0",
    }
    servers = []
    try:
        for root, name in zip(roots, "ab", strict=True):
            root.mkdir()
            servers.append(Server({**base, "MEDIA_ROOT": str(root)}, tmp_path / f"gunicorn-{name}.log"))
        for server in servers:
            server.wait_until_ready()
        yield Site(servers[0], servers[1], base, roots, bucket, redis_server.url)
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def site(servers):
    """The servers, with an empty cache: each test's database starts anew, and reuses primary keys."""
    redis.Redis.from_url(servers.redis_url).flushdb()
    return servers


# ------------------------------------------------------------------------------------------------
# What one server does, the other shows


def test_an_upload_through_one_server_is_served_by_the_other(site, seeded):
    make_user("alice", "Authors")
    browser = Browser()
    assert browser.log_in(site.a.url, "alice").status == 302

    answer = browser.upload(site.a.url, "fig.html", png() + HTML, "text/html")

    assert answer.status == 200, answer.body[:500]
    url = re.fullmatch(r"!\[\]\((/media/markdownx/[0-9a-f-]{36}\.png)\)", json.loads(answer.body)["image_code"])[1]
    stored = site.bucket.get(url.removeprefix("/media/"))["Body"].read()
    served = Browser().get(f"{site.b.url}{url}")  # a reader, on the other server
    assert served.status == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "sandbox"
    assert served.body == stored and HTML not in stored
    assert [list(root.iterdir()) for root in site.media_roots] == [[], []]  # neither kept it on its disk


def test_a_publish_through_one_server_changes_the_pages_on_the_other_at_once(site, seeded):
    """The monograph's own page, and a page that lists it (stale only through the shared content generation:
    with a cache of each server's own, the list would keep the old title for minutes)."""
    alice, bob = make_user("alice", "Authors"), make_user("bob", "Proof-readers")
    make_user("carol", "Publishers")
    draft = Monograph.objects.get(slug="denosumab").start_draft(alice)
    draft.title = "Denosumab, dose interval revised"
    draft = to_approved(draft, alice, bob)
    own, listing = f"{site.b.url}/drugs/denosumab/", f"{site.b.url}/monographs/denosumab-patient-information/"
    reader = Browser()
    for _ in range(2):  # the second answers come from the cache
        before = {url: reader.get(url) for url in (own, listing)}
        assert [answer.status for answer in before.values()] == [200, 200]
    assert "every 3 months" not in before[own].text and draft.title not in before[listing].text

    publisher = Browser()
    assert publisher.log_in(site.a.url, "carol").status == 302
    answer = publisher.post(
        f"{site.a.url}/admin/monographs/revision/{draft.pk}/workflow/publish/",
        {"confirm_publish": "on", "confirm_broken_links": "on"},
    )

    assert answer.status == 302
    assert Revision.objects.get(pk=draft.pk).status == S.PUBLISHED
    after = {url: reader.get(url) for url in (own, listing)}
    assert "every 3 months" in after[own].text  # the dose interval the new revision corrected
    assert after[own].text.count("every 6 months") == before[own].text.count("every 6 months") - 1
    assert draft.title in after[listing].text


def test_a_log_in_lock_out_counted_on_one_server_holds_on_the_other(site, db):
    make_user("carol", "Publishers")
    attacker = Browser()
    for _ in range(4):
        assert attacker.log_in(site.a.url, "carol", "guess").status == 200  # the form again, with its error
    assert attacker.log_in(site.b.url, "carol", "guess").status == 429  # the fifth failure, on the other server

    for server in (site.a, site.b):
        carol = Browser()
        refused = carol.log_in(server.url, "carol", "pw")  # the right password, from the same address
        assert refused.status == 429, server.url
        assert carol.get(f"{server.url}/admin/").status == 302  # not logged in: back to the log-in page


def editors():
    return make_user("alice", "Authors"), make_user("bob", "Proof-readers"), make_user("carol", "Publishers")


def scheduled(slug: str, alice, bob, carol) -> Revision:
    """A new revision of the monograph, approved and due to go live now."""
    draft = Monograph.objects.get(slug=slug).start_draft(alice)
    draft.summary = f"{draft.summary} Revised."
    draft.save_draft(alice, draft.version)
    draft.submit(alice, "Summary revised")
    draft.approve(bob)
    draft.schedule(carol, timezone.now(), confirm_broken_links=True)  # the seed links to pages drugref lacks
    return draft


GATED_COMMAND = """
import sys, time, django
django.setup()
from django.core.management import call_command
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
call_command("publish_scheduled")
"""


def test_publish_scheduled_started_on_both_servers_at_the_same_moment_publishes_once(site, seeded):
    """Each server's cron runs the command at the same minute: every due revision goes live once, and
    neither run reports the other's work as a refusal."""
    alice, bob, carol = editors()
    due = [scheduled(slug, alice, bob, carol) for slug in ("denosumab", "denosumab-patient-information")]
    start = time.time() + 5  # both processes are set up by then, and start the command together
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", GATED_COMMAND, str(start)],
            cwd=ROOT,
            env={**site.env, "MEDIA_ROOT": str(root)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for root in site.media_roots
    ]
    outputs = [run.communicate(timeout=120) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    for revision in due:
        assert Revision.objects.get(pk=revision.pk).status == S.PUBLISHED
        assert WorkflowEvent.objects.filter(revision=revision, details__action="publish").count() == 1
    assert sum(out.count("published r") for out, _ in outputs) == len(due), outputs
    assert [err for _, err in outputs] == ["", ""]
    assert all(out.endswith(" published, 0 refused\n") for out, _ in outputs), outputs


# ------------------------------------------------------------------------------------------------
# The lock that makes it so


def test_a_run_passes_over_a_monograph_that_another_is_publishing(seeded):
    """`publish_due` skips a monograph whose row another transaction holds, instead of waiting for it and then
    finding the revision already published; the next run publishes what it skipped."""
    alice, bob, carol = editors()
    held_revision = scheduled("denosumab", alice, bob, carol)
    free_revision = scheduled("denosumab-patient-information", alice, bob, carol)
    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Monograph.objects.select_for_update().get(slug="denosumab")
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    started = time.monotonic()
    try:
        published, refused = publish_due()
    finally:
        elapsed = time.monotonic() - started
        release.set()
        holder.join()

    assert elapsed < 5  # did not wait for the lock
    assert ([r.pk for r in published], refused) == ([free_revision.pk], [])
    assert Revision.objects.get(pk=held_revision.pk).status == S.APPROVED
    published, refused = publish_due()
    assert ([r.pk for r in published], refused) == ([held_revision.pk], [])
