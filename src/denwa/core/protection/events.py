"""What the SIP side tells the console: protection events in the event spool.

Kamailio's workers append one JSON line per event to their own
``<node>-<pid>.events.jsonl`` next to the CDR spool (the same durable
mechanism: one ``write(2)`` per record); the web side ingests them exactly
once into alerts and held calls.  Events are rare (a block, a hold, a refusal
that alerts, a minute with overload refusals), so the call path's common case
writes none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

EVENTS_SUFFIX = ".events.jsonl"


class EventKind(StrEnum):
    """Every event the SIP side reports."""

    BLOCKED = "blocked"  # a line or a source address was blocked (rule, count, until)
    HELD = "held"  # a call was put on hold (re-INVITE with sendonly/inactive)
    RESUMED = "resumed"  # a held call was taken off hold, or ended while held
    REFUSED = "refused"  # a call refused by a rule the operator is alerted to (spend cap)
    OVERLOAD = "overload"  # calls refused by an overload limit during one counter period


@dataclass(frozen=True)
class ProtectionEvent:
    """One event: its kind and time, and what it is about."""

    kind: EventKind
    at: datetime
    number: str = ""  # the subscriber's 050 number
    source: str = ""  # the source IP address
    call_id: str = ""
    rule: str = ""  # the block rule or the refusing guard
    count: int = 0
    until: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The spool line's content (only the fields that are set)."""
        record: dict[str, Any] = {"event": self.kind.value, "at": self.at.isoformat()}
        for name in ("number", "source", "call_id", "rule", "count"):
            if getattr(self, name):
                record[name] = getattr(self, name)
        if self.until is not None:
            record["until"] = self.until.isoformat()
        if self.detail:
            record["detail"] = dict(self.detail)
        return record

    @classmethod
    def parse(cls, record: object) -> ProtectionEvent:
        """The event a spool line holds; ``ValueError`` naming what is wrong with it."""
        if not isinstance(record, dict):
            raise ValueError("an event is a JSON object")
        try:
            kind = EventKind(str(record.get("event")))
        except ValueError:
            raise ValueError(f"unknown event {record.get('event')!r}") from None
        detail = record.get("detail", {})
        if not isinstance(detail, dict):
            raise ValueError("detail must be an object")
        count = record.get("count", 0)
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a whole number ≥ 0, not {count!r}")
        until = record.get("until")
        return cls(
            kind=kind,
            at=_aware(record.get("at"), "at"),
            number=_text(record, "number"),
            source=_text(record, "source"),
            call_id=_text(record, "call_id"),
            rule=_text(record, "rule"),
            count=count,
            until=_aware(until, "until") if until is not None else None,
            detail=detail,
        )


def unix_time(moment: float) -> datetime:
    """A Unix time as an aware UTC time (how the SIP side stamps its events)."""
    return datetime.fromtimestamp(moment, tz=UTC)


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name, "")
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {value!r}")
    return value


def _aware(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 time, not {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} is not an ISO 8601 time: {value!r}") from None
    if moment.utcoffset() is None:
        raise ValueError(f"{name} has no UTC offset: {value!r}")
    return moment
