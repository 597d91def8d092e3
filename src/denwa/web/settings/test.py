"""Tests: a fast password hasher; everything else as in production."""

from denwa.web.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DENWA_ISP_EVENT_TOKEN = "test-isp-token"
