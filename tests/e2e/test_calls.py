"""Calls through the real Kamailio, with sipp as the TAs and as the interconnect gateway."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime

import pytest

from tests.e2e.sip import SipService, free_udp_port, scenario

pytestmark = pytest.mark.e2e

ALICE, ALICE_PW = "05055500001", "demo0001"
BOB, BOB_PW = "05055500002", "demo0002"


def register(service: SipService, number: str, password: str, expect: int) -> bool:
    path = scenario("register.xml", service.home, EXPECTED_CODE=str(expect))
    done = service.sipp(path, "-s", number, "-au", number, "-ap", password)
    return done.returncode == 0


def call(service: SipService, caller: str, password: str, dialled: str, hold_ms: int = 500) -> bool:
    path = scenario("call.xml", service.home, HOLD_MS=str(hold_ms))
    done = service.sipp(
        path, "-s", dialled, "-au", caller, "-ap", password, "-set", "caller", caller
    )
    return done.returncode == 0


def refused(service: SipService, dialled: str, code: int, reason: str) -> bool:
    path = scenario("refused.xml", service.home, EXPECTED_CODE=str(code), EXPECTED_REFUSAL=reason)
    done = service.sipp(path, "-s", dialled, "-au", ALICE, "-ap", ALICE_PW, "-set", "caller", ALICE)
    return done.returncode == 0


def cdr_for(service: SipService, callee: str, timeout: float = 5) -> dict[str, object]:
    """The latest CDR to ``callee``, waiting for the dialog's end to write it."""
    deadline = time.monotonic() + timeout
    while True:
        matching = [c for c in service.cdrs() if c["callee"] == callee]
        if matching or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert matching, f"no CDR to {callee} in {service.cdrs()}"
    return matching[-1]


def test_a_ta_registers_with_its_password(sip_service: SipService) -> None:
    assert register(sip_service, ALICE, ALICE_PW, 200)


def test_a_wrong_password_is_refused_and_never_registers(sip_service: SipService) -> None:
    assert register(sip_service, BOB, "not-the-password", 403)


def test_a_call_to_a_fixed_line_reaches_the_gateway_with_the_national_number(
    sip_service: SipService,
) -> None:
    gateway = sip_service.peer(scenario("answer.xml", sip_service.home), sip_service.gateways[0])
    assert call(sip_service, ALICE, ALICE_PW, "+81312345678", hold_ms=1000)
    gateway.wait(timeout=10)
    invite = gateway.trace.read_text()  # type: ignore[attr-defined]
    assert "INVITE sip:0312345678@" in invite
    assert f"P-Asserted-Identity: <sip:{ALICE}@" in invite
    assert "Privacy: id" not in invite
    record = cdr_for(sip_service, "0312345678")
    assert record["disposition"] == "answered"
    answered = datetime.fromisoformat(str(record["answer"]))
    ended = datetime.fromisoformat(str(record["end"]))
    assert abs((ended - answered).total_seconds() - 1.0) < 1.0


def test_184_withholds_the_callers_identity(sip_service: SipService) -> None:
    gateway = sip_service.peer(scenario("answer.xml", sip_service.home), sip_service.gateways[0])
    assert call(sip_service, ALICE, ALICE_PW, "18409012345678")
    gateway.wait(timeout=10)
    invite = gateway.trace.read_text()  # type: ignore[attr-defined]
    assert "INVITE sip:09012345678@" in invite
    assert "Privacy: id" in invite


@pytest.mark.parametrize(
    ("dialled", "code", "reason"),
    [
        ("110", 403, "emergency"),
        ("119", 403, "emergency"),
        ("104", 403, "special_3digit"),
        ("0120123456", 403, "non_geographic"),
        ("0033031234567", 403, "carrier_prefix"),
        ("05099901234", 403, "no_agreement"),
        ("031234567", 484, "incomplete"),
        ("03012345678", 404, "unassigned"),
    ],
    ids=["110", "119", "104", "0120", "0033", "no-agreement", "too-short", "unassigned"],
)
def test_refused_numbers_get_their_code_and_reason(
    sip_service: SipService, dialled: str, code: int, reason: str
) -> None:
    assert refused(sip_service, dialled, code, reason)
    record = cdr_for(sip_service, dialled)
    assert (record["disposition"], record["sip_code"]) == ("refused", code)


def test_an_on_net_call_reaches_the_registered_ta(sip_service: SipService) -> None:
    ta = sip_service.peer(scenario("answer.xml", sip_service.home), port=free_udp_port())
    register_at(sip_service, BOB, BOB_PW, ta)
    assert call(sip_service, ALICE, ALICE_PW, BOB)
    ta.wait(timeout=10)
    assert f"INVITE sip:{BOB}@127.0.0.1:" in ta.trace.read_text()  # type: ignore[attr-defined]
    assert cdr_for(sip_service, BOB)["disposition"] == "answered"


