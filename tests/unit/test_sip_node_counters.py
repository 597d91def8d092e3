"""Protection counters shared by two SIP nodes: each writes its own keys, each reads the sum.

The replicated htables are modelled as one dictionary both nodes see (what DMQ
replication converges to); each node keeps its own dialog profiles.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from denwa.core.protection import keys
from denwa.core.protection.refusals import Guard, ProtectionRefusal
from denwa.core.protection.rules import NodeLimits
from denwa.core.protection.spend import Reservation
from denwa.core.rating.tariffs import Tariff
from denwa.sip.protection import CallGuards, EventSpool, ProtectionWatcher

pytestmark = pytest.mark.unit

LINE = "05055500001"
NOW = 1_795_000_000.0


@dataclass
class NodeMemory:
    """One node's view: the replicated tables (shared) and its own ``calls``."""

    tables: dict[str, dict[str, int | str]]
    calls: dict[str, int | str] = field(default_factory=dict)
    source: str = "192.0.2.7"

    def _table(self, table: str) -> dict[str, int | str]:
        return self.calls if table == keys.CALLS_TABLE else self.tables.setdefault(table, {})

    def htable_get(self, table: str, key: str) -> int | str | None:
        return self._table(table).get(key)

    def htable_inc(self, table: str, key: str) -> int:
        items = self._table(table)
        items[key] = int(items.get(key, 0)) + 1
        return int(items[key])

    def htable_dec(self, table: str, key: str) -> int:
        items = self._table(table)
        items[key] = int(items.get(key, 0)) - 1
        return int(items[key])

    def htable_set(self, table: str, key: str, value: str, expire_seconds: int) -> None:
        self._table(table)[key] = value

    def htable_set_int(self, table: str, key: str, value: int) -> None:
        self._table(table)[key] = value

    def htable_keys(self, table: str) -> list[str]:
        return list(self._table(table))

    def htable_delete(self, table: str, key: str) -> None:
        self._table(table).pop(key, None)

    @contextmanager
    def htable_locked(self, table: str, key: str) -> Iterator[None]:
        yield

    def source_ip(self) -> str:
        return self.source

    def call_id(self) -> str:
        return "call"

    def ruri_user(self) -> str:
        return "0312345678"


@dataclass
class TwoNodes:
    tables: dict[str, dict[str, int | str]]
    guards: dict[str, CallGuards]
    memory: dict[str, NodeMemory]


@pytest.fixture
def nodes(tmp_path: Path) -> TwoNodes:
    tables: dict[str, dict[str, int | str]] = {}
    guards = {
        name: CallGuards(
            NodeLimits(),
            ProtectionWatcher(tmp_path / "protection.json"),
            EventSpool(tmp_path / "spool", name),
            node=name,
            peers=(peer,),
        )
        for name, peer in (("a", "b"), ("b", "a"))
    }
    return TwoNodes(tables, guards, {name: NodeMemory(tables) for name in guards})


def source_blocked(nodes: TwoNodes) -> bool:
    key = keys.block_key("source", "192.0.2.7")
    return key in nodes.tables.get(keys.BLOCKS_TABLE, {})


@pytest.mark.parametrize(
    ("on_a", "on_b", "blocked"),
    [(10, 10, True), (10, 9, False), (0, 20, True), (19, 0, False)],
    ids=["10+10", "10+9", "0+20", "19+0"],
)
def test_failed_authentications_on_both_nodes_add_up_to_the_limit(
    nodes: TwoNodes, on_a: int, on_b: int, blocked: bool
) -> None:
    for name, failures in (("a", on_a), ("b", on_b)):
        for n in range(failures):
            nodes.guards[name].auth_failed(nodes.memory[name], NOW + n)  # type: ignore[arg-type]
    assert source_blocked(nodes) is blocked


def test_each_node_counts_only_in_its_own_keys(nodes: TwoNodes) -> None:
    for name in ("a", "b", "a"):
        nodes.guards[name].auth_failed(nodes.memory[name], NOW)  # type: ignore[arg-type]
    counted = nodes.tables[keys.COUNTERS_TABLE]
    assert sorted(counted.values()) == [1, 2]
    assert {key.rpartition("@")[2] for key in counted} == {"a", "b"}


