"""The SIP routing steps with a fake Kamailio: what each request leads to."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from denwa.core.operator_data.bundle import OperatorData
from denwa.core.protection.policy import load_protection
from denwa.core.protection.state import Maintenance, ProtectionState, encode_state
from denwa.sip.config import SipConfig
from denwa.sip.protection import CallGuards, EventSpool, ProtectionWatcher
from denwa.sip.routing import Router, billing_date_of
from denwa.sip.snapshot import SnapshotWatcher, encode_snapshot, write_snapshot
from denwa.sip.spool import CdrSpool, iso

pytestmark = pytest.mark.unit

ALICE = "05055500001"
HA1 = "a" * 32
GATEWAY = ("127.0.0.1", 5070)
NOW = 1_795_000_000.0  # 2026-11-18, when the shipped tariffs are in force


GATEWAYS = ("sip:127.0.0.1:5070", "sip:127.0.0.1:5071")


@dataclass
class SharedMemory:
    """Kamailio's htables and the dialog module's count, as the protection steps see them."""

    tables: dict[str, dict[str, int | str]] = field(default_factory=dict)
    expiry: dict[tuple[str, str], int] = field(default_factory=dict)
    dialogs: int = 0


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
    sdp: str = ""
    memory: SharedMemory = field(default_factory=lambda: SharedMemory())
    relay_ok: bool = True
    gateway: int = 0
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

    def select_gateway(self) -> bool:
        self.gateway = 0
        return self.gateways_up

    def skip_gateway(self) -> bool:
        self.actions.append(("next-gateway",))
        self.gateway += 1
        return self.next_gateway_ok and self.gateway < len(GATEWAYS)

    def gateway_address(self) -> str:
        return GATEWAYS[self.gateway]

    def relay_to_gateway(self) -> bool:
        self.actions.append(("gateway", self.ruri))
        return self.relay_ok

    def relay(self) -> bool:
        self.actions.append(("relay", self.ruri))
        return self.relay_ok

    def watch_failures(self) -> None:
        pass

    def final_reply_code(self) -> int:
        return self.reply_code

    def is_cancelled(self) -> bool:
        return self.cancelled

    def body(self) -> str:
        return self.sdp

    def htable_get(self, table: str, key: str) -> int | str | None:
        return self.memory.tables.get(table, {}).get(key)

    def htable_inc(self, table: str, key: str) -> int:
        items = self.memory.tables.setdefault(table, {})
        items[key] = int(items.get(key, 0)) + 1
        return int(items[key])

    def htable_dec(self, table: str, key: str) -> int:
        items = self.memory.tables.setdefault(table, {})
        items[key] = int(items.get(key, 0)) - 1
        return int(items[key])

    def htable_set(self, table: str, key: str, value: str, expire_seconds: int) -> None:
        self.memory.tables.setdefault(table, {})[key] = value
        self.memory.expiry[(table, key)] = expire_seconds

    def htable_set_int(self, table: str, key: str, value: int) -> None:
        self.memory.tables.setdefault(table, {})[key] = value

    @contextmanager
    def htable_locked(self, table: str, key: str) -> Iterator[None]:
        yield

    def htable_keys(self, table: str) -> list[str]:
        return list(self.memory.tables.get(table, {}))

    def htable_delete(self, table: str, key: str) -> None:
        self.memory.tables.get(table, {}).pop(key, None)

    def calls_in_progress(self) -> int:
        return self.memory.dialogs

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
    guards = CallGuards(
        config.limits,
        ProtectionWatcher(tmp_path / "protection.json"),
        EventSpool(tmp_path / "spool"),
    )
    return Router(
        config,
        SnapshotWatcher(path),
        CdrSpool(tmp_path / "spool"),
        clock=lambda: NOW,
        guards=guards,
    )


def spooled(router: Router) -> list[str]:
    return [
        line
        for path in router.spool.directory.glob("*.cdr.jsonl")
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
    assert sip.actions == [("next-gateway",), ("gateway", "0312345678")]


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


# --- protection (README, "Protection") ---------------------------------------------------------

US = "01012125550123"


def publish(router: Router, tmp_path: Path, **state: Any) -> None:
    """Write the protection snapshot the router's guards read."""
    policy = load_protection()
    document = encode_state(ProtectionState(policy_key=policy.key, **state))
    write_snapshot(tmp_path / "protection.json", document)
    assert router.guards is not None
    router.guards.watcher.check_every = 0  # re-read at once


