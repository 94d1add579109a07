"""Loaded by pytest (`-p tests.environment`) before Django reads its settings."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-deployment-0123456789")
os.environ.setdefault("DEBUG", "false")
os.environ["HTTPS"] = "false"
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("STATIC_MANIFEST", "false")
# pytest-django's live_server and Playwright's sync API share the thread that runs the tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
