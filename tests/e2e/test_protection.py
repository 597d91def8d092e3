"""Protection in the call path, through the real Kamailio with sipp (README, "Protection").

The node runs with small limits (``sip.toml``) and an operator data directory whose
``protection.csv`` has short windows and blocks, so that each rule is seen to
trigger at its threshold and not one call before, to end after its period, and to
be lifted by the operator.  Each test uses its own line or source address.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from denwa.protection.kamailio import parse_dump
from denwa.sip.protection import ProtectionWatcher
from tests.e2e.sip import SipService, free_udp_port, scenario, tools_missing

pytestmark = pytest.mark.e2e

ALICE, ALICE_PW = "05055500001", "demo0001"
BOB, BOB_PW = "05055500002", "demo0002"
CAROL, CAROL_PW = "05055500003", "demo0003"
PASSWORDS = {ALICE: ALICE_PW, BOB: BOB_PW, CAROL: CAROL_PW}
US = "01012125550123"  # North America: 9 yen a minute
FIXED = "0312345678"

PROTECTION_CSV = """setting,value
incomplete_calls_limit,3
incomplete_calls_window_seconds,4
incomplete_calls_block_seconds,3
auth_failures_limit,3
auth_failures_window_seconds,4
auth_block_seconds,3
subscriber_max_calls,2
subscriber_call_attempts_per_second,10
international_daily_cap_yen,26
international_reservation_seconds,120
international_min_call_seconds,60
"""
"""26 yen: a 120 s call to North America reserves 18 yen and leaves 8, less than a minute."""
MAX_CALLS = 3
FLOOD_LIMIT = 40
FLOOD_BLOCK_SECONDS = 2
WINDOW_AND_BUCKET = 4 + 1
SNAPSHOT_CHECK_SECONDS = ProtectionWatcher.check_every


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SipService]:
    """Kamailio with small limits and short protection periods; two gateway ports."""
    missing = tools_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the end-to-end tests: {missing}")
        pytest.skip(missing)
    home = tmp_path_factory.mktemp("sip-protection")
    data = home / "operator-data"
    data.mkdir()
    (data / "protection.csv").write_text(PROTECTION_CSV)
    port, gateways = free_udp_port(), [free_udp_port(), free_udp_port()]
    (home / "sip.toml").write_text(
        f"listen_port = {port}\n"
        f'gateways = ["127.0.0.1:{gateways[0]}", "127.0.0.1:{gateways[1]}"]\n'
        "children = 2\nmax_call_seconds = 30\ngateway_timeout_seconds = 2\n"
        f"max_calls = {MAX_CALLS}\nflood_requests_per_second = {FLOOD_LIMIT}\n"
        f"flood_block_seconds = {FLOOD_BLOCK_SECONDS}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DENWA_HOME=str(home), DENWA_DATA=str(data), DJANGO_SETTINGS_MODULE="denwa.web.settings.dev"
    )
    service = SipService(home=home, port=port, gateways=gateways, env=env)
    init = service.denwa("init", "--demo")
    assert init.returncode == 0, init.stderr
    service.start()
    yield service
    service.stop()


# --- what a TA does ------------------------------------------------------------------------


def ok(done: Any) -> bool:
    return bool(done.returncode == 0)


def call(node: SipService, caller: str, dialled: str, hold_ms: int = 300) -> bool:
    """An answered call (the gateway must answer it)."""
    path = scenario("call.xml", node.home, HOLD_MS=str(hold_ms))
    return ok(node.sipp(path, *credentials(caller), "-s", dialled))


def cancelled(node: SipService, caller: str) -> bool:
    """A call given up while it rings (the gateway must ring)."""
    path = scenario("cancel.xml", node.home)
    return ok(node.sipp(path, *credentials(caller), "-s", FIXED))


def refused(node: SipService, caller: str, dialled: str, code: int, reason: str) -> bool:
    path = scenario("refused.xml", node.home, EXPECTED_CODE=str(code), EXPECTED_REFUSAL=reason)
    return ok(node.sipp(path, *credentials(caller), "-s", dialled))


def credentials(caller: str) -> list[str]:
    return ["-au", caller, "-ap", PASSWORDS[caller], "-set", "caller", caller]


def register(node: SipService, number: str, password: str, expect: int, source: str) -> bool:
    path = scenario("register.xml", node.home, EXPECTED_CODE=str(expect))
    return ok(node.sipp(path, "-s", number, "-au", number, "-ap", password, "-i", source))


def register_refused(node: SipService, number: str, source: str) -> bool:
    path = scenario(
        "register_refused.xml", node.home, EXPECTED_CODE="403", EXPECTED_REFUSAL="source_blocked"
    )
    return ok(node.sipp(path, "-s", number, "-i", source))


def gateway(node: SipService, name: str, calls: int) -> Any:
    """The first gateway answering (answer.xml) or ringing until cancelled (ring.xml)."""
    return node.peer(scenario(name, node.home), node.gateways[0], calls=calls)


def until(condition: Callable[[], bool], timeout: float = 5) -> bool:
    """Whether ``condition`` holds within ``timeout`` seconds (polled)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def answered_calls(node: SipService, caller: str) -> int:
    """Calls of ``caller`` answered so far (their answer journal records)."""
    return sum(
        1
        for path in (node.home / "spool").glob("*.cdr.jsonl")
        for line in path.read_text().splitlines()
        if line.strip()
        and (record := json.loads(line))["disposition"] == "in_progress"
        and record["caller"] == caller
    )


