"""The production layout: two Kamailio nodes sharing one PostgreSQL, registrations over DMQ."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from denwa.protection.kamailio import parse_dump
from tests.e2e.cluster import Node, Postgres, postgres_missing, two_nodes_toml, wait_until
from tests.e2e.sip import free_udp_port, scenario, tools_missing
from tests.e2e.test_calls import ALICE, ALICE_PW, BOB, BOB_PW, call, register_at

pytestmark = pytest.mark.e2e

CAROL, CAROL_PW = "05055500003", "demo0003"
FIXED = "0312345678"
PROTECTION_CSV = """setting,value
auth_failures_limit,4
auth_failures_window_seconds,60
auth_block_seconds,60
subscriber_max_calls,2
subscriber_call_attempts_per_second,10
"""


@dataclass
class Cluster:
    """Nodes a and b on one DENWA_HOME, the gateways they share, the database URL."""

    a: Node
    b: Node
    database_url: str

    @property
    def home(self) -> Path:
        return self.a.home

    def registered(self, node: Node, number: str) -> bool:
        return f"AoR: {number}" in node.rpc("ul.dump")

    def spool_records(self, node: str) -> list[dict[str, object]]:
        """The final CDRs the node ``node`` wrote (its files ``<node>-<pid>.cdr.jsonl``)."""
        return [
            record
            for path in sorted((self.home / "spool").glob(f"{node}-*.cdr.jsonl"))
            for line in path.read_text().splitlines()
            if line.strip() and (record := json.loads(line))["disposition"] != "in_progress"
        ]

    def table_cdrs(self, callees: list[str]) -> list[tuple[str, str, str]]:
        """(cdr_id, callee, disposition) of the CDR table's rows to ``callees``."""
        with psycopg.connect(self.database_url) as db:
            rows = db.execute(
                "SELECT cdr_id, callee, disposition FROM calls_cdr WHERE callee = ANY(%s)",
                (callees,),
            ).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    missing = tools_missing() or postgres_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the two-node tests: {missing}")
        pytest.skip(missing)
    postgres = Postgres()
    url = postgres.start()
    home = tmp_path_factory.mktemp("two-nodes")
    ports = {"a": (free_udp_port(), free_udp_port()), "b": (free_udp_port(), free_udp_port())}
    gateways = [free_udp_port(), free_udp_port()]
    (home / "sip.toml").write_text(two_nodes_toml(ports, gateways))
    data = home / "operator-data"
    data.mkdir()
    (data / "protection.csv").write_text(PROTECTION_CSV)
    env = dict(os.environ)
    env.update(
        DENWA_HOME=str(home),
        DENWA_DATA=str(data),
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="denwa.web.settings.dev",
    )
    a, b = (Node(home, ports[n][0], gateways, env, node=n) for n in ("a", "b"))
    try:
        init = a.denwa("init", "--demo")
        assert init.returncode == 0, init.stderr
        a.start()
        b.start()
        both = "status: active"
        assert wait_until(lambda: a.rpc("dmq.list_nodes").count(both) == 2, timeout=15)
        assert wait_until(lambda: b.rpc("dmq.list_nodes").count(both) == 2, timeout=15)
        yield Cluster(a, b, url)
    finally:
        a.stop()
        b.stop()
        postgres.stop()


def test_a_subscriber_registered_on_node_a_is_called_through_node_b(cluster: Cluster) -> None:
    ta = cluster.a.peer(scenario("answer.xml", cluster.home), port=free_udp_port())
    register_at(cluster.a, BOB, BOB_PW, ta)
    assert wait_until(lambda: cluster.registered(cluster.b, BOB), timeout=5)
    assert call(cluster.b, ALICE, ALICE_PW, BOB)
    ta.wait(timeout=10)
    assert f"INVITE sip:{BOB}@127.0.0.1:" in ta.trace.read_text()  # type: ignore[attr-defined]
    assert wait_until(lambda: any(r["callee"] == BOB for r in cluster.spool_records("b")))
    record = next(r for r in cluster.spool_records("b") if r["callee"] == BOB)
    assert record["disposition"] == "answered"


def test_calls_through_both_nodes_reach_the_database_once_each(cluster: Cluster) -> None:
    callees = [f"03111100{n:02d}" for n in range(6)]
    gateway = cluster.a.peer(
        scenario("answer.xml", cluster.home), cluster.a.gateways[0], calls=len(callees)
    )
    placed = [
        call(node, ALICE, ALICE_PW, callee, hold_ms=100)
        for node, callee in zip([cluster.a, cluster.b] * 3, callees, strict=True)
    ]
    gateway.wait(timeout=15)
    assert all(placed)
    ingested = cluster.a.denwa("cdr", "ingest")
    assert ingested.returncode == 0, ingested.stderr
    rows = cluster.table_cdrs(callees)
    assert sorted(r[1] for r in rows) == callees
    assert {r[2] for r in rows} == {"answered"}
    assert len({r[0] for r in rows}) == len(callees)
    written_by = {str(r["callee"]): node for node in "ab" for r in cluster.spool_records(node)}
    assert [written_by[c] for c in callees] == ["a", "b"] * 3
    again = cluster.a.denwa("cdr", "ingest")
    assert again.returncode == 0, again.stderr
    assert len(cluster.table_cdrs(callees)) == len(callees)


