"""Protection on the web side (issue 7): the maintenance switch, events into alerts, international
calls into daily totals and anomalies, flagged calls, the protection snapshot, the console pages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from denwa.calls.models import OpenCall, SpoolOffset
from denwa.calls.services import import_cdr_lines
from denwa.cli.main import main
from denwa.core.contracts.lifecycle import State
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.protection.events import EventKind, ProtectionEvent
from denwa.core.protection.state import parse_state
from denwa.core.timeutil import TOKYO, tokyo_today
from denwa.protection import services
from denwa.protection.errors import InvalidMaintenance, NoSuchBlock, SipCommandFailed
from denwa.protection.ingest import protection_pass
from denwa.protection.kamailio import parse_dump
from denwa.protection.models import (
    Alert,
    HeldCall,
    InternationalDay,
    LongCall,
    MaintenanceChange,
    SipBlock,
)
from denwa.protection.snapshot import protection_path, protection_policy
from denwa.subscribers.models import Contract
from denwa.subscribers.services import add_subscriber

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ALICE, BOB = "05055500001", "05055500002"
ACTOR = "console:tanaka"
RULES = protection_policy().rules


@pytest.fixture
def alice(data: OperatorData) -> Contract:
    return add_subscriber(data, ALICE, "K1", date(2026, 1, 5), "test", "pw").contract


@pytest.fixture
def bob(data: OperatorData) -> Contract:
    return add_subscriber(data, BOB, "K2", date(2026, 1, 5), "test", "pw").contract


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "spool"


def published() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(protection_path().read_text(encoding="utf-8"))
    return document


def write_events(spool: Path, *events: ProtectionEvent, name: str = "sip-101") -> Path:
    spool.mkdir(exist_ok=True)
    path = spool / f"{name}.events.jsonl"
    with path.open("a", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event.record(), ensure_ascii=False) + "\n")
    return path


NOW = datetime.now(UTC).replace(microsecond=0)


# --- the maintenance switch ----------------------------------------------------------------------


def test_the_maintenance_switch_is_published_with_its_message_and_retry_after(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.set_maintenance(True, ACTOR, "  本日2時まで工事中です。 ", 3600)
    switch = published()["maintenance"]
    assert switch == {"on": True, "message": "本日2時まで工事中です。", "retry_after_seconds": 3600}
    assert services.maintenance().on

    with django_capture_on_commit_callbacks(execute=True):
        services.set_maintenance(False, ACTOR)
    assert published()["maintenance"]["on"] is False
    assert list(MaintenanceChange.objects.values_list("on", "changed_by")) == [
        (False, ACTOR),
        (True, ACTOR),
    ]


@pytest.mark.parametrize(
    ("on", "message", "retry_after", "problem"),
    [
        (True, "あ" * 201, None, "message: at most 200 characters"),
        (True, "一行目\n二行目", None, "message: one line only"),
        (True, "", 0, "retry_after_seconds: at least 1"),
        (False, "終わり", None, "go with switching on"),
    ],
    ids=["too-long", "two-lines", "no-retry-after", "message-when-off"],
)
def test_a_bad_switch_is_refused_and_changes_nothing(
    on: bool, message: str, retry_after: int | None, problem: str
) -> None:
    with pytest.raises(InvalidMaintenance, match=problem):
        services.set_maintenance(on, ACTOR, message, retry_after)
    assert not MaintenanceChange.objects.exists()


def test_the_command_line_switches_maintenance(
    capsys: pytest.CaptureFixture[str], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert main(["maintenance", "on", "--message", "工事中です。", "--retry-after", "900"]) == 0
    assert "maintenance on: new calls get 503 (Retry-After 900); told: 工事中です。" in (
        capsys.readouterr().out
    )
    assert published()["maintenance"]["on"] is True
    assert main(["maintenance", "off", "--retry-after", "5"]) == 2
    assert "go with switching on" in capsys.readouterr().err
    assert services.maintenance().on


# --- the snapshot --------------------------------------------------------------------------------


def test_the_watch_publishes_a_contracts_own_cap_once(
    alice: Contract, bob: Contract, spool: Path
) -> None:
    protection_pass(spool)
    bob.daily_spend_cap_yen = 800
    bob.save(update_fields=["daily_spend_cap_yen"])
    assert protection_pass(spool).published
    state = parse_state(published())
    assert state.cap_of(ALICE) == RULES.international_daily_cap_yen
    assert state.cap_of(BOB) == 800
    assert state.day == tokyo_today()
    assert state.policy_key == protection_policy().key
    assert not protection_pass(spool).published  # nothing new


def test_new_contracts_are_barred_from_international_calls_when_the_policy_says_so(
    data: OperatorData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alice: Contract
) -> None:
    (tmp_path / "protection.csv").write_text(
        "setting,value\nnew_contracts_international_barred,yes\n"
    )
    monkeypatch.setattr(settings, "DENWA_DATA", str(tmp_path))
    new = add_subscriber(data, BOB, "K2", date(2026, 1, 5), "test", "pw").contract
    assert Contract.objects.get(pk=new.pk).international_barred is True
    assert Contract.objects.get(pk=alice.pk).international_barred is False  # not retroactive


# --- events from the SIP side --------------------------------------------------------------------


def blocked_line(at: datetime = NOW) -> ProtectionEvent:
    return ProtectionEvent(
        EventKind.BLOCKED,
        at,
        number=ALICE,
        rule="incomplete_calls",
        count=10,
        until=at + timedelta(seconds=1800),
    )


def test_events_become_alerts_and_held_calls_exactly_once(alice: Contract, spool: Path) -> None:
    write_events(
        spool,
        blocked_line(),
        ProtectionEvent(
            EventKind.BLOCKED,
            NOW,
            source="192.0.2.7",
            rule="auth_failures",
            count=10,
            until=NOW + timedelta(hours=1),
        ),
        ProtectionEvent(EventKind.HELD, NOW, number=ALICE, call_id="call-1"),
        ProtectionEvent(EventKind.OVERLOAD, NOW, rule="overload_calls", count=37),
    )
    done = protection_pass(spool)
    assert (done.events, done.alerts) == (4, 3)
    line = Alert.objects.get(kind=Alert.Kind.INCOMPLETE_CALLS)
    assert (line.number, line.contract, line.block_key, line.count) == (
        ALICE,
        alice,
        f"line:{ALICE}",
        10,
    )
    assert line.until == NOW + timedelta(seconds=1800)
    source = Alert.objects.get(kind=Alert.Kind.AUTH_FAILURES)
    assert (source.source, source.block_key, source.contract) == (
        "192.0.2.7",
        "source:192.0.2.7",
        None,
    )
    assert Alert.objects.get(kind=Alert.Kind.OVERLOAD).count == 37
    assert HeldCall.objects.get(call_id="call-1").resumed_at is None

    again = protection_pass(spool)
    assert (again.events, again.alerts) == (0, 0)
    assert Alert.objects.count() == 3


def test_a_line_being_written_waits_and_a_malformed_one_is_skipped(
    alice: Contract, spool: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_events(spool, blocked_line())
    with path.open("a") as out:
        out.write("not json\n")
        out.write('{"event": "held", "at": "2026')  # no newline yet
    done = protection_pass(spool)
    assert (done.events, done.alerts) == (1, 1)
    assert "not an event" in caplog.text
    assert SpoolOffset.objects.get(path=str(path)).offset == path.read_bytes().rfind(b"\n") + 1


def test_a_hold_longer_than_the_limit_is_flagged_when_it_ends(alice: Contract, spool: Path) -> None:
    held = NOW - timedelta(seconds=RULES.hold_alert_seconds + 60)
    write_events(spool, ProtectionEvent(EventKind.HELD, held, number=ALICE, call_id="short"))
    write_events(spool, ProtectionEvent(EventKind.HELD, held, number=ALICE, call_id="long"))
    write_events(
        spool,
        ProtectionEvent(
            EventKind.RESUMED, held + timedelta(seconds=RULES.hold_alert_seconds), call_id="short"
        ),
        ProtectionEvent(
            EventKind.RESUMED,
            held + timedelta(seconds=RULES.hold_alert_seconds + 1),
            call_id="long",
        ),
    )
    protection_pass(spool)
    flagged = Alert.objects.get(kind=Alert.Kind.HELD_CALL)
    assert flagged.detail["call_id"] == "long"
    assert flagged.detail["seconds"] == RULES.hold_alert_seconds + 1
    assert flagged.number == ALICE


def test_a_call_still_on_hold_past_the_limit_is_flagged_once(alice: Contract, spool: Path) -> None:
    limit = RULES.hold_alert_seconds
    write_events(spool, ProtectionEvent(EventKind.HELD, NOW, number=ALICE, call_id="c"))
    assert protection_pass(spool, NOW + timedelta(seconds=limit)).alerts == 0
    assert protection_pass(spool, NOW + timedelta(seconds=limit + 1)).alerts == 1
    assert protection_pass(spool, NOW + timedelta(seconds=limit + 60)).alerts == 0


def test_each_spend_cap_refusal_counts_on_one_alert_of_the_day(
    alice: Contract, spool: Path
) -> None:
    refusal = ProtectionEvent(
        EventKind.REFUSED,
        NOW,
        number=ALICE,
        rule="international_spend_cap",
        detail={"cap_yen": 5000, "spent_yen": 4990},
    )
    write_events(spool, refusal, refusal, refusal)
    assert protection_pass(spool).alerts == 1
    alert = Alert.objects.get(kind=Alert.Kind.INTERNATIONAL_SPEND_CAP)
    assert (alert.count, alert.detail["spent_yen"]) == (3, 4990)


def test_a_call_open_past_the_long_call_limit_is_flagged_once(alice: Contract, spool: Path) -> None:
    OpenCall.objects.create(
        cdr_id="long-1",
        record={"caller": ALICE, "callee": "0312345678", "answer": NOW.isoformat()},
        max_end=NOW + timedelta(hours=4),
    )
    # The journal record reaches the table when the call is answered (NOW), whenever this runs.
    OpenCall.objects.filter(cdr_id="long-1").update(created_at=NOW)
    limit = RULES.long_call_alert_seconds
    assert protection_pass(spool, NOW + timedelta(seconds=limit - 5)).alerts == 0
    assert protection_pass(spool, NOW + timedelta(seconds=limit + 5)).alerts == 1
    assert protection_pass(spool, NOW + timedelta(seconds=limit + 60)).alerts == 0
    assert Alert.objects.get(kind=Alert.Kind.LONG_CALL).number == ALICE


# --- international calls -------------------------------------------------------------------------


def international_call(data: OperatorData, cdr_id: str, answered: datetime, minutes: int) -> None:
    end = answered + timedelta(minutes=minutes)
    line = {
        "id": cdr_id,
        "caller": ALICE,
        "callee": "0101212555000",
        "start": answered.isoformat(),
        "answer": answered.isoformat(),
        "end": end.isoformat(),
        "disposition": "answered",
        "sip_code": None,
    }
    import_cdr_lines("test", [json.dumps(line)], data)


def today_at(hour: int) -> datetime:
    day = tokyo_today()
    return datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO)


def test_todays_international_spend_is_counted_once_and_published(
    alice: Contract, spool: Path, data: OperatorData
) -> None:
    international_call(data, "i1", today_at(0), 10)  # 10 × 9 yen (North America)
    import_cdr_lines(  # a domestic call: not counted
        "test",
        [
            json.dumps(
                {
                    "id": "d1",
                    "caller": ALICE,
                    "callee": "0312345678",
                    "start": NOW.isoformat(),
                    "answer": NOW.isoformat(),
                    "end": (NOW + timedelta(minutes=5)).isoformat(),
                    "disposition": "answered",
                    "sip_code": None,
                }
            )
        ],
        data,
    )
    done = protection_pass(spool)
    assert (done.international_calls, done.published) == (1, True)
    day = InternationalDay.objects.get(contract=alice)
    assert (day.day, day.calls, day.seconds, day.charge_yen) == (tokyo_today(), 1, 600, 90)
    assert parse_state(published()).spent_on(ALICE, tokyo_today()) == 90

    international_call(data, "i2", today_at(0) + timedelta(minutes=20), 2)
    protection_pass(spool)
    assert parse_state(published()).spent_on(ALICE, tokyo_today()) == 108
    assert protection_pass(spool).international_calls == 0


def test_an_anomaly_is_raised_above_the_own_history_and_not_at_it(
    alice: Contract, spool: Path, data: OperatorData
) -> None:
    today = tokyo_today()
    for back in range(1, RULES.anomaly_history_days + 1):  # an hour a day for four weeks
        InternationalDay.objects.create(
            contract=alice, day=today - timedelta(days=back), calls=1, seconds=3600
        )
    threshold_minutes = RULES.anomaly_factor * 60
    international_call(data, "a1", today_at(0), threshold_minutes)
    assert protection_pass(spool).alerts == 0
    international_call(data, "a2", today_at(0) + timedelta(hours=6), 1)
    assert protection_pass(spool).alerts == 1
    alert = Alert.objects.get(kind=Alert.Kind.INTERNATIONAL_ANOMALY)
    assert alert.detail == {
        "day": today.isoformat(),
        "minutes": threshold_minutes + 1,
        "threshold_minutes": threshold_minutes,
        "history_days": RULES.anomaly_history_days,
    }


# --- blocks through Kamailio's RPC ---------------------------------------------------------------

DUMP = """{
\tentry: 110
\tsize: 2
\tslot: {
\t\t{
\t\t\tname: source:192.0.2.7
\t\t\tvalue: auth_failures|1700003600
\t\t\ttype: str
\t\t}
\t\t{
\t\t\tname: line:05055500001
\t\t\tvalue: incomplete_calls|1700001800
\t\t\ttype: str
\t\t}
\t}
}
{
\tentry: 201
\tsize: 1
\tslot: {
\t\t{
\t\t\tname: refused:overload_calls
\t\t\tvalue: 12
\t\t\ttype: int
\t\t}
\t}
}
"""


class FakeNode:
    """Kamailio's RPC as the services use it, over the items of two tables."""

    def __init__(self) -> None:
        parsed = parse_dump(DUMP)
        self.tables = {
            "blocks": {k: v for k, v in parsed.items() if not k.startswith("refused")},
            "totals": {k: v for k, v in parsed.items() if k.startswith("refused")},
        }

    def items(self, table: str) -> dict[str, str]:
        return dict(self.tables.get(table, {}))

    def delete(self, table: str, key: str) -> None:
        if key not in self.tables[table]:
            raise SipCommandFailed(f"htable.delete {table} {key}", "404 - Key not found in htable.")
        del self.tables[table][key]


