"""The operator's protection policy (``protection.csv``) and a SIP node's capacity limits.

``ProtectionRules`` is policy, the same on every node: what counts as abuse and
how long a block lasts.  ``NodeLimits`` is capacity, per node (``sip.toml``):
how many calls and call attempts one Kamailio node takes.  The defaults and why
they were chosen are in the README ("Protection").
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from denwa.core.errors import OperatorDataError
from denwa.core.operator_data.table import Row, read_rows

RULES_FILE = "protection.csv"
RULES_COLUMNS = ("setting", "value")


@dataclass(frozen=True)
class ProtectionRules:
    """Thresholds and periods of every protection rule (seconds, calls, yen tax-exclusive)."""

    # 不完了呼 (seed: 禁止行為, 提供停止 3): calls the caller gives up before the answer.
    incomplete_calls_limit: int = 10
    incomplete_calls_window_seconds: int = 600
    incomplete_calls_block_seconds: int = 1800
    # Holding the line (seed: 禁止行為): flagged in the console past these.
    hold_alert_seconds: int = 900
    long_call_alert_seconds: int = 7200
    # Overload per subscriber: concurrent outbound calls, call attempts in one second.
    subscriber_max_calls: int = 2
    subscriber_call_attempts_per_second: int = 2
    # Password guessing: failed digest authentications per source address.
    auth_failures_limit: int = 20
    auth_failures_window_seconds: int = 300
    auth_block_seconds: int = 3600
    # Toll fraud: international calls.
    international_daily_cap_yen: int = 5000
    international_reservation_seconds: int = 14400
    international_min_call_seconds: int = 60
    new_contracts_international_barred: bool = False
    # International minutes far above the subscriber's own history.
    anomaly_factor: int = 5
    anomaly_min_minutes: int = 60
    anomaly_history_days: int = 28
    # The spool's disk (CDRs and events wait there when the database is away).
    spool_disk_free_alert_percent: int = 10

    def as_record(self) -> dict[str, Any]:
        """The rules as plain values (for JSON and for the console)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


MINIMUMS: dict[str, int] = {
    "international_daily_cap_yen": 0,
    "spool_disk_free_alert_percent": 0,
    "international_min_call_seconds": 1,
}
"""Settings that may be lower than the usual minimum of 1 (a cap of 0 bars by spending)."""

MAX_WINDOW_SECONDS = 3600
"""Sliding windows last at most an hour (their counters live that long in shared memory)."""
WINDOWS = ("incomplete_calls_window_seconds", "auth_failures_window_seconds")


@dataclass(frozen=True)
class NodeLimits:
    """What one SIP node takes: concurrent calls, call attempts, requests from one address.

    A limit of 0 switches that check off (the benchmark's "without protections").
    """

    max_calls: int = 2000
    max_calls_per_gateway: int = 1000
    max_call_attempts_per_second: int = 1000
    flood_requests_per_second: int = 50
    flood_block_seconds: int = 300


def parse_protection_rules(origin: str, text: str) -> ProtectionRules:
    """The rules in ``protection.csv`` (``setting,value``); a setting left out keeps its default.

    Raises ``OperatorDataError`` naming the file, the line and the problem.
    """
    kinds = {f.name: f.type for f in fields(ProtectionRules)}
    values: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for row in read_rows(origin, text, RULES_COLUMNS):
        setting = row.text("setting")
        if setting not in kinds:
            known = ", ".join(kinds)
            raise row.error(f"unknown setting {setting!r} (known: {known})")
        if setting in seen:
            raise row.error(f"setting {setting} is already given at {seen[setting]}")
        seen[setting] = row.where
        values[setting] = _value(row, setting, kinds[setting])
    rules = ProtectionRules(**values)
    _check_consistent(origin, rules)
    return rules


def _value(row: Row, setting: str, kind: object) -> int | bool:
    if kind in (bool, "bool"):
        return row.flag("value")
    return row.integer("value", minimum=MINIMUMS.get(setting, 1))


def _check_consistent(origin: str, rules: ProtectionRules) -> None:
    for window in WINDOWS:
        if getattr(rules, window) > MAX_WINDOW_SECONDS:
            raise OperatorDataError(
                origin,
                None,
                f"{window} is at most {MAX_WINDOW_SECONDS}, not {getattr(rules, window)}",
            )
    if rules.international_min_call_seconds > rules.international_reservation_seconds:
        raise OperatorDataError(
            origin,
            None,
            "international_min_call_seconds "
            f"({rules.international_min_call_seconds}) is longer than "
            f"international_reservation_seconds ({rules.international_reservation_seconds})",
        )
