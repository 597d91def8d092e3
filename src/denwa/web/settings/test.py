"""Tests: a fast password hasher; everything else as in production."""

import tempfile
from pathlib import Path

from denwa.web.settings.base import *  # noqa: F403

DENWA_HOME = Path(tempfile.mkdtemp(prefix="denwa-test-home-"))

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DENWA_ISP_EVENT_TOKEN = "test-isp-token"
