"""The seed is loaded once per test database and kept (tests/conftest.py): a test that asked for it finds it,
one that did not finds an empty database, in any order the tests run in."""

import os
import subprocess
import sys

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_each_test_sees_the_seed_only_if_it_asked_whatever_the_order():
    env = dict(os.environ)
    if env.get("DATABASE_URL"):  # a database of its own: the suite's test database may be in use right now
        env["DATABASE_URL"] = env["DATABASE_URL"].split("?")[0].rstrip("/") + "_seed_probe"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.seed_probe",
            "tests/seed_probe.py",
            "-v",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    ran = [
        line.split("::")[1].split()[0] for line in result.stdout.splitlines() if " PASSED" in line or " FAILED" in line
    ]
    assert ran[:3] == ["test_seeded", "test_plain_database_test_sees_no_seed", "test_transactional_seeded"], ran
    assert result.returncode == 0, result.stdout[-3000:]
    assert len(ran) == 8