def events(router: Router) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in router.spool.directory.glob("*.events.jsonl")
        for line in path.read_text().splitlines()
    ]


def refusal_of(sip: FakeSip) -> tuple[int, dict[str, str]]:
    code, headers = next((a[1], a[2]) for a in sip.actions if a[0] == "reply")
    return code, dict(h.split(": ", 1) for h in headers)


def tables(sip: FakeSip, table: str) -> dict[str, int | str]:
    return sip.memory.tables.get(table, {})


def test_maintenance_refuses_new_calls_with_503_retry_after_and_its_announcement(
    router: Router, tmp_path: Path
) -> None:
    publish(router, tmp_path, maintenance=Maintenance(True, "ただいま工事中です。", 1800))
    for sip in (FakeSip(), FakeSip(source=GATEWAY, auth_user=None, ruri=ALICE)):
        router.request(sip)
        code, headers = refusal_of(sip)
        assert code == 503
        assert headers["Retry-After"] == "1800"
        assert headers["X-Denwa-Announcement"] == "ただいま工事中です。"
        assert headers["X-Denwa-Refusal"] == "maintenance"
    assert [json.loads(line)["sip_code"] for line in spooled(router)] == [503, 503]
    assert tables(sip, "totals") == {"refused:maintenance": 1}


def test_a_call_in_progress_is_untouched_by_maintenance(router: Router, tmp_path: Path) -> None:
    sip = FakeSip()
    router.request(sip)
    router.dialog_event(sip, "dialog:start")
    publish(router, tmp_path, maintenance=Maintenance(True))
    router.dialog_event(sip, "dialog:end")  # in-dialog requests never reach the steps
    assert '"disposition":"answered"' in spooled(router)[-1]


def test_a_line_with_two_calls_in_progress_gets_503_for_a_third(router: Router) -> None:
    first = FakeSip()
    router.request(first)
    assert tables(first, "calls")[f"line:{ALICE}"] == 1
    second = FakeSip(memory=first.memory)
    router.clock = lambda: NOW + 1  # another second: not the attempts-per-second rule
    router.request(second)
    third = FakeSip(memory=first.memory)
    router.clock = lambda: NOW + 2
    router.request(third)
    assert not any(a[0] == "reply" for a in second.actions)
    code, headers = refusal_of(third)
    assert (code, headers["X-Denwa-Refusal"], headers["Retry-After"]) == (
        503,
        "subscriber_calls",
        "30",
    )


def test_the_third_call_attempt_of_a_line_in_one_second_gets_503(router: Router) -> None:
    memory = SharedMemory()
    attempts = [FakeSip(memory=memory) for _ in range(3)]
    for sip in attempts:
        router.request(sip)
    assert [refusal_of(s)[0] for s in attempts if s.replies()] == [503]
    assert refusal_of(attempts[2])[1]["X-Denwa-Refusal"] == "subscriber_rate"
    for admitted in attempts[:2]:  # not the line's calls-in-progress rule either
        router.dialog_event(admitted, "dialog:end")
    router.clock = lambda: NOW + 1
    later = FakeSip(memory=memory)
    router.request(later)
    assert later.replies() == []


def test_the_nodes_calls_at_their_limit_refuse_the_next_with_one_overload_event_a_minute(
    router: Router,
) -> None:
    memory = SharedMemory(dialogs=2000)
    for offset in (0, 1, 61):
        router.clock = lambda offset=offset: NOW + offset  # type: ignore[misc]
        sip = FakeSip(memory=memory)
        router.request(sip)
        assert refusal_of(sip)[1]["X-Denwa-Refusal"] == "overload_calls"
    assert tables(sip, "totals") == {"refused:overload_calls": 3}
    assert [e["event"] for e in events(router)] == ["overload", "overload"]


def test_a_gateway_at_its_limit_is_passed_over_and_with_all_at_it_the_call_gets_503(
    router: Router,
) -> None:
    memory = SharedMemory(tables={"calls": {f"gateway:{GATEWAYS[0]}": 1000}})
    sip = FakeSip(memory=memory)
    router.request(sip)
    assert tables(sip, "calls")[f"gateway:{GATEWAYS[1]}"] == 1
    memory.tables["calls"][f"gateway:{GATEWAYS[1]}"] = 1000
    full = FakeSip(memory=memory)
    router.clock = lambda: NOW + 1
    router.request(full)
    assert refusal_of(full)[1]["X-Denwa-Refusal"] == "overload_gateway"


