"""The SIP routing steps with a fake Kamailio: what each request leads to."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from denwa.core.operator_data.bundle import OperatorData
from denwa.sip.config import SipConfig
from denwa.sip.routing import Router
from denwa.sip.snapshot import SnapshotWatcher, encode_snapshot, write_snapshot
from denwa.sip.spool import CdrSpool, iso

pytestmark = pytest.mark.unit

ALICE = "05055500001"
HA1 = "a" * 32
GATEWAY = ("127.0.0.1", 5070)
NOW = 1_795_000_000.0  # 2026-11-18, when the shipped tariffs are in force


@dataclass
class FakeSip:
    """A request as the router sees it, and a log of what the router made Kamailio do."""

    method_: str = "INVITE"
    ruri: str = "0312345678"
    from_: str = ALICE
    source: tuple[str, int] = ("127.0.0.1", 40000)
    auth_user: str | None = ALICE
    auth_result: int = 1
    to_tag: bool = False
    registered: frozenset[str] = frozenset()
    gateways_up: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    asserted: str | None = None
    dialog: dict[str, str] = field(default_factory=dict)
    reply_code: int = 0
    cancelled: bool = False
    next_gateway_ok: bool = True
    actions: list[Any] = field(default_factory=list)

    def method(self) -> str:
        return self.method_

    def ruri_user(self) -> str:
        return self.ruri

    def from_user(self) -> str:
        return self.from_

    def asserted_user(self) -> str | None:
        return self.asserted

    def call_id(self) -> str:
        return "call-1"

    def source_ip(self) -> str:
        return self.source[0]

    def source_port(self) -> int:
        return self.source[1]

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def reply(self, code: int, reason: str, headers: Sequence[str] = ()) -> None:
        self.actions.append(("reply", code, tuple(headers)))

    def auth_username(self) -> str | None:
        return self.auth_user

    def check_auth(self, realm: str, ha1: str, proxy: bool) -> int:
        self.actions.append(("check-auth", ha1, proxy))
        return self.auth_result

    def challenge(self, realm: str, proxy: bool) -> None:
        self.actions.append(("challenge", 407 if proxy else 401))

    def consume_credentials(self) -> None:
        pass

    def save_location(self) -> bool:
        self.actions.append(("save",))
        return True

    def lookup_location(self, number: str) -> bool:
        return number in self.registered

    def record_route(self) -> None:
        pass

    def set_ruri_user(self, user: str) -> None:
        self.ruri = user

    def add_header(self, header: str) -> None:
        self.actions.append(("header", header))

    def remove_header(self, name: str) -> None:
        pass

    def track_dialog(self, variables: Mapping[str, str], max_seconds: int | None = None) -> None:
        self.dialog.update(variables)
        self.actions.append(("dialog", max_seconds))

    def dialog_call_id(self) -> str:
        return "call-1"

    def set_dialog_var(self, name: str, value: str) -> None:
        self.dialog[name] = value

    def dialog_var(self, name: str) -> str | None:
        return self.dialog.get(name)

    def relay_to_gateways(self) -> bool:
        self.actions.append(("gateway", self.ruri))
        return self.gateways_up

    def relay(self) -> bool:
        self.actions.append(("relay", self.ruri))
        return True

    def watch_failures(self) -> None:
        pass

    def final_reply_code(self) -> int:
        return self.reply_code

    def is_cancelled(self) -> bool:
        return self.cancelled

    def next_gateway(self) -> bool:
        self.actions.append(("next-gateway",))
        return self.next_gateway_ok

    def replies(self) -> list[int]:
        return [a[1] for a in self.actions if a[0] == "reply"]


@pytest.fixture
def router(tmp_path: Path, data: OperatorData) -> Router:
    rows = [
        (ALICE, "active", HA1, "denwa.local", False),
        ("05055500002", "active", HA1, "denwa.local", False),
        ("05055500003", "stopped", HA1, "denwa.local", False),
        ("05055500004", "terminated", HA1, "denwa.local", False),
        ("05055500005", "active", HA1, "denwa.local", True),
    ]
    path = tmp_path / "snapshot.json"
    write_snapshot(path, encode_snapshot(rows, 1, data, None))
    config = SipConfig(gateways=(f"{GATEWAY[0]}:{GATEWAY[1]}",), max_call_seconds=3600)
    return Router(config, SnapshotWatcher(path), CdrSpool(tmp_path / "spool"), clock=lambda: NOW)


def spooled(router: Router) -> list[str]:
    return [
        line
        for path in router.spool.directory.glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]


def test_an_invite_without_credentials_is_challenged(router: Router) -> None:
    sip = FakeSip(auth_user=None)
    router.request(sip)
    assert sip.actions == [("challenge", 407)]


def test_a_register_without_credentials_gets_401(router: Router) -> None:
    sip = FakeSip(method_="REGISTER", auth_user=None)
    router.request(sip)
    assert sip.actions == [("challenge", 401)]


def test_a_register_checks_the_ha1_and_saves_the_contact(router: Router) -> None:
    sip = FakeSip(method_="REGISTER")
    router.request(sip)
    assert sip.actions == [("check-auth", HA1, False), ("save",)]


@pytest.mark.parametrize(
    ("auth_user", "result"),
    [(ALICE, -2), ("05055500002", 1), ("05055599999", 1)],
    ids=["wrong-password", "someone-elses-credentials", "unknown-user"],
)
def test_bad_credentials_get_403(router: Router, auth_user: str, result: int) -> None:
    sip = FakeSip(auth_user=auth_user, auth_result=result)
    router.request(sip)
    assert sip.replies() == [403]


def test_a_stale_nonce_is_challenged_again(router: Router) -> None:
    sip = FakeSip(auth_result=-4)
    router.request(sip)
    assert sip.actions[-1] == ("challenge", 407)


def test_a_terminated_contract_cannot_register(router: Router) -> None:
    sip = FakeSip(method_="REGISTER", from_="05055500004", auth_user="05055500004")
    router.request(sip)
    assert sip.replies() == [403]


def test_an_admitted_call_goes_to_the_gateways_with_the_national_number(router: Router) -> None:
    sip = FakeSip(ruri="+81312345678")
    router.request(sip)
    assert ("gateway", "0312345678") in sip.actions
    assert ("header", f"P-Asserted-Identity: <sip:{ALICE}@denwa.local>") in sip.actions
    assert ("dialog", None) in sip.actions  # the maximum length: the cfg's default_timeout


def test_184_adds_privacy_id(router: Router) -> None:
    sip = FakeSip(ruri="1840312345678")
    router.request(sip)
    assert ("header", "Privacy: id") in sip.actions


def test_no_gateway_left_gets_503_with_retry_after(router: Router) -> None:
    sip = FakeSip(gateways_up=False)
    router.request(sip)
    assert sip.actions[-1] == ("reply", 503, ("Retry-After: 30",))


def test_with_the_spools_disk_full_a_call_gets_503_with_retry_after_and_is_not_routed(
    router: Router,
) -> None:
    router.spool.reserve_bytes = 1 << 62  # more than any disk has free
    sip = FakeSip(ruri="+81312345678")
    router.request(sip)
    assert sip.actions == [
        (
            "reply",
            503,
            (
                "Retry-After: 60",
                'Reason: SIP;cause=503;text="CDR spool full"',
                "X-Denwa-Refusal: spool_full",
            ),
        )
    ]


def test_with_the_spools_disk_full_a_ta_still_registers(router: Router) -> None:
    router.spool.reserve_bytes = 1 << 62
    sip = FakeSip(method_="REGISTER")
    router.request(sip)
    assert sip.actions[-1] == ("save",)


def test_a_refused_call_gets_the_policy_code_reason_and_a_cdr(router: Router) -> None:
    sip = FakeSip(ruri="110")
    router.request(sip)
    (code, headers) = next((a[1], a[2]) for a in sip.actions if a[0] == "reply")
    assert code == 403
    assert any(h.startswith("Reason: SIP;cause=403;text=") for h in headers)
    assert "X-Denwa-Refusal: emergency" in headers
    assert any("緊急通話" in h for h in headers)
    [record] = spooled(router)
    assert '"disposition":"refused"' in record
    assert '"sip_code":403' in record


def test_a_stopped_subscriber_cannot_call(router: Router) -> None:
    sip = FakeSip(from_="05055500003", auth_user="05055500003")
    router.request(sip)
    assert sip.replies() == [403]


def test_a_barred_subscriber_cannot_call_abroad(router: Router) -> None:
    sip = FakeSip(from_="05055500005", auth_user="05055500005", ruri="01012125550123")
    router.request(sip)
    assert sip.replies() == [403]


def test_an_on_net_call_to_a_registered_ta_is_relayed_to_it(router: Router) -> None:
    sip = FakeSip(ruri="05055500002", registered=frozenset({"05055500002"}))
    router.request(sip)
    assert ("relay", "05055500002") in sip.actions


def test_an_on_net_call_to_an_unregistered_ta_gets_480_and_a_cdr(router: Router) -> None:
    sip = FakeSip(ruri="05055500002")
    router.request(sip)
    assert sip.replies() == [480]
    assert '"disposition":"no_answer"' in spooled(router)[0]


def test_the_interconnect_is_trusted_by_address_and_reaches_our_ta(router: Router) -> None:
    sip = FakeSip(
        source=GATEWAY,
        from_="0312345678",
        auth_user=None,
        ruri=ALICE,
        registered=frozenset({ALICE}),
    )
    router.request(sip)
    assert ("relay", ALICE) in sip.actions
    assert not any(a[0] == "challenge" for a in sip.actions)


@pytest.mark.parametrize(
    ("caller", "services", "admitted"),
    [
        ("07053123456", "", True),
        ("07056123456", "", False),
        ("07055123456", "", False),
        ("07055123456", "zenkoku_call", True),
    ],
    ids=["docomo-phs", "astel-other", "astel-tokyo-alone", "astel-tokyo-zenkoku-call"],
)
def test_phs_callers_from_the_interconnect_follow_their_carrier_rule(
    router: Router, caller: str, services: str, admitted: bool
) -> None:
    headers = {"X-Denwa-Caller-Service": services} if services else {}
    sip = FakeSip(
        source=GATEWAY, asserted=caller, auth_user=None, ruri=ALICE,
        registered=frozenset({ALICE}), headers=headers,
    )  # fmt: skip
    router.request(sip)
    assert (("relay", ALICE) in sip.actions) is admitted
    assert (sip.replies() == [403]) is not admitted


def test_the_interconnect_cannot_reach_a_stopped_subscriber(router: Router) -> None:
    sip = FakeSip(source=GATEWAY, from_="0312345678", auth_user=None, ruri="05055500003")
    router.request(sip)
    assert sip.replies() == [480]


def test_a_5xx_from_a_gateway_tries_the_next(router: Router) -> None:
    sip = FakeSip(reply_code=503)
    router.gateway_failure(sip)
    assert sip.actions == [("next-gateway",)]


def test_a_busy_callee_is_not_retried_on_another_gateway(router: Router) -> None:
    sip = FakeSip(reply_code=486)
    router.gateway_failure(sip)
    assert sip.actions == []
    assert sip.dialog["final_code"] == "486"


@pytest.mark.parametrize(
    ("code", "cancelled", "disposition"),
    [
        (486, False, "busy"),
        (0, True, "cancelled"),
        (408, False, "no_answer"),
        (500, False, "failed"),
    ],
    ids=["busy", "cancelled", "no-answer", "failed"],
)
def test_an_unanswered_call_leaves_one_cdr_with_its_disposition(
    router: Router, code: int, cancelled: bool, disposition: str
) -> None:
    sip = FakeSip(reply_code=code, cancelled=cancelled, next_gateway_ok=False)
    router.request(sip)  # the INVITE notes the call in the dialog
    router.gateway_failure(sip)
    router.dialog_event(sip, "dialog:failed")
    [record] = spooled(router)
    assert f'"disposition":"{disposition}"' in record


def test_an_answered_call_is_written_once_even_if_timeout_and_end_both_fire(
    router: Router,
) -> None:
    sip = FakeSip()
    router.request(sip)
    router.dialog_event(sip, "dialog:start")
    router.dialog_timeout(sip)
    router.dialog_event(sip, "dialog:end")
    journal, record = spooled(router)
    assert '"disposition":"in_progress"' in journal  # noted at the answer, in case no end comes
    assert '"disposition":"answered"' in record


def test_an_answered_call_leaves_a_journal_record_and_a_cdr_from_what_its_invite_noted(
    router: Router,
) -> None:
    sip = FakeSip(ruri="+81312345678")
    router.request(sip)
    sip.ruri, sip.from_ = "ignored", "ignored"  # the dialog's events come with other messages
    router.clock = lambda: NOW + 2.5
    router.dialog_event(sip, "dialog:start")
    router.clock = lambda: NOW + 63.25
    router.dialog_event(sip, "dialog:end")
    journal, record = (json.loads(line) for line in spooled(router))
    call = {"id": "call-1", "caller": ALICE, "callee": "0312345678"}
    assert journal == call | {
        "start": iso(NOW),
        "answer": iso(NOW + 2.5),
        "end": None,
        "disposition": "in_progress",
        "max_end": iso(NOW + 2.5 + 3600),
        "node": router.spool.node,  # whose heartbeat vouches for the call (node failure)
    }
    assert record == call | {
        "start": iso(NOW),
        "answer": iso(NOW + 2.5),
        "end": iso(NOW + 63.25),
        "disposition": "answered",
        "sip_code": None,
    }


def test_a_call_that_ends_unanswered_is_not_billed_as_answered(router: Router) -> None:
    sip = FakeSip()
    router.request(sip)
    router.dialog_event(sip, "dialog:end")  # no dialog:start before it
    [record] = spooled(router)
    assert json.loads(record)["disposition"] == "failed"
