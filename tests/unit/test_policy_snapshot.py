"""The policy snapshot: written atomically by the web side, reloaded by each SIP worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from denwa.core.contracts.lifecycle import State
from denwa.core.operator_data.bundle import OperatorData
from denwa.sip.snapshot import SnapshotWatcher, encode_snapshot, write_snapshot

pytestmark = pytest.mark.unit

ROW = ("05055500001", "active", "0" * 32, "denwa.local", False)


def publish(path: Path, data: OperatorData, *rows: tuple[str, str, str, str, bool]) -> None:
    write_snapshot(path, encode_snapshot(list(rows), 1, data, None))


def touch_later(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_a_worker_finds_subscribers_and_their_credentials(
    tmp_path: Path, data: OperatorData
) -> None:
    path = tmp_path / "snapshot.json"
    publish(path, data, ROW, ("05055500002", "stopped", "f" * 32, "denwa.local", True))
    snapshot = SnapshotWatcher(path).current()
    bob = snapshot.find("05055500002")
    assert bob is not None
    assert (bob.state, bob.international_barred) == (State.STOPPED, True)
    credentials = snapshot.credentials("05055500001")
    assert credentials is not None
    assert credentials.ha1 == "0" * 32
    assert snapshot.find("05055509999") is None


def test_a_change_reaches_the_worker_at_its_next_check(tmp_path: Path, data: OperatorData) -> None:
    path = tmp_path / "snapshot.json"
    publish(path, data, ROW)
    watcher = SnapshotWatcher(path, check_every=0)
    assert watcher.current().find(ROW[0]).state is State.ACTIVE  # type: ignore[union-attr]
    publish(path, data, (ROW[0], "stopped", *ROW[2:]))
    touch_later(path)
    assert watcher.current().find(ROW[0]).state is State.STOPPED  # type: ignore[union-attr]


def test_a_broken_snapshot_keeps_the_last_good_one(tmp_path: Path, data: OperatorData) -> None:
    path = tmp_path / "snapshot.json"
    publish(path, data, ROW)
    watcher = SnapshotWatcher(path, check_every=0)
    good = watcher.current()
    path.write_text("{not json")
    touch_later(path)
    assert watcher.current() is good


def test_without_any_snapshot_the_worker_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no policy snapshot"):
        SnapshotWatcher(tmp_path / "missing.json").current()


def test_writing_leaves_no_temporary_file(tmp_path: Path, data: OperatorData) -> None:
    publish(tmp_path / "snapshot.json", data, ROW)
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot.json"]