ONE_CALL_UP = {f"line:{ALICE}": 1, f"gateway:{GATEWAYS[0]}": 1}
"""The ``calls`` table while one call of ALICE's is up at the first gateway."""


def call_up(router: Router) -> FakeSip:
    """An answered call of ALICE's at the first gateway (another second, no rate rule)."""
    sip = FakeSip()
    router.request(sip)
    router.dialog_event(sip, "dialog:start")
    router.clock = lambda: NOW + 1
    return sip


def test_a_calls_counts_at_its_line_and_gateway_are_released_once_at_its_end(
    router: Router,
) -> None:
    other = call_up(router)  # a release too many would take this call's count
    sip = FakeSip(memory=other.memory)
    router.request(sip)
    assert tables(sip, "calls") == {f"line:{ALICE}": 2, f"gateway:{GATEWAYS[0]}": 2}
    router.dialog_event(sip, "dialog:start")
    router.dialog_event(sip, "dialog:end")
    router.dialog_event(sip, "dialog:end")  # an end seen twice releases nothing twice
    assert tables(sip, "calls") == ONE_CALL_UP


def test_a_call_failed_over_counts_at_the_next_gateway_only(router: Router) -> None:
    sip = FakeSip(reply_code=503)
    router.request(sip)
    router.gateway_failure(sip)
    assert tables(sip, "calls") == {f"line:{ALICE}": 1, f"gateway:{GATEWAYS[1]}": 1}
    sip.next_gateway_ok = False
    router.gateway_failure(sip)  # the second gateway fails too: no gateway left
    router.dialog_event(sip, "dialog:failed")
    assert tables(sip, "calls") == {}


def test_a_call_that_cannot_be_sent_on_gets_503_and_holds_nothing(router: Router) -> None:
    other = call_up(router)
    sip = FakeSip(memory=other.memory, relay_ok=False)
    router.request(sip)
    assert sip.replies() == [503]
    assert tables(sip, "calls") == ONE_CALL_UP  # released at once, without a dialog event
    router.dialog_event(sip, "dialog:failed")  # whether or not Kamailio reports it
    assert tables(sip, "calls") == ONE_CALL_UP


def cancelled_call(router: Router, memory: SharedMemory, moment: float) -> None:
    router.clock = lambda: moment
    sip = FakeSip(memory=memory, cancelled=True, next_gateway_ok=False)
    router.request(sip)
    router.gateway_failure(sip)
    router.dialog_event(sip, "dialog:failed")


def test_the_tenth_call_given_up_before_the_answer_blocks_the_line_not_the_ninth(
    router: Router,
) -> None:
    memory = SharedMemory()
    for n in range(9):
        cancelled_call(router, memory, NOW + 10 * n)
    assert "blocks" not in memory.tables
    cancelled_call(router, memory, NOW + 95)
    assert memory.tables["blocks"] == {f"line:{ALICE}": f"incomplete_calls|{int(NOW) + 95 + 1800}"}
    assert memory.expiry[("blocks", f"line:{ALICE}")] == 1800
    [blocked] = events(router)
    assert (blocked["event"], blocked["number"], blocked["count"]) == ("blocked", ALICE, 10)
    sip = FakeSip(memory=memory)
    router.clock = lambda: NOW + 100
    router.request(sip)
    code, headers = refusal_of(sip)
    assert (code, headers["X-Denwa-Refusal"]) == (403, "incomplete_calls")
    assert "不完了呼" in headers["X-Denwa-Announcement"]


def test_calls_given_up_longer_ago_than_the_window_are_forgotten(router: Router) -> None:
    memory = SharedMemory()
    for n in range(9):
        cancelled_call(router, memory, NOW + n)
    cancelled_call(router, memory, NOW + 600 + 30 + 9)  # a window and a bucket later
    assert "blocks" not in memory.tables


def test_the_twentieth_failed_authentication_blocks_the_source_address(router: Router) -> None:
    memory = SharedMemory()
    for n in range(20):
        method = "REGISTER" if n % 2 else "INVITE"
        router.clock = lambda n=n: NOW + n  # type: ignore[misc]
        sip = FakeSip(method_=method, auth_result=-2, source=("192.0.2.7", 5060), memory=memory)
        router.request(sip)
        assert sip.replies() == [403]
        assert ("blocks" in memory.tables) is (n == 19)
    assert memory.tables["blocks"] == {"source:192.0.2.7": f"auth_failures|{int(NOW) + 19 + 3600}"}
    [blocked] = events(router)
    assert (blocked["source"], blocked["rule"], blocked["count"]) == (
        "192.0.2.7",
        "auth_failures",
        20,
    )
    guesser = FakeSip(source=("192.0.2.7", 5060), memory=memory)
    router.source_blocked(guesser)
    assert refusal_of(guesser)[1]["X-Denwa-Refusal"] == "source_blocked"


