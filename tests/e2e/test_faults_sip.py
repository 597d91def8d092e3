"""Faults under sipp traffic that lose no call record (issue 8; README, "Durability and faults").

- PostgreSQL stopped for 30 s while calls go on: the calls never notice, their CDRs wait
  in the spool and are ingested, each once, when it is back.
- A Kamailio node killed with SIGKILL while calls are up: the calls that completed keep
  their CDRs; those that were up are closed as ``node_failure`` at the node's last
  heartbeat, neither left open nor billed to their maximum length.
- The CDR ingest killed (SIGKILL) again and again while calls go on: every call's CDR
  is stored exactly once (the offsets move in the CDRs' own transaction).
- The spool's file system full: new calls get 503 with Retry-After (never accepted
  without a record), calls already up still get their CDRs, the operator gets an alert.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.sip import (
    DENWA,
    SipService,
    free_udp_port,
    scenario,
    tools_missing,
    wait_until_bound,
)

pytestmark = pytest.mark.e2e

ALICE, ALICE_PW = "05055500001", "demo0001"
ROOT = Path(__file__).resolve().parents[2]
POSTGRES = ROOT / "scripts" / "postgres"
IN_CI = os.environ.get("CI") == "true"


def unavailable(reason: str) -> None:
    """Skip with ``reason`` here; in CI the fault tests must run, so fail instead."""
    if IN_CI:
        pytest.fail(f"CI must run the fault tests: {reason}")
    pytest.skip(reason)


NO_LINE_LIMITS_CSV = (
    "setting,value\n"
    "subscriber_max_calls,1000\n"
    "subscriber_call_attempts_per_second,1000\n"
    "incomplete_calls_limit,1000\n"
)
"""The traffic here is one TA's many calls: the per-line protections (README, "Protection")
would refuse most of them, and they are not what these tests are about."""
NO_LINE_LIMITS_TOML = "flood_requests_per_second = 1000\n"


# --- a node, its traffic, its records ----------------------------------------------------------


def start_node(home: Path, settings: str = "", env: dict[str, str] | None = None) -> SipService:
    """A Kamailio node on a fresh DENWA_HOME (demo subscribers) and free ports."""
    missing = tools_missing()
    if missing:
        unavailable(missing)
    port, gateways = free_udp_port(), [free_udp_port()]
    (home / "sip.toml").write_text(
        f'listen_port = {port}\ngateways = ["127.0.0.1:{gateways[0]}"]\n'
        f"children = 2\ngateway_timeout_seconds = 2\n{NO_LINE_LIMITS_TOML}{settings}"
    )
    data = home / "data"
    data.mkdir()
    (data / "protection.csv").write_text(NO_LINE_LIMITS_CSV)
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DENWA_DATA")}
    base.update(
        DENWA_HOME=str(home), DENWA_DATA=str(data), DJANGO_SETTINGS_MODULE="denwa.web.settings.dev"
    )
    service = SipService(home=home, port=port, gateways=gateways, env=base | (env or {}))
    init = service.denwa("init", "--demo")
    assert init.returncode == 0, init.stderr
    service.start()
    return service


def background(service: SipService, *args: str) -> subprocess.Popen[bytes]:
    """A ``denwa`` command running beside the node (stopped by ``stop_all``)."""
    with (service.home / f"{args[0]}-{time.monotonic_ns()}.log").open("wb") as log:
        process = subprocess.Popen(
            [str(DENWA), *args], env=service.env, stdout=log, stderr=subprocess.STDOUT
        )
    service.peers.append(process)
    return process


def gateway(service: SipService, calls: int) -> subprocess.Popen[bytes]:
    """The interconnect: a sipp UAS answering ``calls`` calls, for as long as they take."""
    command = [
        "sipp", "-sf", str(scenario("answer.xml", service.home)), "-p", str(service.gateways[0]),
        "-i", "127.0.0.1", "-m", str(calls), "-nostdin",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=service.home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    service.peers.append(process)
    wait_until_bound(service.gateways[0])
    return process


@dataclass
class Traffic:
    """sipp as many TAs' calls: ``calls`` at ``rate`` per second, each held ``hold_ms``."""

    process: subprocess.Popen[bytes]
    stats: Path

    def wait(self, timeout: float) -> tuple[int, int]:
        """Wait for sipp to finish; its (successful, failed) calls."""
        self.process.wait(timeout=timeout)
        return self.counts()

    def counts(self) -> tuple[int, int]:
        """sipp's (successful, failed) calls so far, from its statistics file."""
        rows = [line.split(";") for line in self.stats.read_text().splitlines() if line]
        header = rows[0]
        last = [row for row in rows if len(row) >= len(header)][-1]  # not one half written
        return int(last[header.index("SuccessfulCall(C)")]), int(
            last[header.index("FailedCall(C)")]
        )


