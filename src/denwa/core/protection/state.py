"""The protection snapshot: what the web side publishes for the call path besides the policy.

``DENWA_HOME/sip/protection.json`` carries the maintenance switch, the caps of
the contracts that have their own, and today's (Asia/Tokyo) international spend
from the rated CDRs, plus where the protection files are and their versions.
The web side rewrites it when the switch moves, a contract changes or new
international calls are rated; each SIP worker re-reads it when it changes, so
no call waits for the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from denwa.core.protection.spend import DaySpend, spent_today

STATE_FORMAT = 1


@dataclass(frozen=True)
class Maintenance:
    """The maintenance switch (提供中止): new calls refused with 503 while it is on."""

    on: bool = False
    message: str = ""  # the Japanese announcement; empty: the refusal table's
    retry_after_seconds: int | None = None  # None: the refusal table's


@dataclass(frozen=True)
class ProtectionState:
    """The published state: maintenance, international caps and today's spend."""

    maintenance: Maintenance = field(default_factory=Maintenance)
    day: date = date.min
    default_cap_yen: int = 0
    caps: Mapping[str, int] = field(default_factory=dict)
    spent: Mapping[str, int] = field(default_factory=dict)
    version: int = 0
    data_dir: str | None = None
    policy_key: str = ""

    def cap_of(self, number: str) -> int:
        """The daily international cap of ``number`` (its own, or the default)."""
        return self.caps.get(number, self.default_cap_yen)

    def spent_on(self, number: str, day: date) -> int:
        """What ``number``'s rated international calls of ``day`` cost (0 for another day)."""
        return self.spent.get(number, 0) if day == self.day else 0

    def day_spend(
        self, number: str, day: date, reserved_yen: int = 0, ended_on_node_yen: int = 0
    ) -> DaySpend:
        """``number``'s spending on ``day`` as the call path sees it (see ``spend``)."""
        spent = spent_today(self.spent_on(number, day), ended_on_node_yen)
        return DaySpend(self.cap_of(number), spent, reserved_yen)


def encode_state(state: ProtectionState) -> dict[str, Any]:
    """The snapshot document of ``state``."""
    return {
        "format": STATE_FORMAT,
        "version": state.version,
        "data_dir": state.data_dir,
        "policy_key": state.policy_key,
        "maintenance": {
            "on": state.maintenance.on,
            "message": state.maintenance.message,
            "retry_after_seconds": state.maintenance.retry_after_seconds,
        },
        "day": state.day.isoformat(),
        "default_cap_yen": state.default_cap_yen,
        "caps": dict(state.caps),
        "spent": dict(state.spent),
    }


def parse_state(document: Mapping[str, Any]) -> ProtectionState:
    """The state a snapshot document holds; ``ValueError`` (or ``KeyError``) if it is not one."""
    if document.get("format") != STATE_FORMAT:
        raise ValueError(f"protection snapshot format {document.get('format')!r} is not 1")
    switch = document["maintenance"]
    retry_after = switch.get("retry_after_seconds")
    return ProtectionState(
        maintenance=Maintenance(
            on=bool(switch["on"]),
            message=str(switch.get("message") or ""),
            retry_after_seconds=int(retry_after) if retry_after is not None else None,
        ),
        day=date.fromisoformat(document["day"]),
        default_cap_yen=int(document["default_cap_yen"]),
        caps={str(k): int(v) for k, v in document["caps"].items()},
        spent={str(k): int(v) for k, v in document["spent"].items()},
        version=int(document.get("version", 0)),
        data_dir=document.get("data_dir"),
        policy_key=str(document.get("policy_key", "")),
    )
