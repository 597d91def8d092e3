"""The operator data the console's actions need (billing rules, fees), loaded once per process.

The files are read from ``settings.DENWA_DATA`` (or the shipped defaults) the
first time an action needs them; a console process must be restarted to see
edited files, as the rest of the platform is.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from denwa.core.operator_data.bundle import OperatorData
from denwa.core.operator_data.loader import load_operator_data


@cache
def _load(directory: str | None) -> OperatorData:
    return load_operator_data(directory)


def operator_data() -> OperatorData:
    """The operator data in force for this process (cached per data directory)."""
    return _load(getattr(settings, "DENWA_DATA", None))
