"""The embedded default a newcomer runs: SQLite under DENWA_HOME, everything on 127.0.0.1."""

from denwa.web.settings.base import *  # noqa: F403

DEBUG = True