def test_kamcmds_dump_is_read_into_items() -> None:
    assert parse_dump(DUMP) == {
        "source:192.0.2.7": "auth_failures|1700003600",
        "line:05055500001": "incomplete_calls|1700001800",
        "refused:overload_calls": "12",
    }


def test_the_status_lists_blocks_by_their_end_and_the_refusal_counters() -> None:
    status = services.sip_status(FakeNode())  # type: ignore[arg-type]
    assert [b.key for b in status.blocks] == ["line:05055500001", "source:192.0.2.7"]
    assert status.refused == {"overload_calls": 12}


def test_lifting_a_block_deletes_it_and_notes_it_on_its_alert(alice: Contract, spool: Path) -> None:
    write_events(spool, blocked_line())
    protection_pass(spool)
    node = FakeNode()
    assert services.lift_block(f"line:{ALICE}", ACTOR, node) == 1  # type: ignore[arg-type]
    assert f"line:{ALICE}" not in node.tables["blocks"]
    alert = Alert.objects.get(kind=Alert.Kind.INCOMPLETE_CALLS)
    assert (alert.lifted_by, alert.lifted_at is not None) == (ACTOR, True)
    with pytest.raises(NoSuchBlock, match="no block 'line:05055500001' is in force"):
        services.lift_block(f"line:{ALICE}", ACTOR, node)  # type: ignore[arg-type]