def test_an_on_net_call_to_an_unregistered_ta_gets_480(sip_service: SipService) -> None:
    assert refused_plain(sip_service, "05055500003", 480)


def register_at(service: SipService, number: str, password: str, ta: object) -> None:
    """Register ``number`` with the TA's address as its contact."""
    port = ta.args[ta.args.index("-p") + 1]  # type: ignore[attr-defined]
    path = scenario("register.xml", service.home, EXPECTED_CODE="200")
    text = path.read_text().replace("[local_ip]:[local_port]>", f"127.0.0.1:{port}>")
    path.write_text(text)
    done = service.sipp(path, "-s", number, "-au", number, "-ap", password)
    assert done.returncode == 0, done.stdout + done.stderr


def refused_plain(service: SipService, dialled: str, code: int) -> bool:
    path = scenario("refused.xml", service.home, EXPECTED_CODE=str(code), EXPECTED_REFUSAL=".*")
    text = path.read_text().replace('check_it="true"', 'check_it="false"')
    path.write_text(text)
    done = service.sipp(path, "-s", dialled, "-au", ALICE, "-ap", ALICE_PW, "-set", "caller", ALICE)
    return done.returncode == 0


def run_scenario(service: SipService, name: str, dialled: str, **fill: str) -> bool:
    path = scenario(name, service.home, **fill)
    done = service.sipp(path, "-s", dialled, "-au", ALICE, "-ap", ALICE_PW, "-set", "caller", ALICE)
    return done.returncode == 0


def test_a_call_given_up_before_the_answer_leaves_a_cancelled_cdr(sip_service: SipService) -> None:
    gateway = sip_service.peer(scenario("ring.xml", sip_service.home), sip_service.gateways[0])
    assert run_scenario(sip_service, "cancel.xml", "0612345678")
    gateway.wait(timeout=10)
    record = cdr_for(sip_service, "0612345678")
    assert (record["disposition"], record["answer"]) == ("cancelled", None)


def test_a_failing_gateway_hands_the_call_to_the_next_one(sip_service: SipService) -> None:
    first = sip_service.peer(
        scenario("fail.xml", sip_service.home, FAIL_CODE="503"), sip_service.gateways[0]
    )
    second = sip_service.peer(scenario("answer.xml", sip_service.home), sip_service.gateways[1])
    assert call(sip_service, ALICE, ALICE_PW, "0751234567")
    first.wait(timeout=10)
    second.wait(timeout=10)
    assert "INVITE sip:0751234567@" in second.trace.read_text()  # type: ignore[attr-defined]
    assert cdr_for(sip_service, "0751234567")["disposition"] == "answered"


def test_the_maximum_call_length_ends_the_call_on_both_sides(sip_service: SipService) -> None:
    gateway = sip_service.peer(scenario("answer.xml", sip_service.home), sip_service.gateways[0])
    started = time.monotonic()
    assert run_scenario(sip_service, "long_call.xml", "0852123456")  # the TA gets a BYE
    gateway.wait(timeout=15)
    assert gateway.returncode == 0  # so did the gateway
    assert 3.0 <= time.monotonic() - started <= 9.0  # max_call_seconds = 4
    # Kamailio 5.6's dialog module does not always run dialog:end after its own BYEs;
    # the answer journal makes sure the call is billed anyway, up to its maximum length.
    time.sleep(1.5)  # the dialog timer ticks by the second: let max_end pass for sure
    ingested = sip_service.denwa("cdr", "ingest", "--grace", "0")
    assert ingested.returncode == 0, ingested.stderr
    with sqlite3.connect(sip_service.home / "denwa.sqlite3") as db:
        rows = db.execute(
            "SELECT disposition, billed_seconds FROM calls_cdr WHERE callee = '0852123456'"
        ).fetchall()
    assert len(rows) == 1
    assert rows[0][0] == "answered"
    assert 3 <= rows[0][1] <= 5


def test_a_stopped_subscriber_is_refused_within_two_seconds(sip_service: SipService) -> None:
    carol, carol_pw = "05055500003", "demo0003"
    stopped = sip_service.denwa(
        "subscriber", "stop", carol, "--date", "2026-11-25", "--reason", "test"
    )
    assert stopped.returncode == 0, stopped.stderr
    time.sleep(2)
    path = scenario(
        "refused.xml", sip_service.home, EXPECTED_CODE="403", EXPECTED_REFUSAL="caller_stopped"
    )
    done = sip_service.sipp(
        path, "-s", "0312345678", "-au", carol, "-ap", carol_pw, "-set", "caller", carol
    )
    assert done.returncode == 0, done.stdout
    resumed = sip_service.denwa("subscriber", "resume", carol, "--date", "2026-11-26")
    assert resumed.returncode == 0, resumed.stderr
