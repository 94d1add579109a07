"""Database tests in an order that puts seeded ones first, run by tests/test_kept_seed.py in a pytest of its own.

Loaded as a plugin too (`-p tests.seed_probe`), so that its `pytest_collection_modifyitems` runs the tests
in the order written here, whatever order the suite's conftest would give them.  Not collected by the suite
(no test_ prefix); imports are inside the tests because a plugin loads before Django is set up.
"""

import pytest


def seed_is_there() -> bool:
    from monographs.models import Monograph

    return Monograph.objects.filter(slug="denosumab").exists()


def rows() -> int:
    from .conftest import row_counts

    return sum(row_counts().values())


def test_seeded(seeded):
    assert seed_is_there()


def test_plain_database_test_sees_no_seed(db):
    assert rows() == 0


@pytest.mark.django_db(transaction=True)
def test_transactional_seeded(seeded):
    assert seed_is_there()


def test_seeded_again(seeded):
    assert seed_is_there()


@pytest.mark.django_db
def test_marked_database_test_sees_no_seed():
    assert rows() == 0


def test_seeded_after_a_marked_test(seeded):
    assert seed_is_there()


@pytest.mark.django_db(transaction=True)
def test_transactional_test_sees_no_seed():
    assert rows() == 0


def test_seeded_at_the_end(seeded):
    assert seed_is_there()


ORDER = [name for name in dict(globals()) if name.startswith("test_")]


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(items):
    yield
    items.sort(key=lambda item: ORDER.index(item.name))
