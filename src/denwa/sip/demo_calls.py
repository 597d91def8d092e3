"""A newcomer's first calls: sipp registers the demo TAs and places a scripted mix.

A stand-in interconnect gateway (sipp) answers on the first gateway address of
``sip.toml`` if nothing listens there; Bob's TA answers, Carol's rings and the
caller gives up (the seed's incomplete call).
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from denwa.sip.config import SipConfig
from denwa.sip.sipp import fill_scenario, free_port, uac, uas

ALICE, ALICE_PW = "05055500001", "demo0001"
BOB, BOB_PW = "05055500002", "demo0002"
CAROL, CAROL_PW = "05055500003", "demo0003"


@dataclass(frozen=True)
class DemoCall:
    """One scripted call: what it shows, what is dialled, which scenario places it."""

    label: str
    dialled: str
    scenario: str
    fill: tuple[tuple[str, str], ...] = ()


SCRIPT = (
    DemoCall("on-net call to Bob", BOB, "call.xml", (("HOLD_MS", "1500"),)),
    DemoCall("fixed line, Tokyo", "0312345678", "call.xml", (("HOLD_MS", "2000"),)),
    DemoCall("mobile", "09012345678", "call.xml", (("HOLD_MS", "1000"),)),
    DemoCall("international, USA", "01012125550123", "call.xml", (("HOLD_MS", "1000"),)),
    DemoCall("Carol, given up while ringing", CAROL, "cancel.xml"),
    DemoCall("110 (police)", "110", "refused.xml", (("EXPECTED_CODE", "403"),)),
    DemoCall("0120 freephone", "0120123456", "refused.xml", (("EXPECTED_CODE", "403"),)),
    DemoCall("0033 carrier prefix", "0033-0312345678", "refused.xml", (("EXPECTED_CODE", "403"),)),
)


DIAL_INTERVAL_SECONDS = 1.0
"""Between the starts of two calls: as a person dials, well within the line's attempts
per second (``subscriber_call_attempts_per_second``, 2 as shipped), so that the calls
show the policy's answers and not the rate limit's 503."""


@dataclass(frozen=True)
class PlacedCall:
    """A call the demo placed, with the Call-ID its CDR will carry."""

    call: DemoCall
    call_id: str
    sipp_ok: bool


def place_demo_calls(config: SipConfig, workdir: Path) -> list[PlacedCall]:
    """Register the demo TAs and place the script; returns each call with its Call-ID."""
    workdir.mkdir(parents=True, exist_ok=True)
    proxy = f"{config.listen_address}:{config.listen_port}"
    peers: list[subprocess.Popen[bytes]] = []
    try:
        gateway = config.gateways[0]
        peers.append(_stand_in_gateway(gateway, workdir, calls=3))
        bob_port, carol_port = free_port(), free_port()
        peers.append(uas(fill_scenario("answer.xml", workdir), bob_port, workdir))
        peers.append(uas(fill_scenario("ring.xml", workdir), carol_port, workdir))
        time.sleep(0.3)
        _register(proxy, BOB, BOB_PW, bob_port, workdir)
        _register(proxy, CAROL, CAROL_PW, carol_port, workdir)
        placed = []
        stamp = int(time.time())
        dialled_at = -DIAL_INTERVAL_SECONDS
        for index, call in enumerate(SCRIPT, start=1):
            time.sleep(max(0.0, dialled_at + DIAL_INTERVAL_SECONDS - time.monotonic()))
            dialled_at = time.monotonic()
            call_id = f"demo-{stamp}-{index}@127.0.0.1"
            scenario = fill_scenario(
                call.scenario,
                workdir,
                **dict(call.fill),
                EXPECTED_REFUSAL=".*",
                **{'check_it="true"': 'check_it="false"'},
            )
            done = uac(
                proxy,
                scenario,
                ["-s", call.dialled, "-au", ALICE, "-ap", ALICE_PW, "-set", "caller", ALICE,
                 "-cid_str", call_id],
                workdir,
            )  # fmt: skip
            placed.append(PlacedCall(call, call_id, done.returncode == 0))
        return placed
    finally:
        for peer in peers:
            if peer.poll() is None:
                peer.terminate()
            peer.wait()


def _stand_in_gateway(gateway: str, workdir: Path, calls: int) -> subprocess.Popen[bytes]:
    port = gateway.rpartition(":")[2]
    return uas(fill_scenario("answer.xml", workdir), int(port), workdir, calls=calls)


def _register(proxy: str, number: str, password: str, port: int, workdir: Path) -> None:
    scenario = fill_scenario(
        "register.xml",
        workdir,
        EXPECTED_CODE="200",
        **{"[local_ip]:[local_port]>": f"127.0.0.1:{port}>"},
    )
    done = uac(proxy, scenario, ["-s", number, "-au", number, "-ap", password], workdir)
    if done.returncode != 0:
        raise RuntimeError(f"could not register {number} at {proxy}: is the service running?")
