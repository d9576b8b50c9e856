"""Django settings. What varies by deployment comes from the environment (see conf.py)."""

from __future__ import annotations

import os

import dj_database_url

from podsight import conf

HOME = conf.podsight_home()

SECRET_KEY = (
    os.environ.get("PODSIGHT_SECRET_KEY") or "podsight-dev-insecure-key-set-PODSIGHT_SECRET_KEY"
)
DEBUG = conf.env_flag("PODSIGHT_DEBUG")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("PODSIGHT_ALLOWED_HOSTS", "*").split(",") if h]

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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
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
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(HOME / "podsight.sqlite3")}
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "podsight": {
            "handlers": ["console"],
            "level": os.environ.get("PODSIGHT_LOG_LEVEL", "INFO"),
        },
    },
}
