"""The protection pass: what the SIP side reported, what the rated calls say, what is flagged.

Run every half second by ``denwa protection watch --follow`` (a part of ``denwa up``):

1. the event spool (``*.events.jsonl`` next to the CDR spool) into alerts and
   held calls, each file from its stored offset, moved in the same transaction
   (exactly once, like the CDR ingest);
2. the answered international calls rated since the last pass into each
   contract's totals of the day, with the anomaly rule on the days they touch;
3. calls on hold or open longer than the limits, flagged once each;
4. the protection snapshot rewritten when what it says changed (today's spend,
   a contract's own cap, the day).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from denwa.calls.models import Cdr, OpenCall, SpoolOffset
from denwa.core.numbering.classes import CallClass
from denwa.core.protection.anomaly import anomaly_threshold_seconds
from denwa.core.protection.blocks import BlockRule, BlockTarget, block_key
from denwa.core.protection.events import EVENTS_SUFFIX, EventKind, ProtectionEvent
from denwa.core.protection.policy import ProtectionPolicy
from denwa.core.protection.rules import ProtectionRules
from denwa.core.timeutil import billing_date
from denwa.protection.models import Alert, HeldCall, InternationalDay, Watermark
from denwa.protection.snapshot import protection_policy, publish_if_changed
from denwa.sip.config import SipConfig
from denwa.subscribers.models import Contract

logger = logging.getLogger(__name__)

BATCH_BYTES = 1024 * 1024
CDR_BATCH = 50_000
INTERNATIONAL_MARK = "international_cdrs"

BLOCK_ALERTS = {
    BlockRule.INCOMPLETE_CALLS: Alert.Kind.INCOMPLETE_CALLS,
    BlockRule.AUTH_FAILURES: Alert.Kind.AUTH_FAILURES,
    BlockRule.FLOOD: Alert.Kind.FLOOD,
}
"""Which alert a block raises."""


@dataclass(frozen=True)
class ProtectionPass:
    """What one pass did."""

    events: int
    international_calls: int
    alerts: int
    published: bool


def protection_pass(spool: Path, now: datetime | None = None) -> ProtectionPass:
    """One pass (see the module's description)."""
    policy = protection_policy()
    now = now or timezone.now()
    events, event_alerts = ingest_events(spool, policy.rules)
    calls, anomalies = count_international_calls(policy)
    reserve = SipConfig.load(spool.parent / "sip.toml").spool_reserve_mb << 20
    flagged = flag_calls(policy.rules, now) + check_spool_disk(spool, policy.rules, now, reserve)
    published = publish_if_changed()
    return ProtectionPass(events, calls, event_alerts + anomalies + flagged, published)


# --- 1. the event spool ---------------------------------------------------------------------------


def ingest_events(spool: Path, rules: ProtectionRules) -> tuple[int, int]:
    """Every event file's new complete lines: (events read, alerts raised)."""
    events = alerts = 0
    for path in sorted(spool.glob(f"*{EVENTS_SUFFIX}")) if spool.is_dir() else ():
        while (done := _ingest_chunk(path, rules)) is not None:
            events += done[0]
            alerts += done[1]
    return events, alerts


@transaction.atomic
def _ingest_chunk(path: Path, rules: ProtectionRules) -> tuple[int, int] | None:
    state, _ = SpoolOffset.objects.select_for_update().get_or_create(path=str(path))
    with path.open("rb") as spool:
        spool.seek(state.offset)
        chunk = spool.read(BATCH_BYTES)
    complete = chunk[: chunk.rfind(b"\n") + 1]  # a line being written waits for the next pass
    if not complete:
        return None
    events = alerts = 0
    for number, line in enumerate(complete.decode("utf-8", errors="replace").splitlines()):
        if not line.strip():
            continue
        try:
            event = ProtectionEvent.parse(json.loads(line))
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            logger.error("%s@%d line %d: not an event (%s)", path, state.offset, number + 1, error)
            continue
        events += 1
        alerts += apply_event(event, rules)
    state.offset += len(complete)
    state.save(update_fields=["offset", "updated_at"])
    return events, alerts


def apply_event(event: ProtectionEvent, rules: ProtectionRules) -> int:
    """Record one event; returns how many alerts it raised (0 or 1)."""
    if event.kind is EventKind.BLOCKED:
        return _block_alert(event)
    if event.kind is EventKind.HELD:
        HeldCall.objects.get_or_create(
            call_id=event.call_id,
            held_at=event.at,
            defaults={"number": event.number, "contract": _contract(event.number)},
        )
        return 0
    if event.kind is EventKind.RESUMED:
        return _resumed(event, rules)
    if event.kind is EventKind.REFUSED:
        return _refusal_alert(event)
    return _raise(
        Alert.Kind.OVERLOAD,
        f"overload:{event.rule}:{event.at.isoformat()}",
        event,
        detail={"rule": event.rule, **event.detail},
    )


def _block_alert(event: ProtectionEvent) -> int:
    try:
        rule = BlockRule(event.rule)
    except ValueError:
        logger.error("a block by an unknown rule %r: %s", event.rule, event.record())
        return 0
    target = BlockTarget.LINE if rule is BlockRule.INCOMPLETE_CALLS else BlockTarget.SOURCE
    subject = event.number if target is BlockTarget.LINE else event.source
    return _raise(
        BLOCK_ALERTS[rule],
        f"{rule.value}:{subject}:{event.at.isoformat()}",
        event,
        until=event.until,
        block=block_key(target, subject),
        detail=dict(event.detail),
    )


def _resumed(event: ProtectionEvent, rules: ProtectionRules) -> int:
    held = (
        HeldCall.objects.filter(call_id=event.call_id, resumed_at__isnull=True)
        .order_by("-held_at")
        .first()
    )
    if held is None:
        return 0
    held.resumed_at = event.at
    held.save(update_fields=["resumed_at"])
    return _flag_hold(held, event.at, rules)


def _refusal_alert(event: ProtectionEvent) -> int:
    """One alert per line and day for the spend cap; each refused call counts on it."""
    key = f"{event.rule}:{event.number}:{billing_date(event.at).isoformat()}"
    raised = _raise(Alert.Kind.INTERNATIONAL_SPEND_CAP, key, event, detail=dict(event.detail))
    if not raised:
        Alert.objects.filter(key=key).update(count=F("count") + 1, detail=dict(event.detail))
    return raised


def _raise(
    kind: str,
    key: str,
    event: ProtectionEvent | None = None,
    *,
    number: str = "",
    at: datetime | None = None,
    until: datetime | None = None,
    block: str = "",
    detail: dict[str, Any] | None = None,
) -> int:
    """Raise an alert once per key; 1 if it is new."""
    number = number or (event.number if event else "")
    _, created = Alert.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "number": number,
            "contract": _contract(number),
            "source": event.source if event else "",
            "raised_at": at or (event.at if event else timezone.now()),
            "until": until,
            "count": max(1, event.count) if event else 1,
            "block_key": block,
            "detail": detail or {},
        },
    )
    return int(created)