def test_a_node_that_starts_later_is_given_the_registrations_made_meanwhile(
    cluster: Cluster,
) -> None:
    cluster.b.stop()
    ta = cluster.a.peer(scenario("answer.xml", cluster.home), port=free_udp_port())
    register_at(cluster.a, CAROL, CAROL_PW, ta)
    cluster.b.peers.clear()
    cluster.b.start()
    assert wait_until(lambda: cluster.registered(cluster.b, CAROL), timeout=15)
    assert call(cluster.b, ALICE, ALICE_PW, CAROL)
    ta.wait(timeout=10)


def register(node: Node, number: str, password: str, expect: int, source: str) -> bool:
    path = scenario("register.xml", node.home, EXPECTED_CODE=str(expect))
    done = node.sipp(path, "-s", number, "-au", number, "-ap", password, "-i", source)
    return done.returncode == 0


def register_refused(node: Node, number: str, source: str) -> bool:
    path = scenario(
        "register_refused.xml", node.home, EXPECTED_CODE="403", EXPECTED_REFUSAL="source_blocked"
    )
    return node.sipp(path, "-s", number, "-i", source).returncode == 0


def items(node: Node, table: str) -> dict[str, str]:
    """An htable of the node, key → value (``htable.dump``)."""
    return parse_dump(node.rpc("htable.dump", table))


def item(node: Node, table: str, key: str) -> str | None:
    """One item's value (``htable.get``: an expired item is not there, as on the call path)."""
    for line in node.rpc("htable.get", table, key).splitlines():
        field, _, value = line.strip().partition(": ")
        if field == "value":
            return value
    return None


def test_failed_authentications_through_both_nodes_add_up_to_one_block_on_both(
    cluster: Cluster,
) -> None:
    guesser = "127.0.0.7"
    assert register(cluster.a, BOB, "guess-1", 403, guesser)
    assert register(cluster.b, BOB, "guess-2", 403, guesser)
    assert register(cluster.a, BOB, "guess-3", 403, guesser)  # 3 of 4: not blocked yet
    assert register(cluster.b, BOB, "guess-4", 403, guesser)  # the 4th, on either node, blocks
    assert wait_until(lambda: f"source:{guesser}" in items(cluster.a, "blocks"), timeout=5)
    assert register_refused(cluster.a, BOB, guesser)
    assert register_refused(cluster.b, BOB, guesser)
    for node in (cluster.a, cluster.b):
        failures: Counter[str] = Counter()
        for key, value in items(node, "counters").items():
            if key.startswith(f"auth:{guesser}:"):  # one key per node and time bucket
                failures[key.rpartition("@")[2]] += int(value)
        assert failures == {"a": 2, "b": 2}  # each node its own keys; each node sees both
    assert register(cluster.a, BOB, BOB_PW, 200, "127.0.0.8")  # another address: not blocked
    lifted = cluster.a.denwa("protection", "lift", f"source:{guesser}")  # through one node
    assert lifted.returncode == 0, lifted.stdout + lifted.stderr
    assert wait_until(lambda: item(cluster.b, "blocks", f"source:{guesser}") is None, timeout=5)
    assert register(cluster.b, BOB, BOB_PW, 200, guesser)


def in_background(node: Node, caller: str, password: str, hold_ms: int) -> Future[bool]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(call, node, caller, password, FIXED, hold_ms)
    pool.shutdown(wait=False)
    return future


def refused_on(node: Node, code: int, reason: str) -> bool:
    path = scenario("refused.xml", node.home, EXPECTED_CODE=str(code), EXPECTED_REFUSAL=reason)
    args = ("-s", FIXED, "-au", CAROL, "-ap", CAROL_PW, "-set", "caller", CAROL)
    return node.sipp(path, *args).returncode == 0


def test_a_lines_calls_on_one_node_count_on_the_other_until_that_node_dies(
    cluster: Cluster,
) -> None:
    gateway = cluster.a.peer(scenario("answer.xml", cluster.home), cluster.a.gateways[0], calls=3)
    first = in_background(cluster.a, CAROL, CAROL_PW, hold_ms=20000)
    second = in_background(cluster.a, CAROL, CAROL_PW, hold_ms=20000)
    gauge = f"calls:{CAROL}@a"
    assert wait_until(lambda: item(cluster.b, "gauges", gauge) == "2", timeout=10)
    assert refused_on(cluster.b, 503, "subscriber_calls")  # the line's limit is 2, over nodes
    cluster.a.kill()
    died = time.monotonic()
    assert wait_until(lambda: item(cluster.b, "gauges", gauge) is None, timeout=15)
    assert time.monotonic() - died <= 11  # GAUGE_SECONDS after its last renewal
    assert call(cluster.b, CAROL, CAROL_PW, FIXED, hold_ms=100)
    assert not first.result(timeout=40)  # their node died under them
    assert not second.result(timeout=40)
    gateway.kill()
    gateway.wait()
    cluster.a.peers.clear()
    cluster.a.start()
