"""Publishing the policy snapshot for the SIP side whenever a contract changes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from denwa.core.operator_data.loader import load_operator_data
from denwa.sip.snapshot import encode_snapshot, write_snapshot
from denwa.subscribers.models import Contract


def snapshot_path() -> Path:
    """Where the SIP side reads the snapshot: ``DENWA_HOME/sip/snapshot.json``."""
    return Path(settings.DENWA_HOME) / "sip" / "snapshot.json"


def publish_snapshot() -> Path:
    """Write the snapshot of every contract and the operator data in force."""
    rows = list(
        Contract.objects.values_list(
            "number", "state", "sip_ha1", "sip_realm", "international_barred"
        ).order_by("number")
    )
    path = snapshot_path()
    data = load_operator_data(settings.DENWA_DATA)
    write_snapshot(path, encode_snapshot(rows, time.time_ns(), data, settings.DENWA_DATA))
    return path


class _Publication:
    """One pending publication (run at commit; dropped with a rollback)."""

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        self.done = True
        publish_snapshot()


@receiver(post_save, sender=Contract)
@receiver(post_delete, sender=Contract)
def _contract_changed(**_: Any) -> None:
    """Publish once per committed transaction that changed a contract (none if it rolls back)."""
    connection = transaction.get_connection()
    pending = (f for _, f, _ in connection.run_on_commit if isinstance(f, _Publication))
    if any(not publication.done for publication in pending):
        return
    transaction.on_commit(_Publication())
