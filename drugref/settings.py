"""drugref settings, read from the environment.

SQLite is the default so a fresh clone runs without any server; DATABASE_URL selects PostgreSQL
(psycopg 3) and REDIS_URL the Redis cache.  See README.md for every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean; an unrecognised value is an error, never a silent False."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use one of: 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """Read a whole number; anything else (or below `minimum`) is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number of at least {minimum}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "monographs.admin_site.DrugrefAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "markdownx",
    "axes",
    "monographs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "monographs.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETag from the response body and 304 for a matching If-None-Match / If-Modified-Since.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "monographs.middleware.LegacyPathRedirectMiddleware",
    # Last, as django-axes asks: turns a refused log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes' backend first: it refuses a locked-out attempt before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "drugref.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "drugref.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}

# A Redis that stops answering must cost a request half a second once, not seconds per cache call (redis-py
# waits 5 s by default, and a page makes three or four calls); monographs.cache then leaves Redis alone for
# `outage_pause` seconds, so the pages that follow render uncached at once.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "outage_pause": 10}
# While the cache is down, each process serves its own copies of the pages it served lately, checked
# against the page's stamp (monographs/pagecache.py, KeptPages): at most this many bytes per process.
KEPT_PAGES_BYTES = env_int("KEPT_PAGES_BYTES", 8 * 1024 * 1024)
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "monographs.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Admin log-in throttling (django-axes; monographs/logins.py says what each hook is for).  Failures are
# counted in the database, so every worker and app server shares them: an account is locked after
# LOGIN_FAILURE_LIMIT failures at it from anywhere, an address after LOGIN_ADDRESS_FAILURE_LIMIT failures
# from it at any accounts, for LOGIN_LOCKOUT_MINUTES after the last attempt.  A successful log-in resets
# nothing: resetting the address's failures would let one's own account wipe the guesses at another's.
NUM_PROXIES = env_int("NUM_PROXIES", 0)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_HANDLER = "monographs.logins.AccountOrAddressHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "monographs.logins.login_name"
AXES_CLIENT_IP_CALLABLE = "monographs.logins.client_address"
AXES_LOCKOUT_CALLABLE = "monographs.logins.lockout_response"
AXES_RESET_ON_SUCCESS = False
# An attempt while locked counts too, so the lock ends LOGIN_LOCKOUT_MINUTES after the last one (the page says so).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# No table of every successful log-in (addresses, user agents) that nothing reads and nothing prunes.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded images: on this server's disk (MEDIA_ROOT) by default; in an S3-compatible bucket when
# AWS_STORAGE_BUCKET_NAME is set, so that every app server sees every upload.  Credentials come from the
# environment as boto3 reads them (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or an instance role).  Either
# way drugref serves the images at MEDIA_URL itself (monographs.uploads.serve_media): the bucket stays private.
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    MEDIA_STORAGE = {
        "BACKEND": "monographs.storage.MediaBucketStorage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "default_acl": None,  # the bucket's own policy: private
            "file_overwrite": False,  # names are random already; never replace another server's image
        },
    }
elif os.environ.get("AWS_S3_ENDPOINT_URL"):
    # Without the bucket each server would keep its own uploads on its own disk, and half would be missing.
    raise ImproperlyConfigured("AWS_S3_ENDPOINT_URL is set but AWS_STORAGE_BUCKET_NAME is not: name the bucket.")
else:
    MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        # Hashed, compressed names need `collectstatic`; development and tests serve files as they are.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# Format A sources (the patient-information site): a page whose `uri` starts with this is a drug page;
# any other page whose title names no known drug is a topic (README, "Topics").  Empty: every page is a drug's.
DRUGREF_MEDICATION_URI_PREFIX = os.environ.get("DRUGREF_MEDICATION_URI_PREFIX", "treatment/other/medication/")

# One renderer for pages, the admin's live preview, feeds and exports.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "monographs.rendering.render_markdown"
MARKDOWNX_MEDIA_PATH = "markdownx/"
MARKDOWNX_UPLOAD_MAX_SIZE = 2 * 1024 * 1024
MARKDOWNX_UPLOAD_CONTENT_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
# Width × height × frames: 2 MB of GIF or PNG can declare gigapixels, and decoding costs memory per pixel.
UPLOAD_MAX_PIXELS = 16_000_000

# Production hardening; `manage.py check --deploy` passes with DEBUG off and HTTPS on.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("HTTPS", not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # axes narrates every attempt at INFO; its warnings (a failure, a lockout) are the ones worth keeping.
        "axes": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) printed each of its lines a second time beside the root's.
        "django": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": False},
    },
}

# Fixtures (dumpdata/loaddata): Django's JSON format, with natural keys read once each.
SERIALIZATION_MODULES = {"json": "monographs.serializers"}

# E-mail (workflow notifications, monographs/notifications.py): printed to the console in development;
# in production SMTP from the environment (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
# EMAIL_USE_TLS), or any backend named by EMAIL_BACKEND.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "drugref <drugref@localhost>")
# Where the admin is reached, for the links in e-mails (no trailing slash).
DRUGREF_ADMIN_URL = os.environ.get("DRUGREF_ADMIN_URL", "http://127.0.0.1:8000").rstrip("/")
