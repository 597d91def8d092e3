"""The protection use cases the console and the CLI call (one each per entry point)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from denwa.core.protection.blocks import Block
from denwa.core.protection.keys import BLOCKS_TABLE, REFUSED_PREFIX, TOTALS_TABLE, base_key
from denwa.core.protection.state import Maintenance
from denwa.protection.errors import (
    AlertWithoutLine,
    InvalidMaintenance,
    NoSuchBlock,
    SipCommandFailed,
)
from denwa.protection.kamailio import Kamailio, control_socket
from denwa.protection.models import Alert, MaintenanceChange
from denwa.protection.snapshot import current_maintenance, publish_on_commit
from denwa.subscribers import services as subscribers
from denwa.subscribers.models import ContractEvent

MAX_MESSAGE = 200


@transaction.atomic
def set_maintenance(
    on: bool, actor: str, message: str = "", retry_after_seconds: int | None = None
) -> MaintenanceChange:
    """Move the maintenance switch (提供中止): while on, new calls get 503; calls in progress go on.

    ``message`` (Japanese) and ``retry_after_seconds`` replace the refusal table's
    for this maintenance; both are kept only while the switch is on.
    """
    message = message.strip()
    if len(message) > MAX_MESSAGE:
        raise InvalidMaintenance("message", f"at most {MAX_MESSAGE} characters, not {len(message)}")
    if any(c in message for c in "\r\n"):
        raise InvalidMaintenance("message", "one line only (it is sent in a SIP header)")
    if retry_after_seconds is not None and retry_after_seconds < 1:
        raise InvalidMaintenance("retry_after_seconds", f"at least 1, not {retry_after_seconds}")
    if not on and (message or retry_after_seconds is not None):
        raise InvalidMaintenance("message", "a message and Retry-After go with switching on")
    change = MaintenanceChange.objects.create(
        on=on, message=message, retry_after_seconds=retry_after_seconds, changed_by=actor
    )
    publish_on_commit()
    return change


def maintenance() -> Maintenance:
    """The maintenance switch as it stands."""
    return current_maintenance()


@transaction.atomic
def acknowledge(alert: Alert, actor: str, note: str = "") -> Alert:
    """The operator has seen the alert (and may say what was done)."""
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor
    alert.note = note.strip()
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
    return alert


def stop_line(alert: Alert, on: date, reason: str, actor: str) -> ContractEvent:
    """Stop (提供停止) the line an alert is about, with one action: the subscribers' stop."""
    if not alert.number or alert.contract_id is None:
        raise AlertWithoutLine(str(alert))
    return subscribers.stop(alert.number, on, reason, actor)


@dataclass(frozen=True)
class SipStatus:
    """What the running SIP node holds in memory: blocks in force, refusals per rule."""

    blocks: list[Block]
    refused: dict[str, int]


def sip_node(home: Path | None = None) -> Kamailio:
    """The SIP node of ``DENWA_HOME`` (its control socket)."""
    return Kamailio(control_socket(home or Path(settings.DENWA_HOME)))


def sip_status(node: Kamailio | None = None) -> SipStatus:
    """Blocks in force and the overload counters, read through Kamailio's RPC."""
    node = node or sip_node()
    blocks = [
        block
        for key, value in node.items(BLOCKS_TABLE).items()
        if (block := Block.parse(key, value)) is not None
    ]
    refused: dict[str, int] = {}
    for key, value in node.items(TOTALS_TABLE).items():
        if key.startswith(REFUSED_PREFIX) and value.lstrip("-").isdigit():
            rule = base_key(key).removeprefix(REFUSED_PREFIX)  # summed over nodes
            refused[rule] = refused.get(rule, 0) + int(value)
    blocks.sort(key=lambda b: (b.until, b.key))
    return SipStatus(blocks, dict(sorted(refused.items())))


@transaction.atomic
def lift_block(key: str, actor: str, node: Kamailio | None = None) -> int:
    """Lift a block before its end (the item leaves shared memory); notes it on its alerts."""
    node = node or sip_node()
    try:
        node.delete(BLOCKS_TABLE, key)
    except SipCommandFailed as error:
        if error.rpc_code == 404:
            raise NoSuchBlock(key) from None
        raise
    in_force = Alert.objects.filter(block_key=key, lifted_at__isnull=True, until__gt=timezone.now())
    return in_force.update(lifted_at=timezone.now(), lifted_by=actor)