def test_a_flooding_address_is_blocked_and_its_requests_dropped(router: Router) -> None:
    memory = SharedMemory()
    sip = FakeSip(source=("192.0.2.9", 5060), memory=memory)
    router.flooding(sip)
    assert memory.tables["blocks"] == {"source:192.0.2.9": f"flood|{int(NOW) + 300}"}
    assert memory.tables["totals"] == {"refused:flood": 1}
    router.source_blocked(sip)
    assert sip.actions == []  # dropped: no answer
    assert events(router)[0]["rule"] == "flood"


def test_an_international_call_reserves_its_worst_case_and_is_cut_at_it(
    router: Router, tmp_path: Path
) -> None:
    publish(router, tmp_path, day=billing_date_of(NOW), default_cap_yen=5000)
    sip = FakeSip(ruri=US)
    router.request(sip)
    [(_, max_seconds)] = [a for a in sip.actions if a[0] == "dialog"]
    [reserved] = tables(sip, "reserved").values()
    assert isinstance(reserved, int)
    assert 0 < reserved <= 5000
    assert max_seconds == 14400 - 2
    router.clock = lambda: NOW + 1
    router.dialog_event(sip, "dialog:start")
    router.clock = lambda: NOW + 61
    router.dialog_event(sip, "dialog:end")
    day = billing_date_of(NOW).isoformat()
    assert tables(sip, "reserved")[f"reserved:{ALICE}:{day}"] == 0
    assert 0 < int(tables(sip, "spend")[f"ended:{ALICE}:{day}"]) < reserved  # a minute's price


def test_the_call_the_rest_of_the_cap_cannot_pay_a_minute_for_is_refused(
    router: Router, tmp_path: Path
) -> None:
    publish(router, tmp_path, day=billing_date_of(NOW), default_cap_yen=5000, spent={ALICE: 4999})
    sip = FakeSip(ruri=US)
    router.request(sip)
    code, headers = refusal_of(sip)
    assert (code, headers["X-Denwa-Refusal"]) == (403, "international_spend_cap")
    assert tables(sip, "calls") == {}  # counted at its gateway before the cap refused it: left
    [refused] = events(router)
    assert (refused["event"], refused["number"], refused["detail"]["spent_yen"]) == (
        "refused",
        ALICE,
        4999,
    )
    assert "spend" not in sip.memory.tables or not any(sip.memory.tables["spend"].values())


def test_a_hold_and_its_end_are_reported_once_each(router: Router) -> None:
    sip = FakeSip()
    router.request(sip)
    router.dialog_event(sip, "dialog:start")
    for sdp in (SENDONLY, SENDONLY, SENDRECV):
        sip.sdp = sdp
        router.clock = lambda: NOW + 30
        router.in_dialog_invite(sip)
    held, resumed = events(router)
    assert (held["event"], held["number"], held["call_id"]) == ("held", ALICE, "call-1")
    assert (resumed["event"], resumed["detail"]) == ("resumed", {"held_seconds": 0})


def test_a_call_ended_while_held_reports_the_end_of_the_hold(router: Router) -> None:
    sip = FakeSip(ruri="05055500002", registered=frozenset({"05055500002"}))
    router.request(sip)
    sip.sdp = SENDONLY.replace("a=sendonly", "a=inactive")
    router.in_dialog_invite(sip)
    router.clock = lambda: NOW + 20
    router.dialog_event(sip, "dialog:end")
    assert [(e["event"], e.get("detail")) for e in events(router)] == [
        ("held", None),
        ("resumed", {"held_seconds": 20}),
    ]


def test_without_protections_no_step_counts_or_refuses(router: Router, tmp_path: Path) -> None:
    publish(router, tmp_path, maintenance=Maintenance(True))
    router.guards = None
    sip = FakeSip()
    router.request(sip)
    assert sip.replies() == []
    assert sip.memory.tables == {}


SENDONLY = "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n"
SENDRECV = SENDONLY.replace("a=sendonly", "a=sendrecv")
