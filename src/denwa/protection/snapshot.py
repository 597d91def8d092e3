"""Publishing the protection snapshot (``DENWA_HOME/sip/protection.json``) for the SIP side.

The maintenance switch is published when its change commits.  The protection
watch (``denwa protection watch --follow``, part of ``denwa up``) publishes
whatever else changed every half second: contracts' own international caps,
today's spend from newly rated international calls, the day.  Each SIP worker
re-reads the file when it changes (see ``denwa.core.protection.state``).
"""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import pre_save
from django.dispatch import receiver

from denwa.core.protection.policy import ProtectionPolicy, load_protection
from denwa.core.protection.state import Maintenance, ProtectionState, encode_state
from denwa.core.timeutil import tokyo_today
from denwa.protection.models import InternationalDay, MaintenanceChange
from denwa.sip.snapshot import write_snapshot
from denwa.subscribers.models import Contract

FILE_NAME = "protection.json"


@cache
def _policy(directory: str | None) -> ProtectionPolicy:
    return load_protection(directory)


def protection_policy() -> ProtectionPolicy:
    """The protection policy in force for this process (``settings.DENWA_DATA``, read once)."""
    return _policy(getattr(settings, "DENWA_DATA", None))


def protection_path() -> Path:
    """Where the SIP side reads the protection snapshot."""
    return Path(settings.DENWA_HOME) / "sip" / FILE_NAME


def current_maintenance() -> Maintenance:
    """The maintenance switch as it stands (off if it never moved)."""
    latest = MaintenanceChange.objects.order_by("-changed_at", "-id").first()
    if latest is None:
        return Maintenance()
    return Maintenance(latest.on, latest.message, latest.retry_after_seconds)


def protection_state(policy: ProtectionPolicy | None = None) -> ProtectionState:
    """What the call path needs from the database now."""
    policy = policy or protection_policy()
    today = tokyo_today()
    caps = {
        number: int(cap)
        for number, cap in Contract.objects.filter(daily_spend_cap_yen__isnull=False).values_list(
            "number", "daily_spend_cap_yen"
        )
        if cap is not None
    }
    spent = dict(
        InternationalDay.objects.filter(day=today, charge_yen__gt=0).values_list(
            "contract__number", "charge_yen"
        )
    )
    return ProtectionState(
        maintenance=current_maintenance(),
        day=today,
        default_cap_yen=policy.rules.international_daily_cap_yen,
        caps=caps,
        spent=spent,
        version=time.time_ns(),
        data_dir=getattr(settings, "DENWA_DATA", None),
        policy_key=policy.key,
    )


def publish_protection() -> Path:
    """Write the protection snapshot atomically; returns its path."""
    path = protection_path()
    write_snapshot(path, encode_state(protection_state()))
    return path


def publish_if_changed() -> bool:
    """Publish if the state differs from the published one (not counting the version)."""
    state = encode_state(protection_state())
    try:
        current = json.loads(protection_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = {}
    if {**current, "version": 0} == {**state, "version": 0}:
        return False
    write_snapshot(protection_path(), state)
    return True


class _Publication:
    """One pending publication, run at commit (dropped with a rollback)."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        self.done = True
        publish_protection()


def publish_on_commit() -> None:
    """Publish once when the current transaction commits (nothing if it rolls back)."""
    pending = transaction.get_connection().run_on_commit
    if any(isinstance(f, _Publication) and not f.done for _, f, _ in pending):
        return
    transaction.on_commit(_Publication())


@receiver(pre_save, sender=Contract)
def _new_contract(instance: Contract, **_: Any) -> None:
    """A new contract starts with the policy's international barring (``protection.csv``)."""
    if instance._state.adding and protection_policy().rules.new_contracts_international_barred:
        instance.international_barred = True