def traffic(
    service: SipService,
    calls: int,
    rate: float,
    hold_ms: int,
    dialled: str = "0312345678",
    file: str = "call.xml",
    **replacements: str,
) -> Traffic:
    """Start ``calls`` calls from ALICE's TA at ``rate`` per second, in the background."""
    path = scenario(file, service.home, HOLD_MS=str(hold_ms), **replacements)
    stats = service.home / f"sipp-{time.monotonic_ns()}.csv"
    command = [
        "sipp", f"127.0.0.1:{service.port}", "-sf", str(path), "-i", "127.0.0.1",
        "-p", str(free_udp_port()), "-m", str(calls), "-r", str(rate), "-rp", "1000",
        "-s", dialled, "-au", ALICE, "-ap", ALICE_PW, "-set", "caller", ALICE,
        "-nostdin", "-default_behaviors", "all,-abortunexp", "-recv_timeout", "10000",
        "-trace_stat", "-stf", str(stats), "-fd", "1",
        "-trace_msg", "-message_file", str(stats.with_suffix(".msg")),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=service.home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    service.peers.append(process)
    return Traffic(process, stats)


def spooled(service: SipService) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """The spool's final records by id, and the ids of the answer journal."""
    final: dict[str, dict[str, Any]] = {}
    journal: set[str] = set()
    for path in sorted((service.home / "spool").glob("*.cdr.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["disposition"] == "in_progress":
                journal.add(record["id"])
            else:
                assert record["id"] not in final, f"two final records for {record['id']}"
                final[record["id"]] = record
    return final, journal


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.25)


def stop_all(service: SipService) -> None:
    """Stop the node, its sipp peers and its denwa processes."""
    for process in service.peers:
        if process.poll() is None:
            process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()
            process.wait()
    service.peers.clear()
    service.stop()


def utc(text: str) -> datetime:
    """A time as the database gives it back (SQLite: naive UTC text)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sqlite_rows(service: SipService, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(service.home / "denwa.sqlite3", timeout=10)) as db:
        return db.execute(sql).fetchall()


# --- 1. PostgreSQL stopped for 30 s during calls -------------------------------------------------

OUTAGE_SECONDS = 30


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster of this test's own (``scripts/postgres``)."""

    env: dict[str, str]
    url: str = ""

    def start(self) -> None:
        done = subprocess.run(
            [str(POSTGRES), "start"], env=self.env, capture_output=True, text=True, timeout=180
        )
        if done.returncode == 3:
            unavailable(f"PostgreSQL is not installed: {done.stderr.strip()}")
        assert done.returncode == 0, done.stderr
        self.url = done.stdout.strip()

    def stop(self) -> None:
        subprocess.run([str(POSTGRES), "stop"], env=self.env, check=True, timeout=120)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=5) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    """Its own cluster (own directory and port): stopping it stops no other test's database."""
    directory = Path(f"/tmp/denwa-pg-faults-{os.getpid()}")  # postgres must reach it
    env = dict(os.environ, DENWA_PG_DIR=str(directory), DENWA_PG_PORT=str(free_udp_port()))
    if IN_CI:
        env["DENWA_PG_INSTALL"] = "1"
    cluster = Postgres(env)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        subprocess.run(["rm", "-rf", str(directory)], check=False)


def test_calls_go_on_while_postgresql_is_down_and_their_cdrs_are_ingested_once_when_it_returns(
    tmp_path: Path, postgres: Postgres
) -> None:
    service = start_node(tmp_path, env={"DATABASE_URL": postgres.url})
    try:
        ingest = background(service, "cdr", "ingest", "--follow")
        calls = 150  # 4 a second: 37.5 s of traffic, the outage in the middle
        gateway(service, calls)
        load = traffic(service, calls, rate=4, hold_ms=1000)
        time.sleep(4)
        at_stop = load.counts()
        postgres.stop()
        down = time.monotonic()
        time.sleep(OUTAGE_SECONDS)
        during = load.counts()[0] - at_stop[0]
        postgres.start()
        successful, failed = load.wait(timeout=60)
        final, _ = spooled(service)
        wait_until(
            lambda: postgres.rows("SELECT COUNT(*) FROM calls_cdr")[0][0] >= len(final),
            30,
            "the spooled CDRs ingested",
        )
        stored, distinct, answered = postgres.rows(
            "SELECT COUNT(*), COUNT(DISTINCT cdr_id),"
            " COUNT(*) FILTER (WHERE disposition = 'answered') FROM calls_cdr"
        )[0]
        assert ingest.poll() is None, "the ingest died with the database"
        assert time.monotonic() - down >= OUTAGE_SECONDS
        assert during >= 100  # of the 120 placed while the database was down
        assert (successful, failed) == (calls, 0)
        assert stored == distinct == successful + failed == len(final)
        assert answered == successful
        assert postgres.rows("SELECT COUNT(*) FROM calls_opencall")[0][0] == 0
    finally:
        stop_all(service)


# --- 2. A node killed with SIGKILL while calls are up --------------------------------------------

MAX_CALL_SECONDS = 120
DEAD_AFTER_SECONDS = 3


def test_a_node_killed_with_calls_up_keeps_completed_cdrs_and_closes_the_others_at_its_last_beat(
    tmp_path: Path,
) -> None:
    service = start_node(tmp_path, f"max_call_seconds = {MAX_CALL_SECONDS}\n")
    try:
        background(service, "cdr", "ingest", "--follow", "--node-dead-after", "3")
        short, long = 20, 10
        gateway(service, short + long)
        completed = traffic(service, short, rate=10, hold_ms=300).wait(timeout=30)
        up = traffic(service, long, rate=10, hold_ms=60_000)
        wait_until(lambda: len(spooled(service)[1]) == short + long, 15, "the long calls answered")
        assert service.process is not None
        os.killpg(service.process.pid, signal.SIGKILL)  # every process of the node at once
        killed = datetime.now(UTC)
        service.process.wait(timeout=10)
        up.process.kill()
        final, journal = spooled(service)
        cut = journal - set(final)
        wait_until(
            lambda: (
                sqlite_rows(service, "SELECT COUNT(*) FROM calls_cdr")[0][0]
                == len(final) + len(cut)
            ),
            DEAD_AFTER_SECONDS + 15,
            "the dead node's calls closed",
        )
        rows = sqlite_rows(
            service,
            "SELECT cdr_id, disposition, answered_at, ended_at, billed_seconds FROM calls_cdr",
        )
        by_id = {row[0]: row[1:] for row in rows}
        failed = {cdr_id: row for cdr_id, row in by_id.items() if row[0] == "node_failure"}
        assert completed == (short, 0)
        assert len(rows) == len(by_id) == short + long  # every call once
        assert len(cut) == long
        assert set(failed) == cut
        assert len(final) == short
        assert all(by_id[cdr_id][0] == "answered" for cdr_id in final)
        for _, answered, ended, billed in failed.values():
            answer, end = utc(answered), utc(ended)
            assert answer <= end <= killed  # up to the node's last sign of life, no further
            assert end >= killed - timedelta(seconds=DEAD_AFTER_SECONDS)  # one beat or so
            assert billed < MAX_CALL_SECONDS
        assert sqlite_rows(service, "SELECT COUNT(*) FROM calls_opencall") == [(0,)]
    finally:
        stop_all(service)


# --- 3. The ingest killed again and again while calls go on -------------------------------------

INGEST_KILLS = 6


def test_an_ingest_killed_again_and_again_during_calls_stores_every_cdr_once(
    tmp_path: Path,
) -> None:
    service = start_node(tmp_path)
    try:
        calls = 400  # 25 a second: 16 s of traffic, a kill every 2 s
        gateway(service, calls)
        load = traffic(service, calls, rate=25, hold_ms=200)
        ingest = background(service, "cdr", "ingest", "--follow")
        for _ in range(INGEST_KILLS):
            time.sleep(2)
            # wherever it is: now and then inside a batch (tests/integration/test_faults.py
            # kills one inside a batch for certain)
            ingest.send_signal(signal.SIGKILL)
            ingest.wait(timeout=10)
            ingest = background(service, "cdr", "ingest", "--follow")
        successful, failed = load.wait(timeout=60)
        final, _ = spooled(service)
        wait_until(
            lambda: sqlite_rows(service, "SELECT COUNT(*) FROM calls_cdr")[0][0] >= len(final),
            30,
            "the spooled CDRs ingested",
        )
        time.sleep(1)  # one more pass: it must find nothing new to store
        [(stored, distinct)] = sqlite_rows(
            service, "SELECT COUNT(*), COUNT(DISTINCT cdr_id) FROM calls_cdr"
        )
        assert (successful, failed) == (calls, 0)
        assert stored == distinct == successful + failed == len(final)
        assert sqlite_rows(service, "SELECT COUNT(*) FROM calls_opencall") == [(0,)]
    finally:
        stop_all(service)


# --- 4. The spool's disk full --------------------------------------------------------------------

SPOOL_MB, RESERVE_MB = 4, 2


@pytest.fixture
def small_spool(tmp_path: Path) -> Iterator[Path]:
    """DENWA_HOME/spool on a 4 MB tmpfs of its own (needs root or CAP_SYS_ADMIN)."""
    spool = tmp_path / "spool"
    spool.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SPOOL_MB}m", "tmpfs", str(spool)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        unavailable(f"cannot mount a small tmpfs for the spool: {mounted.stderr.strip()}")
    try:
        yield spool
    finally:
        subprocess.run(["umount", "-l", str(spool)], check=False)


