"""Call records survive a Kamailio restart and reach the CDR table within seconds."""

from __future__ import annotations

import sqlite3
import subprocess
import time

import pytest

from tests.e2e.sip import DENWA, SipService, scenario

pytestmark = pytest.mark.e2e

ALICE, ALICE_PW = "05055500001", "demo0001"


def calls(service: SipService, count: int, dialled: str) -> int:
    """Place ``count`` short answered calls through the gateway; return how many succeeded."""
    gateway = service.peer(scenario("answer.xml", service.home), service.gateways[0], calls=count)
    path = scenario("call.xml", service.home, HOLD_MS="200")
    args = ("-s", dialled, "-au", ALICE, "-ap", ALICE_PW, "-set", "caller", ALICE)
    done = sum(service.sipp(path, *args).returncode == 0 for _ in range(count))
    gateway.wait(timeout=15)
    return done


def cdrs_in_table(service: SipService, callee: str) -> int:
    with sqlite3.connect(service.home / "denwa.sqlite3") as db:
        row = db.execute("SELECT COUNT(*) FROM calls_cdr WHERE callee = ?", (callee,)).fetchone()
    return int(row[0])


def test_a_kamailio_restart_loses_and_duplicates_no_completed_call(
    sip_service: SipService,
) -> None:
    before = calls(sip_service, 3, "0311111111")
    sip_service.stop()
    sip_service.peers.clear()
    sip_service.start()
    after = calls(sip_service, 3, "0322222222")
    answered = [c for c in sip_service.cdrs(wait_for=6) if c["disposition"] == "answered"]
    ids = [c["id"] for c in answered]
    assert (before, after) == (3, 3)
    assert len(ids) == len(set(ids)) == 6


def test_a_call_reaches_the_cdr_table_within_five_seconds(sip_service: SipService) -> None:
    ingest = subprocess.Popen(
        [str(DENWA), "cdr", "ingest", "--follow"],
        env=sip_service.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert calls(sip_service, 1, "0333333333") == 1
        ended = time.monotonic()
        while cdrs_in_table(sip_service, "0333333333") == 0 and time.monotonic() - ended < 5:
            time.sleep(0.2)
        assert cdrs_in_table(sip_service, "0333333333") == 1
    finally:
        ingest.terminate()
        ingest.wait(timeout=10)
