"""The portal's operator-tunable values: Django settings, each with an environment override.

- ``DENWA_PORTAL_MAX_FAILURES`` (5): wrong passwords in a row that lock a number;
- ``DENWA_PORTAL_LOCKOUT_MINUTES`` (15): how long a locked number stays locked;
- ``DENWA_PORTAL_SOURCE_MAX_FAILURES`` (20): failed sign-ins from one address within
- ``DENWA_PORTAL_SOURCE_WINDOW_MINUTES`` (15) that refuse the address for the window;
- ``DENWA_PORTAL_IDLE_MINUTES`` (30): a session unused this long is signed out;
- ``DENWA_PORTAL_CALLS_PER_PAGE`` (50): rows per page of the call detail;
- ``DENWA_PORTAL_SERVICE_NAME`` (KCT-Net IP電話): the service's name in the page header.

A value in the Django settings wins over the environment; the default applies
when neither gives one.  A value that is not a positive whole number is refused
when the portal first reads it, naming the setting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.conf import settings

from denwa.core.errors import InvalidInput

DEFAULTS: dict[str, int | str] = {
    "DENWA_PORTAL_MAX_FAILURES": 5,
    "DENWA_PORTAL_LOCKOUT_MINUTES": 15,
    "DENWA_PORTAL_SOURCE_MAX_FAILURES": 20,
    "DENWA_PORTAL_SOURCE_WINDOW_MINUTES": 15,
    "DENWA_PORTAL_IDLE_MINUTES": 30,
    "DENWA_PORTAL_CALLS_PER_PAGE": 50,
    "DENWA_PORTAL_SERVICE_NAME": "KCT-Net IP電話",
}


@dataclass(frozen=True)
class PortalSettings:
    """The values in force (read on every use, so tests may override settings)."""

    max_failures: int
    lockout_minutes: int
    source_max_failures: int
    source_window_minutes: int
    idle_minutes: int
    calls_per_page: int
    service_name: str


def _value(name: str) -> int | str:
    if hasattr(settings, name):
        raw: object = getattr(settings, name)
    else:
        raw = os.environ.get(name, DEFAULTS[name])
    default = DEFAULTS[name]
    if isinstance(default, str):
        return str(raw)
    try:
        number = int(str(raw))
    except ValueError:
        raise InvalidInput(name, f"must be a whole number, not {raw!r}") from None
    if number < 1:
        raise InvalidInput(name, f"must be at least 1, not {number}")
    return number


def portal_settings() -> PortalSettings:
    """The portal's settings in force now."""
    values = {name: _value(name) for name in DEFAULTS}
    return PortalSettings(
        max_failures=int(values["DENWA_PORTAL_MAX_FAILURES"]),
        lockout_minutes=int(values["DENWA_PORTAL_LOCKOUT_MINUTES"]),
        source_max_failures=int(values["DENWA_PORTAL_SOURCE_MAX_FAILURES"]),
        source_window_minutes=int(values["DENWA_PORTAL_SOURCE_WINDOW_MINUTES"]),
        idle_minutes=int(values["DENWA_PORTAL_IDLE_MINUTES"]),
        calls_per_page=int(values["DENWA_PORTAL_CALLS_PER_PAGE"]),
        service_name=str(values["DENWA_PORTAL_SERVICE_NAME"]),
    )
