"""Settings for the test suite: drugref's own, with a password hasher fit for tests.

Django's default PBKDF2 (1,000,000 iterations) costs most of a second per user a test creates or logs
in; what the suite checks is who may do what, not the strength of the hash.
"""

from drugref.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