def events(node: SipService) -> list[dict[str, Any]]:
    """The node's protection events in the order they happened (each worker has its file)."""
    spooled = [
        json.loads(line)
        for path in (node.home / "spool").glob("*.events.jsonl")
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    return sorted(spooled, key=lambda event: str(event["at"]))


def in_background(node: SipService, caller: str, dialled: str, hold_ms: int) -> Future[bool]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(call, node, caller, dialled, hold_ms)
    pool.shutdown(wait=False)
    return future


def lift(node: SipService, key: str) -> None:
    done = node.denwa("protection", "lift", key)
    assert done.returncode == 0, done.stdout + done.stderr


# --- incomplete calls ----------------------------------------------------------------------


def test_the_third_call_given_up_blocks_the_line_until_lifted_or_the_period_ends(
    node: SipService,
) -> None:
    ringing = gateway(node, "ring.xml", calls=4)
    assert cancelled(node, CAROL)
    assert cancelled(node, CAROL)  # the second: still admitted
    assert cancelled(node, CAROL)  # the third is admitted and starts the block
    assert refused(node, CAROL, FIXED, 403, "incomplete_calls")
    assert ("blocked", CAROL, "incomplete_calls", 3) in [
        (e["event"], e.get("number"), e.get("rule"), e.get("count")) for e in events(node)
    ]
    status = node.denwa("protection", "status", "--json")
    assert f"line:{CAROL}" in status.stdout, status.stdout + status.stderr
    lift(node, f"line:{CAROL}")  # the operator's lift: the next call goes through
    assert cancelled(node, CAROL)  # with the three before still in the window: blocked again
    ringing.wait(timeout=10)
    assert refused(node, CAROL, FIXED, 403, "incomplete_calls")
    time.sleep(3.5)  # incomplete_calls_block_seconds = 3
    answering = gateway(node, "answer.xml", calls=1)
    assert call(node, CAROL, FIXED)
    answering.wait(timeout=10)


def test_calls_given_up_longer_ago_than_the_window_are_forgotten(node: SipService) -> None:
    ringing = gateway(node, "ring.xml", calls=3)
    assert cancelled(node, BOB)
    assert cancelled(node, BOB)
    time.sleep(WINDOW_AND_BUCKET + 0.5)
    assert cancelled(node, BOB)  # one in the window: no block
    ringing.wait(timeout=10)
    answering = gateway(node, "answer.xml", calls=1)
    assert call(node, BOB, FIXED)
    answering.wait(timeout=10)


# --- password guessing ---------------------------------------------------------------------


def test_a_guessing_address_is_blocked_and_a_good_subscriber_elsewhere_is_not(
    node: SipService,
) -> None:
    guesser = "127.0.0.3"
    assert register(node, ALICE, "guess-1", 403, guesser)
    assert register(node, ALICE, "guess-2", 403, guesser)  # challenged again: not blocked yet
    assert register(node, ALICE, "guess-3", 403, guesser)  # the third failure blocks
    assert register_refused(node, ALICE, guesser)
    assert register(node, ALICE, ALICE_PW, 200, "127.0.0.2")
    assert ("blocked", guesser, "auth_failures") in [
        (e["event"], e.get("source"), e.get("rule")) for e in events(node)
    ]
    lift(node, f"source:{guesser}")
    assert register(node, ALICE, ALICE_PW, 200, guesser)


def test_an_address_block_ends_after_its_period(node: SipService) -> None:
    source = "127.0.0.5"
    for guess in ("a", "b", "c"):
        assert register(node, BOB, guess, 403, source)
    assert register_refused(node, BOB, source)
    time.sleep(3.5)  # auth_block_seconds = 3
    assert register(node, BOB, BOB_PW, 200, source)


# --- floods --------------------------------------------------------------------------------


def options(sock: socket.socket, port: int, n: int) -> bytes:
    branch = f"z9hG4bK{time.monotonic_ns()}{n}"
    local = sock.getsockname()[1]
    return (
        f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.4:{local};branch={branch}\r\n"
        f"From: <sip:flood@127.0.0.4>;tag={branch}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
        f"Call-ID: {branch}@flood\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 5\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def answers(sock: socket.socket, wait: float) -> int:
    sock.settimeout(wait)
    count = 0
    try:
        while sock.recv(4096):
            count += 1
    except TimeoutError:
        pass
    return count


def test_a_request_flood_from_one_address_is_dropped_until_its_block_ends(
    node: SipService,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.4", 0))
        for n in range(3 * FLOOD_LIMIT):
            sock.sendto(options(sock, node.port, n), ("127.0.0.1", node.port))
        answered = answers(sock, 1.0)
        assert FLOOD_LIMIT <= answered < 3 * FLOOD_LIMIT
        sock.sendto(options(sock, node.port, -1), ("127.0.0.1", node.port))
        assert answers(sock, 0.5) == 0  # dropped
        time.sleep(FLOOD_BLOCK_SECONDS + 0.5)
        sock.sendto(options(sock, node.port, -2), ("127.0.0.1", node.port))
        assert answers(sock, 1.0) == 1
    assert ("blocked", "127.0.0.4", "flood") in [
        (e["event"], e.get("source"), e.get("rule")) for e in events(node)
    ]


# --- concurrent calls ----------------------------------------------------------------------


def test_a_lines_third_call_and_the_nodes_fourth_get_503(node: SipService) -> None:
    answering = gateway(node, "answer.xml", calls=3)
    before_bob, before_carol = answered_calls(node, BOB), answered_calls(node, CAROL)
    first = in_background(node, BOB, FIXED, hold_ms=5000)
    second = in_background(node, BOB, FIXED, hold_ms=5000)
    assert until(lambda: answered_calls(node, BOB) == before_bob + 2)
    assert refused(node, BOB, FIXED, 503, "subscriber_calls")
    third = in_background(node, CAROL, FIXED, hold_ms=3000)
    assert until(lambda: answered_calls(node, CAROL) == before_carol + 1)
    assert refused(node, ALICE, FIXED, 503, "overload_calls")  # max_calls = 3
    assert first.result(timeout=15)
    assert second.result(timeout=15)
    assert third.result(timeout=15)
    answering.wait(timeout=10)
    # every count is released with its call (a count left behind would refuse forever)
    assert until(lambda: parse_dump(node.rpc("htable.dump", "calls")) == {})
    status = json.loads(node.denwa("protection", "status", "--json").stdout)
    refusals = status["refused"]
    assert refusals["subscriber_calls"] >= 1
    assert refusals["overload_calls"] >= 1


# --- maintenance ---------------------------------------------------------------------------


def test_maintenance_refuses_new_calls_while_the_call_in_progress_goes_on(
    node: SipService,
) -> None:
    answering = gateway(node, "answer.xml", calls=2)
    before = answered_calls(node, ALICE)
    talking = in_background(node, ALICE, FIXED, hold_ms=3000)
    assert until(lambda: answered_calls(node, ALICE) == before + 1)
    switched = node.denwa(
        "maintenance", "on", "--message", "ただいま工事中です。", "--retry-after", "120"
    )
    assert switched.returncode == 0, switched.stderr
    time.sleep(SNAPSHOT_CHECK_SECONDS + 0.3)  # every worker has re-read the snapshot
    try:
        assert until(lambda: refused(node, BOB, FIXED, 503, "maintenance"))
        assert talking.result(timeout=15)  # the call in progress ended with its own BYE
    finally:
        off = node.denwa("maintenance", "off")
        assert off.returncode == 0, off.stderr
    assert until(lambda: call(node, BOB, FIXED))
    answering.wait(timeout=10)


# --- the international spending cap --------------------------------------------------------


def test_the_spend_cap_refuses_the_call_the_rest_of_the_day_cannot_pay_for(
    node: SipService,
) -> None:
    answering = gateway(node, "answer.xml", calls=2)
    before = answered_calls(node, ALICE)
    first = in_background(node, ALICE, US, hold_ms=2000)  # reserves 18 of the 26 yen
    assert until(lambda: answered_calls(node, ALICE) == before + 1)
    assert refused(node, ALICE, US, 403, "international_spend_cap")  # 8 yen: not a minute
    assert first.result(timeout=15)  # it cost 9 yen (one minute): 17 left, a minute's worth
    assert until(lambda: call(node, ALICE, US))
    answering.wait(timeout=10)
    [refusal] = [e for e in events(node) if e["event"] == "refused"]
    assert (refusal["number"], refusal["rule"]) == (ALICE, "international_spend_cap")
    assert refusal["detail"]["reserved_yen"] == 18


# --- holding the line ----------------------------------------------------------------------


def test_a_call_put_on_hold_and_taken_off_it_is_reported_both_times(node: SipService) -> None:
    answering = node.peer(scenario("answer_hold.xml", node.home), node.gateways[0])
    path = scenario("hold.xml", node.home, HOLD_MS="500")
    done = node.sipp(path, *credentials(BOB), "-s", FIXED)
    assert done.returncode == 0, done.stdout + done.stderr
    answering.wait(timeout=10)
    holds = [e for e in events(node) if e["event"] in ("held", "resumed")]
    assert [(e["event"], e["number"]) for e in holds] == [("held", BOB), ("resumed", BOB)]
    assert holds[0]["call_id"] == holds[1]["call_id"]
    assert "held_seconds" in holds[1]["detail"]


def test_the_protection_watch_turns_the_events_into_alerts(node: SipService) -> None:
    done = node.denwa("protection", "watch")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(node.home / "denwa.sqlite3") as db:
        kinds = {kind for (kind,) in db.execute("SELECT kind FROM protection_alert")}
    expected = {"incomplete_calls", "auth_failures", "flood", "international_spend_cap", "overload"}
    assert expected <= kinds
