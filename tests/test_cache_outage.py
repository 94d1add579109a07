"""A real Redis (a private redis-server) stopped or frozen in the middle of a run: pages keep coming.

The suite's other cache tests use the local-memory cache; these start `redis-server` on a free port,
point the cache at it with the production options, and then stop it (connections refused) or freeze it
with SIGSTOP (connections hang), which is what an outage looks like to an app server.
"""

import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
from django.core.cache import cache
from django.test import Client

from monographs.cache import OUTAGE

from .conftest import make_user

REDIS_SERVER = shutil.which("redis-server")
INSTALL_HINT = "These tests start a private Redis: `sudo apt-get install redis-server`."
PAGES = ("/drugs/denosumab/", "/monographs/denosumab-patient-information/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server of the test's own, which keeps nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not listen on {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait()

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_cache(settings):
    """The default cache on a private Redis with the production options (`outage_pause` overridable)."""
    if REDIS_SERVER is None:
        if os.environ.get("DRUGREF_REQUIRE_REDIS"):
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    server = Redis()
    server.start()

    def use(**options):
        settings.CACHES = {  # Django's setting_changed handler swaps the cache backend
            "default": {
                "BACKEND": "monographs.cache.RedisCache",
                "LOCATION": server.url,
                "OPTIONS": {**settings.REDIS_CACHE_OPTIONS, **options},
            }
        }
        return server

    OUTAGE.until = 0.0
    yield use
    server.stop()
    OUTAGE.until = 0.0


def pages(client) -> dict[str, bytes]:
    answers = {url: client.get(url) for url in PAGES}
    assert [response.status_code for response in answers.values()] == [200] * len(PAGES)
    return {url: response.content for url, response in answers.items()}


@pytest.mark.django_db
def test_pages_come_from_redis_while_it_is_up(client, seeded, redis_cache, django_assert_num_queries):
    redis_cache()
    pages(client)
    with django_assert_num_queries(1):  # the page came from Redis: only the stamp (revision, generation) was asked
        client.get(PAGES[0])


@pytest.mark.django_db
def test_pages_survive_redis_stopping_mid_run_and_use_it_again_when_it_is_back(
    client, seeded, redis_cache, django_assert_num_queries
):
    server = redis_cache(outage_pause=30)  # long enough to outlast a slow, shared machine's page renders
    expected = pages(client)

    server.stop()
    assert pages(client) == expected
    assert OUTAGE.active()
    assert client.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 200
    make_user("alice")  # log-in throttling counts in the database, so log-in works without Redis
    assert Client().post("/admin/login/", {"username": "alice", "password": "pw"}).status_code == 302

    server.start()
    OUTAGE.until = time.monotonic()  # the outage pause runs out (as it would after 30 s)
    assert pages(client) == expected  # rendered, and stored in Redis again
    with django_assert_num_queries(1):
        client.get(PAGES[0])


@pytest.mark.django_db
def test_a_frozen_redis_costs_one_timeout_not_one_per_cache_call(client, seeded, redis_cache):
    """Without the outage pause each of these 40 requests would wait out two socket timeouts (the page
    cache's read, the rendered body's read): ~40 s with the production 0.5 s, minutes with redis-py's
    default 5 s.  A watchdog thaws Redis after 30 s so that a regression fails here, visibly."""
    server = redis_cache(outage_pause=60)
    expected = pages(client)
    server.freeze()
    thawed = threading.Event()
    watchdog = threading.Timer(30, lambda: (thawed.set(), server.thaw()))
    watchdog.start()
    try:
        for _ in range(20):
            assert pages(client) == expected
    finally:
        watchdog.cancel()
        server.thaw()
    assert not thawed.is_set(), "requests waited on the frozen Redis until the watchdog thawed it"
    assert OUTAGE.active()


@pytest.mark.django_db
def test_the_outage_is_remembered_only_for_connection_failures(redis_cache):
    redis_cache()
    cache.set("counter", 1)
    with pytest.raises(ValueError):
        cache.incr("no-such-key")  # an ordinary cache answer, not an outage
    assert not OUTAGE.active()
    assert cache.incr("counter") == 2


@pytest.mark.django_db
def test_an_outage_is_logged_once_not_once_per_cache_call(client, seeded, redis_cache, caplog):
    server = redis_cache()
    pages(client)
    server.stop()
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            pages(client)
    warnings = [(record.name, record.getMessage(), bool(record.exc_info)) for record in caplog.records]
    assert [(name, traceback) for name, _, traceback in warnings] == [
        ("monographs.cache", False),  # "Redis unavailable (…); cache bypassed for 10.0 s"
        ("monographs.pagecache", True),  # the call that met the outage, with its traceback
    ], warnings


@pytest.mark.django_db
@pytest.mark.parametrize("outage", ["stop", "freeze"])
def test_while_redis_is_down_each_process_serves_its_copies_of_the_pages(
    client, seeded, redis_cache, django_assert_num_queries, outage
):
    """Pages served before the outage cost their stamp only (monographs/pagecache.py, KeptPages)."""
    server = redis_cache(outage_pause=30)
    expected = pages(client)
    getattr(server, outage)()
    with django_assert_num_queries(len(PAGES)):
        assert pages(client) == expected
    assert OUTAGE.active()
