import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command

from monographs.models import (
    FAQ,
    Alias,
    Author,
    BrandName,
    Comparison,
    ComparisonAttribute,
    ComparisonCell,
    ComparisonSubject,
    Credit,
    Drug,
    DrugClass,
    LegacyPath,
    Monograph,
    Revision,
    Topic,
    WorkflowEvent,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "fixtures" / "sources"
SEED_A = SOURCES / "000_aba5f8a705253caf.txt"
SEED_B = SOURCES / "001_cd223eb3d23ec8b2.txt"
EXAMPLES = Path(__file__).resolve().parent / "documents"

CONTENT_MODELS = [
    DrugClass,
    Drug,
    Alias,
    BrandName,
    Author,
    Topic,
    Monograph,
    LegacyPath,
    Revision,
    Credit,
    FAQ,
    Comparison,
    ComparisonSubject,
    ComparisonAttribute,
    ComparisonCell,
    WorkflowEvent,
]


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in CONTENT_MODELS}


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: rolled-back tests reuse primary keys, and so cache keys."""
    from django.core.cache import cache

    from monographs.pagecache import KEPT

    cache.clear()
    KEPT.clear()  # each process's copies of pages for a cache outage: keyed the same way


# The seed, loaded once and kept -------------------------------------------------------------------
#
# Loading the seed (loaddata, then the search index it rebuilds) costs far more than most tests that use
# it, and about half the suite does.  So it is loaded into each test database once, outside any test's
# transaction, and every `seeded` test runs in a transaction rolled back over it, as before.  Tests that
# did not ask for the seed must not see it: the seeded tests are ordered after the others (below), and a
# test that meets the kept seed all the same (an order changed by --ff, say) has it deleted first.  A
# transactional test's flush deletes it too; the next `seeded` test loads it again.


class KeptSeed:
    """Whether the seed is committed in this process's test database (None: not known yet)."""

    committed: bool | None = None

    @staticmethod
    def load():
        call_command("loaddata", "seed", verbosity=0)  # the project's loaddata also builds the search index

    @staticmethod
    def present() -> bool:
        return Monograph.objects.filter(slug="denosumab").exists()

    @classmethod
    def commit(cls):
        """Load the seed outside any test's transaction, unless it is there already."""
        from django.db import connection

        if cls.committed is None:
            cls.committed = cls.present()
        if not cls.committed and not connection.in_atomic_block:
            cls.load()
            cls.committed = True

    @classmethod
    def remove(cls):
        """Empty the app's tables (the migrations put no row in them); inside a test's transaction if one is open."""
        from django.apps import apps
        from django.core.management.color import no_style
        from django.db import connection, transaction

        tables = [model._meta.db_table for model in apps.get_app_config("monographs").get_models()]
        rolled_back = connection.in_atomic_block
        with transaction.atomic():
            for sql in connection.ops.sql_flush(no_style(), tables, allow_cascade=True):
                connection.cursor().execute(sql)
        if not rolled_back:
            cls.committed = False


def uses_database(item) -> tuple[bool, bool]:
    """(uses the database, transactionally), as pytest-django decides it."""
    from pytest_django.plugin import validate_django_db

    marker = item.get_closest_marker("django_db")
    transactional = bool(marker and any(validate_django_db(marker)[:2]))
    names = getattr(item, "fixturenames", ())
    transactional = transactional or "transactional_db" in names or "live_server" in names
    return bool(marker) or "db" in names or transactional, transactional


@pytest.hookimpl(trylast=True)  # after pytest-django's own order
def pytest_collection_modifyitems(items):
    """Slow tests first where the order allows it, so that parallel workers do not wait on one at the end; then
    tests without the database, then database tests in a transaction, those without the seed first (so it is
    loaded once), then transactional ones (their flush empties the database)."""

    def order(item) -> tuple[int, bool]:
        database, transactional = uses_database(item)
        slow = item.get_closest_marker("slow") is not None
        if not database or transactional:
            return (0 if slow else 1 if not database else 4), not slow
        return (3 if "seeded" in item.fixturenames else 2), not slow

    items.sort(key=order)


@pytest.fixture(scope="module")
def kept_seed(django_db_setup, django_db_blocker):
    """Module-scoped, so it runs before the test's transaction is opened."""
    with django_db_blocker.unblock():
        KeptSeed.commit()


@pytest.fixture
def seeded(kept_seed, db):
    if not KeptSeed.present():  # flushed by a transactional test, or removed for a test without the seed
        KeptSeed.load()


@pytest.fixture(autouse=True)
def unseeded_unless_asked(request):
    """A database test that did not ask for the seed sees none; a transactional one leaves none behind."""
    database, transactional = uses_database(request.node)
    if database and "seeded" not in request.fixturenames and KeptSeed.committed is not False:
        with request.getfixturevalue("django_db_blocker").unblock():
            if KeptSeed.committed is None:  # a database kept from an earlier run (--reuse-db) may hold it
                request.getfixturevalue("django_db_setup")
                KeptSeed.committed = KeptSeed.present()
            if KeptSeed.committed:
                KeptSeed.remove()
    yield
    if transactional:
        KeptSeed.committed = False  # its flush empties every table


