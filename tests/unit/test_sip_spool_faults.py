"""The spool under faults: a full disk refuses new calls; a node's heartbeat names it."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from denwa.sip import spool as spool_module
from denwa.sip.spool import HEARTBEAT_SUFFIX, CdrSpool, call_fields, iso, journal_line

pytestmark = pytest.mark.unit

MB = 1 << 20


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The spool's file system as ``free_bytes`` reports it, counting how often it is asked."""
    state = {"free": 100 * MB, "asked": 0}

    def free_bytes(directory: Path) -> int:
        state["asked"] += 1
        return state["free"]

    monkeypatch.setattr(spool_module, "free_bytes", free_bytes)
    return state


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def spool(tmp_path: Path, clock: Clock) -> CdrSpool:
    return CdrSpool(tmp_path / "spool", "node1", reserve_bytes=10 * MB, clock=clock)


def test_a_spool_with_room_above_its_reserve_accepts_calls(
    spool: CdrSpool, disk: dict[str, int]
) -> None:
    assert spool.has_room()


@pytest.mark.parametrize(
    ("free", "room"),
    [(10 * MB, True), (10 * MB - 1, False), (0, False)],
    ids=["exactly-the-reserve", "a-byte-short", "full"],
)
def test_a_spool_below_its_reserve_refuses_new_calls(
    spool: CdrSpool, disk: dict[str, int], free: int, room: bool
) -> None:
    disk["free"] = free
    assert spool.has_room() is room


def test_a_full_disk_refuses_calls_even_without_a_reserve(
    tmp_path: Path, clock: Clock, disk: dict[str, int]
) -> None:
    disk["free"] = 0
    assert not CdrSpool(tmp_path, clock=clock).has_room()


def test_the_file_system_is_asked_at_most_once_a_second(
    spool: CdrSpool, disk: dict[str, int], clock: Clock
) -> None:
    for _ in range(100):
        spool.has_room()
        clock.now += 0.009
    assert disk["asked"] == 1
    clock.now += 0.2
    spool.has_room()
    assert disk["asked"] == 2


def test_a_full_disk_is_noticed_within_a_second_and_room_again_too(
    spool: CdrSpool, disk: dict[str, int], clock: Clock
) -> None:
    assert spool.has_room()
    disk["free"] = 0
    assert spool.has_room()  # asked less than a second ago
    clock.now += 1
    assert not spool.has_room()
    disk["free"] = 50 * MB
    clock.now += 1
    assert spool.has_room()


def test_a_failed_write_refuses_new_calls_until_the_next_check_finds_room(
    spool: CdrSpool, disk: dict[str, int], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert spool.has_room()

    def no_space(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", no_space)
    with pytest.raises(OSError, match="No space"):
        spool.append_cdr(call_fields("c1", "a", "b", 0.0), None, iso(0.0), "refused", 403)
    assert not spool.has_room()  # at once, without waiting for the next check
    monkeypatch.undo()
    clock.now += 1
    assert spool.has_room()


def test_the_spool_names_its_node_by_kamailios_main_process(tmp_path: Path) -> None:
    assert CdrSpool(tmp_path, "b").node == f"b-{os.getppid()}"


def test_a_journal_record_names_its_node_and_the_heartbeat_exists_before_it(
    tmp_path: Path,
) -> None:
    spool = CdrSpool(tmp_path, "b")
    spool.append_journal(call_fields("c1", "a", "b", 0.0), iso(1.0), iso(3601.0))
    (journal,) = [json.loads(p.read_text()) for p in tmp_path.glob("*.cdr.jsonl")]
    assert journal["node"] == spool.node
    assert (tmp_path / f"{spool.node}{HEARTBEAT_SUFFIX}").exists()


def test_a_heartbeat_renews_the_nodes_file(tmp_path: Path) -> None:
    spool = CdrSpool(tmp_path / "spool", "b")
    spool.heartbeat()
    beat = tmp_path / "spool" / f"{spool.node}{HEARTBEAT_SUFFIX}"
    os.utime(beat, (0, 0))
    spool.heartbeat()
    assert beat.stat().st_mtime > 0


@given(st.text(), st.text())
def test_a_journal_line_with_its_node_is_the_encoded_record(node: str, cdr_id: str) -> None:
    call = call_fields(cdr_id, "a", "b", 0.0)
    line = journal_line(call, iso(1.0), iso(2.0), node)
    assert json.loads(line)["node"] == node
    assert json.loads(line)["id"] == cdr_id
