"""Start Django from a command-line entry point (the CLI, scripts, the Kamailio side later)."""

from __future__ import annotations

import os

DEFAULT_SETTINGS = "denwa.web.settings.dev"


def setup_django() -> None:
    """Configure and set up Django once; ``DJANGO_SETTINGS_MODULE`` may name other settings."""
    import django
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    django.setup()
