"""Django settings. What varies by deployment comes from the environment (see conf.py)."""

from __future__ import annotations

import ipaddress
import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from podsight import conf, logs

HOME = conf.podsight_home()

# `podsight serve` refuses a host other than loopback with this key (podsight/serving.py).
INSECURE_SECRET_KEY = "podsight-dev-insecure-key-set-PODSIGHT_SECRET_KEY"
SECRET_KEY = os.environ.get("PODSIGHT_SECRET_KEY") or INSECURE_SECRET_KEY
DEBUG = conf.env_flag("PODSIGHT_DEBUG")
# The names clients reach the server by. Not "*": absolute URLs (the `next` links) are built
# from the Host header, which any client can set; another Host is refused with 400.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
ALLOWED_HOSTS = [
    h.strip() for h in conf.env("PODSIGHT_ALLOWED_HOSTS", ",".join(LOCAL_HOSTS)).split(",")
]
ALLOWED_HOSTS = [h for h in ALLOWED_HOSTS if h]


def _networks(name: str) -> list[str]:
    networks = []
    for part in conf.env(name, "").replace(" ", ",").split(","):
        if part:
            try:
                networks.append(str(ipaddress.ip_network(part, strict=False)))
            except ValueError:
                raise ImproperlyConfigured(
                    f"{name}: {part!r} is not an IP address or network such as 10.0.0.0/8"
                ) from None
    return networks


# Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (podsight/security.py):
# the client's address (login throttling) and whether it used HTTPS (Secure cookies).
TRUSTED_PROXIES = _networks("PODSIGHT_TRUSTED_PROXIES")


def _count(name: str, default: int) -> int:
    raw = conf.env(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number ≥ 1, not {raw!r}")
    return int(raw)


def _span(name: str, default: str) -> float:
    try:
        return conf.parse_timespan(conf.env(name, default))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None


# Brake on password guessing over HTTP Basic (podsight/accounts/throttle.py).
LOGIN_MAX_FAILURES = _count("PODSIGHT_LOGIN_MAX_FAILURES", 10)
LOGIN_MAX_FAILURES_PER_CLIENT = _count("PODSIGHT_LOGIN_MAX_FAILURES_PER_CLIENT", 30)
LOGIN_LOCKOUT_S = _span("PODSIGHT_LOGIN_LOCKOUT", "15m")
LOGIN_CONCURRENCY = _count("PODSIGHT_LOGIN_CONCURRENCY", 2)  # password checks at once, per process
# How long a sign-in token (POST /api/auth/token, the dashboard's) works.
SESSION_TOKEN_TTL_S = _span("PODSIGHT_SESSION_TTL", "12h")
# Worker threads per server process that run jobs (POST /api/jobs; podsight/jobs/services.py).
JOB_WORKERS = _count("PODSIGHT_JOB_WORKERS", 2)

# The failed-login counters must be shared by every server process (gunicorn workers): in
# Redis when PODSIGHT_CACHE_URL names one, else in a table of the database (created by the
# accounts migrations).
_cache_url = conf.env("PODSIGHT_CACHE_URL", "")
if _cache_url.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "podsight",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "podsight_cache",
            # Culling drops a third of the rows when full: room for many guessed usernames.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "podsight.catalog",
    "podsight.sources",
    "podsight.matching",
    "podsight.accounts",
    "podsight.events",
    "podsight.gpodder",
    "podsight.content",
    "podsight.recs",
    "podsight.jobs",
]

MIDDLEWARE = [
    "podsight.security.SecureCookiesMiddleware",
    "podsight.security.ProxyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "podsight.api.errors.DatabaseBusyMiddleware",  # 503, not 500, when the database is busy
]

ROOT_URLCONF = "podsight.urls"
# Only the gPodder sync API uses sessions (its login cookie), through a view decorator:
# signed cookies need no sessions table. Logging out cannot revoke a copied cookie; a
# password change does (the session carries a hash of the password).
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
WSGI_APPLICATION = "podsight.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# WAL lets the API read while an ingest writes; a busy timeout instead of "locked"; a 64 MB
# page cache (SQLite's default is 2 MB) keeps a matching run's writes over 10⁵ rows in memory.
_SQLITE_OPTIONS = {
    "timeout": 30,
    "transaction_mode": "IMMEDIATE",
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
    ),
}
_db_url = conf.database_url()
if _db_url:
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60)}
else:
    # Connections kept between requests, as for PostgreSQL: opening one (and its PRAGMAs)
    # was about half of a cached recommendations request's CPU (docs/recs.md "Measured").
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(HOME / "podsight.sqlite3"),
            "CONN_MAX_AGE": 60,
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**_SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False

STATIC_URL = "/static/"
STATIC_ROOT = (
    None  # nothing is collected: WhiteNoise serves app static (Swagger UI assets) from finders
)
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "podsight.api.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "podsight.api.errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "podsight API",
    "DESCRIPTION": "Canonical podcast catalog: channels, episodes and their per-source records.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Error responses, the empty-value rule and the gPodder API (podsight/api/schema.py).
    "POSTPROCESSING_HOOKS": ["podsight.api.schema.postprocess"],
}

LOGGING = logs.django_logging(HOME)
