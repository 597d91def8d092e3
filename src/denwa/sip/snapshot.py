"""The policy snapshot each Kamailio worker decides from: no database on the call path.

The web side writes ``snapshot.json`` (subscribers' state, HA1, barring) atomically
whenever a contract changes; every worker checks the file's modification time at
most every ``check_every`` seconds and reloads it when it changed.  The operator
data files are loaded with it and reloaded when their hashes change.  If the
database is down, the last snapshot stays in force and calls go on.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from denwa.core.contracts.lifecycle import State
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.operator_data.loader import load_operator_data
from denwa.core.policy.decision import Subscriber

SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class SubscriberEntry:
    """What the call path knows of one subscriber."""

    subscriber: Subscriber
    ha1: str
    realm: str


@dataclass(frozen=True)
class PolicySnapshot:
    """Subscribers and operator data, immutable once loaded (a ``Directory`` for the policy)."""

    subscribers: Mapping[str, SubscriberEntry]
    data: OperatorData
    version: int = 0
    data_key: str = ""

    def find(self, number: str) -> Subscriber | None:
        """The subscriber holding ``number``, or None."""
        entry = self.subscribers.get(number)
        return entry.subscriber if entry else None

    def credentials(self, number: str) -> SubscriberEntry | None:
        """HA1 and realm of ``number``, for digest authentication."""
        return self.subscribers.get(number)


def encode_snapshot(
    rows: list[tuple[str, str, str, str, bool]],
    version: int,
    data: OperatorData,
    data_dir: str | None,
) -> dict[str, Any]:
    """The snapshot document from (number, state, ha1, realm, barred) rows and the data in force."""
    return {
        "format": SNAPSHOT_FORMAT,
        "version": version,
        "data_dir": data_dir,
        "data_key": data_key(data),
        "subscribers": {
            number: [state, ha1, realm, barred] for number, state, ha1, realm, barred in rows
        },
    }


def data_key(data: OperatorData) -> str:
    """Identifies a set of operator file versions: workers reload the data when it changes."""
    return ",".join(f"{name}:{source.sha256[:16]}" for name, source in sorted(data.sources.items()))


def write_snapshot(path: Path, document: dict[str, Any]) -> None:
    """Write atomically: readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as out:
        json.dump(document, out, separators=(",", ":"))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def parse_snapshot(document: dict[str, Any], data: OperatorData) -> PolicySnapshot:
    """A ``PolicySnapshot`` from a snapshot document and loaded operator data."""
    if document.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"snapshot format {document.get('format')!r} is not {SNAPSHOT_FORMAT}")
    subscribers = {
        number: SubscriberEntry(Subscriber(number, State(state), bool(barred)), ha1, realm)
        for number, (state, ha1, realm, barred) in document["subscribers"].items()
    }
    return PolicySnapshot(subscribers, data, int(document.get("version", 0)), data_key(data))


@dataclass
class SnapshotWatcher:
    """Keeps a worker's snapshot fresh: a stat at most every ``check_every`` seconds."""

    path: Path
    check_every: float = 0.5
    _snapshot: PolicySnapshot | None = None
    _mtime_ns: int = -1
    _checked_at: float = field(default=-1e9)
    _data: OperatorData | None = None

    def current(self) -> PolicySnapshot:
        """The freshest snapshot (the last good one if the file is being replaced or broken)."""
        now = time.monotonic()
        if self._snapshot is None or now - self._checked_at >= self.check_every:
            self._checked_at = now
            self._reload_if_changed()
        if self._snapshot is None:
            raise FileNotFoundError(f"no policy snapshot at {self.path}")
        return self._snapshot

    def _reload_if_changed(self) -> None:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._mtime_ns and self._snapshot is not None:
            return
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            if self._data is None or document.get("data_key") != data_key(self._data):
                self._data = load_operator_data(document.get("data_dir"))
            self._snapshot = parse_snapshot(document, self._data)
            self._mtime_ns = mtime
        except (OSError, ValueError, KeyError, TypeError):
            return  # keep the last good snapshot; the next check tries again