def _contract(number: str) -> Contract | None:
    return Contract.objects.filter(number=number).first() if number else None


# --- 2. international calls -----------------------------------------------------------------------


def count_international_calls(policy: ProtectionPolicy) -> tuple[int, int]:
    """Add the answered international calls rated since the last pass: (calls, anomaly alerts)."""
    calls = alerts = 0
    while (done := _count_batch(policy.rules)) is not None:
        calls += done[0]
        alerts += done[1]
    return calls, alerts


@transaction.atomic
def _count_batch(rules: ProtectionRules) -> tuple[int, int] | None:
    mark, _ = Watermark.objects.select_for_update().get_or_create(name=INTERNATIONAL_MARK)
    top = Cdr.objects.filter(pk__gt=mark.value).aggregate(top=Max("pk"))["top"]
    if top is None:
        return None
    top = min(top, mark.value + CDR_BATCH)
    rows = Cdr.objects.filter(
        pk__gt=mark.value,
        pk__lte=top,
        direction=Cdr.Direction.OUT,
        call_class=CallClass.INTERNATIONAL.value,
        answered_at__isnull=False,
        contract__isnull=False,
    ).values_list("contract_id", "answered_at", "billed_seconds", "charge_yen")
    totals: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for contract_id, answered_at, seconds, charge in rows:
        assert answered_at is not None  # filtered above
        total = totals[(contract_id, billing_date(answered_at))]
        total[0] += 1
        total[1] += seconds
        total[2] += charge
    alerts = 0
    for (contract_id, day), (count, seconds, charge) in totals.items():
        row, _ = InternationalDay.objects.select_for_update().get_or_create(
            contract_id=contract_id, day=day
        )
        row.calls += count
        row.seconds += seconds
        row.charge_yen += charge
        row.save(update_fields=["calls", "seconds", "charge_yen"])
        alerts += _anomaly_alert(row, rules)
    mark.value = top
    mark.save(update_fields=["value"])
    return sum(t[0] for t in totals.values()), alerts