def test_without_a_running_sip_node_the_command_line_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["protection", "status"]) == 2
    error = capsys.readouterr().err
    assert "SIP is not running here (no control socket at" in error
    assert main(["protection", "lift", "line:05055500001"]) == 2


# --- the console ---------------------------------------------------------------------------------


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("tanaka", "t@example.jp", "pw-not-real"))
    return client


def changelist(model: type[Any]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def act(
    console: Client, model: type[Any], action: str, objects: list[Any], **fields: Any
) -> list[str]:
    response = console.post(
        changelist(model),
        {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], "apply": "1", **fields},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def alerts(alice: Contract, spool: Path) -> list[Alert]:
    write_events(
        spool,
        blocked_line(),
        ProtectionEvent(
            EventKind.BLOCKED,
            NOW,
            source="192.0.2.7",
            rule="auth_failures",
            count=10,
            until=NOW + timedelta(hours=1),
        ),
    )
    protection_pass(spool)
    return list(Alert.objects.order_by("id"))


def test_the_operator_stops_the_line_of_an_alert_with_one_action(
    console: Client, alerts: list[Alert]
) -> None:
    line, source = alerts
    shown = act(
        console,
        Alert,
        "stop_line",
        [line, source],
        on=tokyo_today().isoformat(),
        reason="多数の不完了呼",
    )
    assert Contract.objects.get(number=ALICE).state == State.STOPPED.value
    assert any("is not about a subscriber's line" in m for m in shown)
    assert any("done for" in m and ALICE in m for m in shown)


def test_the_operator_acknowledges_an_alert(console: Client, alerts: list[Alert]) -> None:
    act(console, Alert, "acknowledge", alerts[:1], note="電話で確認済み")
    seen = Alert.objects.get(pk=alerts[0].pk)
    assert (seen.acknowledged_by, seen.note) == ("console:tanaka", "電話で確認済み")


def test_lifting_from_the_console_without_sip_tells_why_and_changes_nothing(
    console: Client, alerts: list[Alert]
) -> None:
    shown = act(console, Alert, "lift_block", alerts[:1])
    assert any("SIP is not running here" in m for m in shown)
    assert Alert.objects.get(pk=alerts[0].pk).lifted_at is None
    response = console.post(
        reverse("admin:protection_sipblock_lift"), {"key": f"line:{ALICE}"}, follow=True
    )
    assert any("SIP is not running here" in str(m) for m in response.context["messages"])


def test_the_console_switches_maintenance_and_publishes_it(
    console: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            reverse("admin:protection_maintenancechange_add"),
            {"on": "on", "message": "工事中です。", "retry_after_seconds": "120"},
            follow=True,
        )
    assert response.status_code == 200
    change = MaintenanceChange.objects.get()
    assert (change.on, change.changed_by) == (True, "console:tanaka")
    assert published()["maintenance"]["message"] == "工事中です。"
    page = console.get(changelist(SipBlock), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Maintenance is on" in page
    assert "SIP is not running here" in page


def test_a_refused_switch_in_the_console_is_told_and_saves_nothing(console: Client) -> None:
    response = console.post(
        reverse("admin:protection_maintenancechange_add"),
        {"message": "終わり"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert any("go with switching on" in str(m) for m in response.context["messages"])
    assert not MaintenanceChange.objects.exists()


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_protection_page_renders(
    console: Client, alerts: list[Alert], alice: Contract, language: str
) -> None:
    HeldCall.objects.create(call_id="h1", number=ALICE, held_at=NOW)
    OpenCall.objects.create(cdr_id="o1", record={"caller": ALICE}, max_end=NOW)
    InternationalDay.objects.create(contract=alice, day=tokyo_today(), seconds=60)
    services.set_maintenance(True, ACTOR)
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "protection":
            continue
        listing = console.get(changelist(model), HTTP_ACCEPT_LANGUAGE=language)
        assert listing.status_code == 200, model
        if model is SipBlock:
            continue
        for list_filter in model_admin.list_filter:
            name = getattr(list_filter, "parameter_name", None)
            if name:
                filtered = console.get(changelist(model), {name: "yes"})
                assert filtered.status_code == 200, (model, name)
        row = model._default_manager.first()
        detail = console.get(
            reverse(f"admin:protection_{model._meta.model_name}_change", args=[row.pk]),
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert detail.status_code == 200, model
        for action in model_admin.get_actions(detail.wsgi_request):
            if action == "delete_selected":
                continue
            form = console.post(
                changelist(model), {"action": action, ACTION_CHECKBOX_NAME: [row.pk]}
            )
            assert form.templates[0].name == "console/action_form.html", (model, action)
    assert LongCall.objects.count() == 1


def test_a_nearly_full_spool_disk_raises_one_alert_an_hour(
    spool: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool.mkdir()
    total = 100 << 30
    free = {"bytes": 10 << 30}  # exactly the threshold share: no alert yet
    monkeypatch.setattr(
        "denwa.protection.ingest.shutil.disk_usage",
        lambda path: shutil_usage(total, total - free["bytes"], free["bytes"]),
    )
    hour = NOW.replace(minute=0, second=0)
    assert protection_pass(spool, hour).alerts == 0
    free["bytes"] = (10 << 30) - (1 << 20)
    assert protection_pass(spool, hour).alerts == 1
    assert protection_pass(spool, hour + timedelta(minutes=59)).alerts == 0
    alert = Alert.objects.get(kind=Alert.Kind.SPOOL_DISK)
    assert alert.detail["free_percent"] == 9
    assert not alert.detail["refusing_calls"]


def test_a_spool_disk_below_the_sip_reserve_raises_the_refusing_calls_alert(
    spool: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool.mkdir()
    (spool.parent / "sip.toml").write_text("spool_reserve_mb = 64\n")
    total = 100 << 20
    free = {"bytes": 64 << 20}  # 64 %: no percentage alert; exactly the reserve: calls accepted
    monkeypatch.setattr(
        "denwa.protection.ingest.shutil.disk_usage",
        lambda path: shutil_usage(total, total - free["bytes"], free["bytes"]),
    )
    hour = NOW.replace(minute=0, second=0)
    assert protection_pass(spool, hour).alerts == 0
    free["bytes"] = (64 << 20) - 1
    assert protection_pass(spool, hour).alerts == 1
    assert protection_pass(spool, hour + timedelta(minutes=30)).alerts == 0
    alert = Alert.objects.get(kind=Alert.Kind.SPOOL_DISK)
    assert alert.key.startswith("spool_full:")
    assert alert.detail["refusing_calls"]


class DiskUsage(NamedTuple):
    total: int
    used: int
    free: int


def shutil_usage(total: int, used: int, free: int) -> DiskUsage:
    return DiskUsage(total, used, free)
