"""Admin log-in throttling (django-axes with monographs/logins.py): the bypasses of the old throttle stay shut.

Defaults: an account is locked after 5 failures at it, an address after 20 failures from it, for 15
minutes after the last attempt.  Every test user's password is "pw".
"""

import json
import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from monographs.logins import client_address

from .conftest import ROOT, make_user

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20


def attempt(client, name: str, password: str, **environ) -> int:
    return client.post(LOGIN, {"username": name, "password": password}, **environ).status_code


def logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def fail_from(client, count: int, **environ) -> list[int]:
    """`count` failures spread over fresh names, fewer than the account limit each: only the address adds up."""
    return [attempt(client, f"nobody{i // (ACCOUNT_LIMIT - 1)}", "wrong", **environ) for i in range(count)]


def test_the_lockout_page_answers_429_and_says_when_to_try_again(client):
    make_user("alice")
    assert [attempt(client, "alice", "wrong") for _ in range(ACCOUNT_LIMIT)] == [200] * 4 + [429]
    response = client.post(LOGIN, {"username": "alice", "password": "pw"})
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    text = response.content.decode()
    assert "Too many failed log-in attempts" in text and "Try again after" in text and "in 15 minutes" in text
    assert not logged_in(client)


def test_a_look_alike_name_counts_against_the_account_it_logs_in_to(client):
    make_user("publisher")
    assert attempt(client, "ｐｕｂｌｉｓｈｅｒ", "pw") == 302  # Django normalises the name (NFKC) and logs in
    client.logout()
    spellings = ["ｐｕｂｌｉｓｈｅｒ", "ＰＵＢＬＩＳＨＥＲ", "Publisher", " publisher ", "ｐublisher"]
    assert [attempt(client, name, "wrong") for name in spellings] == [200] * 4 + [429]
    assert attempt(client, "publisher", "pw") == 429
    assert not logged_in(client)


def test_logging_in_to_ones_own_account_resets_nobody_elses_count(client):
    """The old bypass: four guesses at someone else's account, a good log-in to one's own, over and over."""
    make_user("publisher")
    make_user("mallory")
    guesses = []
    for _ in range(3):
        guesses += [attempt(client, "publisher", f"guess{len(guesses)}") for _ in range(4)]
        assert attempt(client, "mallory", "pw") == 302
        client.logout()
    assert guesses.count(200) == ACCOUNT_LIMIT - 1
    assert attempt(client, "publisher", "pw") == 429


def test_one_locked_account_leaves_the_others_open_until_the_address_limit(client):
    make_user("alice")
    make_user("bob")
    [attempt(client, "alice", "wrong") for _ in range(ACCOUNT_LIMIT)]
    assert attempt(client, "alice", "pw") == 429
    assert attempt(client, "bob", "pw") == 302  # same address, 6 failures from it so far
    client.logout()

    fail_from(client, ADDRESS_LIMIT)
    assert attempt(client, "bob", "pw") == 429  # now the address is locked: bob, from here, too
    assert attempt(client, "bob", "pw", REMOTE_ADDR="192.0.2.9") == 302  # and only from here


def test_behind_a_proxy_clients_are_counted_by_the_address_the_proxy_saw(client, settings):
    settings.NUM_PROXIES = 1
    make_user("bob")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    # The attacker writes a new address into X-Forwarded-For each time; the proxy appends the real one.
    statuses = [
        attempt(client, f"nobody{i // 4}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}, 198.51.100.1", **proxy)
        for i in range(ADDRESS_LIMIT)
    ]
    assert statuses[-1] == 429
    assert attempt(client, "bob", "pw", HTTP_X_FORWARDED_FOR="203.0.113.250, 198.51.100.1", **proxy) == 429
    # Another client behind the same proxy is not locked out with the attacker.
    assert attempt(client, "bob", "pw", HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy) == 302


def test_without_a_proxy_a_forged_forwarded_for_is_ignored(client, settings):
    settings.NUM_PROXIES = 0
    make_user("bob")
    statuses = [
        attempt(client, f"nobody{i // 4}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}") for i in range(ADDRESS_LIMIT)
    ]
    assert statuses[-1] == 429
    assert attempt(client, "bob", "pw", HTTP_X_FORWARDED_FOR="198.51.100.77") == 429
    assert attempt(client, "bob", "pw", REMOTE_ADDR="192.0.2.9") == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "198.51.100.1", "192.0.2.1", "192.0.2.1"),  # no proxy: the header is the client's own words
        (1, "198.51.100.1", "10.0.0.2", "198.51.100.1"),
        (1, "203.0.113.9, 198.51.100.1", "10.0.0.2", "198.51.100.1"),  # left of the proxy's entry: forged
        (1, '203.0.113.9, "x, 198.51.100.1', "10.0.0.2", "198.51.100.1"),  # a quote cannot hide the proxy's entry
        (2, "203.0.113.9, 198.51.100.1, 10.0.0.1", "10.0.0.2", "198.51.100.1"),
        (1, None, "10.0.0.2", "10.0.0.2"),  # not through the proxy: the socket's address
        (2, "198.51.100.1", "10.0.0.2", "10.0.0.2"),  # fewer entries than proxies: misconfigured, not trusted
        (1, "garbage", "10.0.0.2", "10.0.0.2"),
    ],
)
def test_the_client_address_is_read_only_as_far_as_the_proxies_wrote_it(settings, proxies, forwarded, remote, expected):
    settings.NUM_PROXIES = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().post(LOGIN, REMOTE_ADDR=remote, **headers)
    assert client_address(request) == expected


SETUP = """
from django.contrib.auth.models import User
User.objects.create_user("alice", password="pw", is_staff=True)
"""

ATTEMPTS = """
import json, os
from django.test import Client
client = Client()
passwords = os.environ["PASSWORDS"].split(",")
print(json.dumps([client.post("/admin/login/", {"username": "alice", "password": p}).status_code for p in passwords]))
"""


@pytest.mark.slow
def test_two_processes_share_the_counter(migrated_copy):
    """Two app processes (as two gunicorn workers or two servers) with one database count the same failures."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")},
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{migrated_copy('shared.sqlite3')}",
        "SECRET_KEY": "tests-only-secret-key-not-for-any-deployment-0123456789",
        "DEBUG": "false",
        "HTTPS": "false",
        "ALLOWED_HOSTS": "testserver",
        "STATIC_MANIFEST": "false",
    }

    def run(script: str, passwords: str = "") -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
            cwd=ROOT,
            env={**env, "PASSWORDS": passwords},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    # The first process makes alice (a process start less than a setup process of its own), then fails three times.
    assert json.loads(run(SETUP + ATTEMPTS, "wrong,wrong,wrong")) == [200, 200, 200]
    # A second process: two failures of its own would leave alice open; the first process's three lock her.
    assert json.loads(run(ATTEMPTS, "wrong,wrong,pw")) == [200, 429, 429]