def ensure_groups():
    """The editorial groups, as the data migration makes them (a transactional test's flush drops them)."""
    from importlib import import_module

    from django.contrib.auth.models import Group, Permission

    groups = {
        name: list(codenames)
        for name, codenames in import_module("monographs.migrations.0003_editorial_groups").GROUPS.items()
    }
    guarantee = import_module("monographs.migrations.0011_editorial_guarantee")
    for name in guarantee.PROPOSERS:
        groups[name] += ["propose_change", "view_proposedchange"]
    groups["Proof-readers"] += ["view_proposedchange"]
    for name, codenames in import_module("monographs.migrations.0012_topics").TOPIC_PERMISSIONS.items():
        groups[name] += codenames
    for name, codenames in groups.items():
        group, created = Group.objects.get_or_create(name=name)
        if created:
            group.permissions.set(
                Permission.objects.filter(content_type__app_label="monographs", codename__in=codenames)
            )


def make_user(username: str, *groups: str, **extra):
    from django.contrib.auth.models import Group, User

    ensure_groups()
    first, last = username.capitalize(), "Tester"
    user = User.objects.create_user(username, password="pw", is_staff=True, first_name=first, last_name=last, **extra)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


def add_dental_monograph(client):
    """Create “Denosumab and dental treatment” (a patient monograph of the seed's drug) through the admin's
    add form, as a browser posts it, as whoever `client` is logged in as."""
    from django.urls import reverse

    from monographs.models import Drug

    return client.post(
        reverse("admin:monographs_monograph_add"),
        {
            "drug": Drug.objects.get(slug="denosumab").pk,
            "slug": "denosumab-dental",
            "kind": "patient",
            "review_interval_months": 12,
            "title": "Denosumab and dental treatment",
            "legacy_paths-TOTAL_FORMS": 0,
            "legacy_paths-INITIAL_FORMS": 0,
            "revisions-TOTAL_FORMS": 0,
            "revisions-INITIAL_FORMS": 0,
        },
    )


def admin_form_data(client, url: str) -> dict:
    """An admin change form's fields (its inlines' too) as the browser would send them back."""
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {name: form[name].value() if form[name].value() is not None else "" for name in form.fields}
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for inline_form in formset.formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is not None and value is not False:
                    data[inline_form.add_prefix(name)] = value.pk if hasattr(value, "pk") else value
    return data


@pytest.fixture
def alice(db):
    """An author."""
    return make_user("alice", "Authors")


@pytest.fixture
def bob(db):
    """A proof-reader."""
    return make_user("bob", "Proof-readers")


@pytest.fixture
def carol(db):
    """A publisher."""
    return make_user("carol", "Publishers")


@pytest.fixture
def oscar(db):
    """An outsider: staff login, no editorial group."""
    return make_user("oscar")


@pytest.fixture
def root(db):
    """A superuser who also writes."""
    return make_user("root", is_superuser=True)


@pytest.fixture
def draft(seeded, alice):
    """Alice's draft of the denosumab reference monograph, started from the live revision."""
    return Monograph.objects.get(slug="denosumab").start_draft(alice)


@contextmanager
def run_template(tmp_path_factory):
    """The run's migrated template file, held under a lock: (path, whether it is there yet).

    One per run, whichever pytest-xdist worker makes it: the workers' temporary directories share a parent,
    and a lock on a file there makes the others wait for the first one's copy."""
    import fcntl
    import os

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    path = shared / "migrated-template.sqlite3"
    with open(shared / "migrated-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield path, path.exists()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, tmp_path_factory):
    """pytest-django's test database.  On SQLite it is also written out as the run's migrated template (see
    migrated_sqlite) by the first worker to make one: just migrated, before any test has touched it, it holds
    what `manage.py migrate` would write, and copying it costs nothing where a migration costs seconds."""
    import sqlite3

    from django.db import connection

    # In memory: the test database (pytest-django makes none when no collected test asks for the database).
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        with run_template(tmp_path_factory) as (path, made), django_db_blocker.unblock():
            if not made:
                partial = path.with_suffix(".partial")
                partial.unlink(missing_ok=True)
                connection.ensure_connection()
                target = sqlite3.connect(partial)
                connection.connection.backup(target)
                target.close()
                partial.rename(path)
    yield


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory, request):
    """An empty SQLite file migrated as by `manage.py migrate`, for the tests that run the project in processes
    of their own: each copies it (migrating cost ~4 s of CPU a time; copying, nothing).

    On SQLite it is the test database as pytest-django made it (django_db_setup above); on PostgreSQL,
    `manage.py migrate` makes it in a child process."""
    import os
    import subprocess
    import sys

    from django.db import connection

    if connection.vendor == "sqlite":
        request.getfixturevalue("django_db_setup")
    with run_template(tmp_path_factory) as (path, made):
        if not made:
            partial = path.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            env = {**os.environ, "DATABASE_URL": f"sqlite:///{partial}", "DJANGO_SETTINGS_MODULE": "tests.settings"}
            result = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert result.returncode == 0, result.stderr
            partial.rename(path)
    return path


@pytest.fixture
def migrated_copy(migrated_sqlite, tmp_path):
    """A copy of the migrated SQLite file: copy(name) → its path in this test's directory."""

    def copy(name: str = "db.sqlite3") -> Path:
        target = tmp_path / name
        shutil.copyfile(migrated_sqlite, target)
        return target

    return copy


@pytest.fixture
def sources_dir(tmp_path):
    """A scratch copy of the seed sources that a test may add files to."""
    target = tmp_path / "sources"
    shutil.copytree(SOURCES, target)
    return target


@pytest.fixture
def write_source(tmp_path):
    """Write a source document (str or bytes) into a scratch directory and return its path."""
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)

    def write(name: str, content: str | bytes) -> Path:
        path = folder / name
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    return write


from .browser import browser, page_at  # noqa: E402,F401  (fixtures shared by the browser tests)