def fill(spool: Path, leave_bytes: int) -> None:
    """Fill the spool's file system until at most ``leave_bytes`` are free."""
    filler = spool / f"filler-{time.monotonic_ns()}"
    with filler.open("wb") as out:
        while (free := os.statvfs(spool).f_bavail * os.statvfs(spool).f_frsize) > leave_bytes:
            try:
                out.write(b"\0" * min(64 * 1024, free - leave_bytes))
                out.flush()
            except OSError:
                break


def test_with_the_spool_disk_full_calls_get_503_none_is_accepted_without_a_record_and_an_alert_is_raised(  # noqa: E501
    small_spool: Path,
) -> None:
    service = start_node(small_spool.parent, f"spool_reserve_mb = {RESERVE_MB}\n")
    try:
        gateway(service, 5 + 1 + 3)  # only the calls accepted reach the interconnect
        before = traffic(service, 5, rate=10, hold_ms=200).wait(timeout=30)
        in_progress = traffic(service, 1, rate=1, hold_ms=4000)
        wait_until(lambda: len(spooled(service)[1]) == 6, 10, "the long call answered")
        fill(small_spool, leave_bytes=RESERVE_MB << 19)  # half the reserve left
        time.sleep(1.1)  # a worker asks the file system at most once a second
        refused = traffic(
            service, 10, rate=10, hold_ms=0, file="refused.xml",
            EXPECTED_CODE="503", EXPECTED_REFUSAL="spool_full",
        )  # fmt: skip
        assert refused.wait(timeout=30) == (10, 0)
        assert in_progress.wait(timeout=30) == (1, 0)  # the call up writes its CDR after all
        fill(small_spool, leave_bytes=0)  # now really full: not a byte left
        time.sleep(1.1)
        full = traffic(
            service, 5, rate=10, hold_ms=0, file="refused.xml",
            EXPECTED_CODE="503", EXPECTED_REFUSAL="spool_full",
        )  # fmt: skip
        assert full.wait(timeout=30) == (5, 0)
        watch = service.denwa("protection", "watch")
        alerts = sqlite_rows(
            service, "SELECT key, detail FROM protection_alert WHERE kind = 'spool_disk'"
        )
        for path in small_spool.glob("filler-*"):
            path.unlink()
        time.sleep(1.1)
        after = traffic(service, 3, rate=10, hold_ms=200).wait(timeout=30)
        final, journal = spooled(service)
        answered = [r for r in final.values() if r["disposition"] == "answered"]
        replies = refused.stats.with_suffix(".msg").read_text()
        assert before == (5, 0)
        assert watch.returncode == 0, watch.stderr
        assert "Retry-After: 60" in replies
        assert len(alerts) == 1
        assert alerts[0][0].startswith("spool_full:")
        assert json.loads(alerts[0][1])["refusing_calls"] is True
        assert after == (3, 0)  # room again: calls accepted again
        assert len(answered) == len(journal) == 5 + 1 + 3  # every accepted call recorded
    finally:
        stop_all(service)
