"""The SIP workers' view of the protection snapshot, and their event spool."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from denwa.core.protection.events import EventKind, ProtectionEvent
from denwa.core.protection.policy import load_protection
from denwa.core.protection.state import Maintenance, ProtectionState, encode_state
from denwa.sip.protection import EventSpool, ProtectionWatcher
from denwa.sip.snapshot import write_snapshot

pytestmark = pytest.mark.integration


def publish(path: Path, data_dir: Path | None = None, **state: object) -> None:
    policy = load_protection(data_dir)
    document = encode_state(
        ProtectionState(
            policy_key=policy.key, data_dir=str(data_dir) if data_dir else None, **state
        )
    )
    write_snapshot(path, document)


def test_before_any_snapshot_the_shipped_policy_is_in_force(tmp_path: Path) -> None:
    protection = ProtectionWatcher(tmp_path / "protection.json").current()
    assert not protection.state.maintenance.on
    assert protection.state.default_cap_yen == 5000
    assert protection.policy.rules.incomplete_calls_limit == 10


def test_a_new_snapshot_is_seen_and_a_broken_one_keeps_the_last_good(tmp_path: Path) -> None:
    path = tmp_path / "protection.json"
    watcher = ProtectionWatcher(path, check_every=0)
    publish(path, maintenance=Maintenance(True, "工事中", 60))
    assert watcher.current().state.maintenance == Maintenance(True, "工事中", 60)
    path.write_text("{not json")
    assert watcher.current().state.maintenance.on


def test_the_operators_protection_files_are_loaded_when_the_snapshot_names_them(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "protection.csv").write_text("setting,value\nincomplete_calls_limit,3\n")
    path = tmp_path / "protection.json"
    watcher = ProtectionWatcher(path, check_every=0)
    publish(path)
    assert watcher.current().policy.rules.incomplete_calls_limit == 10
    publish(path, data_dir=data)
    assert watcher.current().policy.rules.incomplete_calls_limit == 3


def test_each_event_is_one_json_line_in_the_workers_own_file(tmp_path: Path) -> None:
    spool = EventSpool(tmp_path / "spool", "node-a")
    at = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    spool.append(ProtectionEvent(EventKind.HELD, at, number="05055500001", call_id="c1"))
    spool.append(ProtectionEvent(EventKind.RESUMED, at, number="05055500001", call_id="c1"))
    [path] = (tmp_path / "spool").glob("node-a-*.events.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [ProtectionEvent.parse(line).kind for line in lines] == [
        EventKind.HELD,
        EventKind.RESUMED,
    ]
