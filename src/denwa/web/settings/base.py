"""Settings shared by every environment, read from the environment where they vary.

- ``DENWA_HOME`` (default ``./var``): where the embedded SQLite database and spools live.
- ``DATABASE_URL``: PostgreSQL (``postgres://user:pass@host:port/name``) instead of SQLite.
- ``DENWA_SECRET_KEY``: required in production.
- ``DENWA_DATA``: the operator data directory (files there replace the shipped defaults).
- ``DENWA_ISP_EVENT_TOKEN``: the token the ISP's system sends with contract events.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

DENWA_HOME = Path(os.environ.get("DENWA_HOME", "var")).resolve()
DENWA_DATA = os.environ.get("DENWA_DATA") or None
DENWA_ISP_EVENT_TOKEN = os.environ.get("DENWA_ISP_EVENT_TOKEN", "")

SECRET_KEY = os.environ.get("DENWA_SECRET_KEY", "denwa-embedded-default-not-for-production")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "denwa.console.apps.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "denwa.operator_files",
    "denwa.subscribers",
    "denwa.calls",
    "denwa.billing",
    "denwa.support",
    "denwa.collection",
    "denwa.portal",
    "denwa.protection",
    "denwa.console.apps.ConsoleConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "denwa.web.urls"
WSGI_APPLICATION = "denwa.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = os.environ.get("DATABASE_URL")
    if url:
        return dict(dj_database_url.parse(url, conn_max_age=60))
    DENWA_HOME.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DENWA_HOME / "denwa.sqlite3"),
        "OPTIONS": {
            # WAL lets the web side read while the close or the CDR ingest writes.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [Path(__file__).resolve().parent.parent.parent / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DENWA_HOME / "static"

SESSION_COOKIE_AGE = 60 * 60  # an hour
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