def _anomaly_alert(day: InternationalDay, rules: ProtectionRules) -> int:
    history = list(
        InternationalDay.objects.filter(
            contract_id=day.contract_id,
            day__gte=day.day - timedelta(days=rules.anomaly_history_days),
            day__lt=day.day,
        ).values_list("seconds", flat=True)
    )
    threshold = anomaly_threshold_seconds(history, rules)
    if day.seconds <= threshold:
        return 0
    number = Contract.objects.values_list("number", flat=True).get(pk=day.contract_id)
    return _raise(
        Alert.Kind.INTERNATIONAL_ANOMALY,
        f"international_anomaly:{number}:{day.day.isoformat()}",
        number=number,
        detail={
            "day": day.day.isoformat(),
            "minutes": day.seconds // 60,
            "threshold_minutes": threshold // 60,
            "history_days": len(history),
        },
    )


# --- 3. held and long calls -----------------------------------------------------------------------


def flag_calls(rules: ProtectionRules, now: datetime) -> int:
    """Calls on hold, or open, longer than the limits: one alert each (returns how many new)."""
    raised = 0
    held_since = now - timedelta(seconds=rules.hold_alert_seconds)
    for held in HeldCall.objects.filter(resumed_at__isnull=True, held_at__lt=held_since):
        ended = Cdr.objects.filter(cdr_id=held.call_id).values_list("ended_at", flat=True).first()
        if ended is not None:  # its end came without a "resumed" event (a node's crash)
            held.resumed_at = ended
            held.save(update_fields=["resumed_at"])
        raised += _flag_hold(held, held.resumed_at or now, rules)
    open_since = now - timedelta(seconds=rules.long_call_alert_seconds)
    for call in OpenCall.objects.filter(created_at__lt=open_since):
        record = call.record
        raised += _raise(
            Alert.Kind.LONG_CALL,
            f"long_call:{call.cdr_id}",
            number=_our_number(record),
            at=now,
            detail={
                "call_id": call.cdr_id,
                "caller": record.get("caller"),
                "callee": record.get("callee"),
                "answered": record.get("answer"),
            },
        )
    return raised


def check_spool_disk(
    spool: Path, rules: ProtectionRules, now: datetime, reserve_bytes: int = 0
) -> int:
    """An alert (once an hour at most) when the spool's disk has little room left.

    Below the SIP nodes' reserve (``spool_reserve_mb``) the nodes refuse new calls
    with 503: that is its own alert (key ``spool_full:…``, ``refusing_calls`` in
    its detail), raised even when the percentage alert is switched off.
    """
    if not spool.is_dir():
        return 0
    usage = shutil.disk_usage(spool)
    free_percent = usage.free * 100 // max(usage.total, 1)
    refusing = usage.free == 0 or usage.free < reserve_bytes
    low = free_percent < rules.spool_disk_free_alert_percent  # 0: switched off
    if not (low or refusing):
        return 0
    return _raise(
        Alert.Kind.SPOOL_DISK,
        f"{'spool_full' if refusing else 'spool_disk'}:{now:%Y-%m-%dT%H}",
        at=now,
        detail={
            "path": str(spool),
            "free_percent": free_percent,
            "free_mb": usage.free >> 20,
            "refusing_calls": refusing,
        },
    )


def _flag_hold(held: HeldCall, until: datetime, rules: ProtectionRules) -> int:
    seconds = int((until - held.held_at).total_seconds())
    if seconds <= rules.hold_alert_seconds:
        return 0
    return _raise(
        Alert.Kind.HELD_CALL,
        f"held_call:{held.call_id}:{held.held_at.isoformat()}",
        number=held.number,
        at=until,
        detail={"call_id": held.call_id, "held_at": held.held_at.isoformat(), "seconds": seconds},
    )


def _our_number(record: dict[str, Any]) -> str:
    """The subscriber of a journalled call: the caller outbound, else the callee."""
    for side in ("caller", "callee"):
        number = str(record.get(side) or "")
        if Contract.objects.filter(number=number).exists():
            return number
    return ""
