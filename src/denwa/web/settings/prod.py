"""Production: PostgreSQL via DATABASE_URL, a real secret, secure cookies."""

import os

from denwa.web.settings.base import *  # noqa: F403

SECRET_KEY = os.environ["DENWA_SECRET_KEY"]
ALLOWED_HOSTS = os.environ.get("DENWA_ALLOWED_HOSTS", "127.0.0.1").split(",")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