def test_a_lines_calls_on_the_other_node_count_against_its_limit(nodes: TwoNodes) -> None:
    a, b = nodes.memory["a"], nodes.memory["b"]
    for _ in range(2):  # the line's limit (subscriber_max_calls): two calls up on node a
        nodes.guards["a"].admitted(a, LINE)  # type: ignore[arg-type]
    refusal = nodes.guards["b"].outbound(b, LINE, NOW)  # type: ignore[arg-type]
    assert refusal is not None
    assert refusal.guard is Guard.SUBSCRIBER_CALLS


def test_a_dead_nodes_calls_stop_counting_when_its_gauge_goes(nodes: TwoNodes) -> None:
    a, b = nodes.memory["a"], nodes.memory["b"]
    for _ in range(2):
        nodes.guards["a"].admitted(a, LINE)  # type: ignore[arg-type]
    nodes.tables[keys.GAUGES_TABLE].clear()  # node a died: no renewal, its items expired
    assert nodes.guards["b"].outbound(b, LINE, NOW + 60) is None  # type: ignore[arg-type]


def test_renewing_drops_the_gauge_of_a_line_whose_calls_ended(nodes: TwoNodes) -> None:
    a = nodes.memory["a"]
    nodes.guards["a"].admitted(a, LINE)  # type: ignore[arg-type]
    b_key = keys.line_calls_key("05055500002", "b")
    nodes.tables[keys.GAUGES_TABLE][b_key] = 1  # the other node's: not this node's to renew
    a.calls.clear()  # the call ended
    nodes.guards["a"].renew_gauges(a)  # type: ignore[arg-type]
    assert nodes.tables[keys.GAUGES_TABLE] == {b_key: 1}


def test_a_call_whose_gauge_a_racing_renewal_dropped_is_published_at_the_next_renewal(
    nodes: TwoNodes,
) -> None:
    a = nodes.memory["a"]
    nodes.guards["a"].admitted(a, LINE)  # type: ignore[arg-type]
    nodes.tables[keys.GAUGES_TABLE].clear()  # a renewal read 0 before the admission counted
    nodes.guards["a"].renew_gauges(a)  # type: ignore[arg-type]
    assert nodes.tables[keys.GAUGES_TABLE] == {keys.line_calls_key(LINE, "a"): 1}


def test_a_negative_or_broken_count_of_another_node_counts_nothing(nodes: TwoNodes) -> None:
    b = nodes.memory["b"]
    nodes.tables[keys.GAUGES_TABLE] = {keys.line_calls_key(LINE, "a"): -5}
    assert nodes.guards["b"].outbound(b, LINE, NOW) is None  # type: ignore[arg-type]
    nodes.tables[keys.GAUGES_TABLE] = {keys.line_calls_key(LINE, "a"): "x"}
    assert nodes.guards["b"].outbound(b, LINE, NOW + 1) is None  # type: ignore[arg-type]


EXPENSIVE = Tariff(60, 250, date(2026, 1, 1), "international")
"""250 yen a minute: the default daily cap (5000 yen) buys 20 minutes."""


def test_a_reservation_on_one_node_counts_against_the_cap_on_the_other(nodes: TwoNodes) -> None:
    a, b = nodes.memory["a"], nodes.memory["b"]
    day = date(2026, 11, 18)
    first = nodes.guards["a"].reserve(a, LINE, EXPENSIVE, NOW, day)  # type: ignore[arg-type]
    assert isinstance(first, Reservation)
    assert first.yen == 5000
    second = nodes.guards["b"].reserve(b, LINE, EXPENSIVE, NOW, day)  # type: ignore[arg-type]
    assert isinstance(second, ProtectionRefusal)
    assert second.guard is Guard.INTERNATIONAL_SPEND_CAP
    nodes.tables[keys.GAUGES_TABLE].clear()  # node a died: its reservation's gauge expired
    third = nodes.guards["b"].reserve(b, LINE, EXPENSIVE, NOW + 20, day)  # type: ignore[arg-type]
    assert isinstance(third, Reservation)


def test_renewing_republishes_reservations_and_drops_what_the_node_no_longer_holds(
    nodes: TwoNodes,
) -> None:
    a = nodes.memory["a"]
    held = keys.reserved_key(LINE, "2026-11-18", "a")
    stale = keys.reserved_key("05055500002", "2026-11-18", "a")  # e.g. synced back at a restart
    nodes.tables[keys.RESERVED_TABLE] = {held: 300}
    nodes.tables[keys.GAUGES_TABLE] = {stale: 900}
    nodes.guards["a"].renew_gauges(a)  # type: ignore[arg-type]
    assert nodes.tables[keys.GAUGES_TABLE] == {held: 300}
