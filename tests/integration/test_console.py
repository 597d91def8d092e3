"""The operator console (issue 3 item 3): the Django admin at /console/, used as ISP staff use it.

Every test drives the console through HTTP with Django's test client, logged
in as the superuser ``tanaka``: searching, the actions' intermediate forms,
the refusals (the service's message, nothing changed), the read-only records
and the two languages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import reverse

from denwa.billing.adjustments import record_adjustment
from denwa.billing.models import Adjustment, MonthClose, Statement, StatementLine, StatementTax
from denwa.billing.services import close_month
from denwa.calls.models import Cdr, OpenCall, SpoolOffset
from denwa.calls.services import import_cdr_lines
from denwa.core.contracts.lifecycle import State
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.operator_data.loader import load_operator_data
from denwa.core.timeutil import Month
from denwa.operator_files.models import DataFileVersion
from denwa.subscribers import services
from denwa.subscribers.models import (
    BankMandate,
    Contract,
    ContractEvent,
    IspAccount,
    Rental,
    Suspension,
    TerminalAdapter,
)
from denwa.support.models import DataProvision, Inquiry, InquiryReply
from denwa.support.services import record_provision, reply_to_inquiry

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

START = date(2003, 7, 15)
NUMBER = "05055500001"
OTHER = "05055500002"
ACTOR = "console:tanaka"
SETUP = "test-setup"


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def operator() -> User:
    return User.objects.create_superuser("tanaka", "tanaka@example.jp", "not-a-real-password")


@pytest.fixture
def console(operator: User) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def contract(data: OperatorData) -> Contract:
    """05055500001, active from 2003-07-15, ISP account K-1001 (山田 太郎), TA SN-0001 rented."""
    new = services.add_subscriber(data, NUMBER, "K-1001", START, SETUP, isp_name="山田 太郎")
    IspAccount.objects.filter(account_id="K-1001").update(name_kana="ヤマダ タロウ")
    TerminalAdapter.objects.create(model="KCT-TA200", serial="SN-0001", mac="00:1B:2C:3D:4E:5F")
    services.assign_ta(NUMBER, "SN-0001", START, SETUP)
    return new.contract


@pytest.fixture
def other(data: OperatorData) -> Contract:
    """05055500002, active from 2003-07-15 on another ISP account, no TA."""
    return services.add_subscriber(
        data, OTHER, "K-2002", START, SETUP, isp_name="佐藤 花子"
    ).contract


@pytest.fixture
def spare_ta() -> TerminalAdapter:
    return TerminalAdapter.objects.create(
        model="KCT-TA200", serial="SN-0009", mac="00:1B:2C:3D:4E:99"
    )


# --- helpers ----------------------------------------------------------------------------------


def changelist(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def act(
    console: Client, model: type[models.Model], action: str, objects: list[Any], **fields: Any
) -> list[str]:
    """Submit an action's form for ``objects`` (in English); the messages shown afterwards."""
    response = console.post(
        changelist(model),
        {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], "apply": "1", **fields},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert response.redirect_chain, "a submitted action goes back to the list"
    return [str(message) for message in response.context["messages"]]


def snapshot(number: str) -> dict[str, Any]:
    """Everything a contract action could change."""
    contract = Contract.objects.get(number=number)
    return {
        "contract": {
            field.name: getattr(contract, field.name)
            for field in Contract._meta.concrete_fields
            if field.name != "updated_at"
        },
        "updated_at": contract.updated_at,
        "events": list(ContractEvent.objects.filter(contract=contract).values()),
        "suspensions": list(Suspension.objects.filter(contract=contract).values()),
        "rentals": list(Rental.objects.filter(contract=contract).values()),
        "adjustments": list(Adjustment.objects.filter(contract=contract).values()),
        "provisions": list(DataProvision.objects.filter(contract=contract).values()),
        "tas": list(TerminalAdapter.objects.values()),
    }


def last_event(number: str) -> ContractEvent:
    return ContractEvent.objects.filter(contract__number=number).latest("id")


# --- search -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(NUMBER, id="050 number"),
        pytest.param("55500001", id="part of the number"),
        pytest.param("K-1001", id="ISP account id"),
        pytest.param("山田", id="name"),
        pytest.param("ヤマダ", id="kana"),
        pytest.param("SN-0001", id="TA serial"),
        pytest.param("00:1B:2C:3D:4E:5F", id="TA MAC"),
        pytest.param("00:1b:2c", id="TA MAC in lower case, partly"),
    ],
)
def test_searching_contracts_finds_the_one_contract_that_matches(
    console: Client, contract: Contract, other: Contract, query: str
) -> None:
    response = console.get(changelist(Contract), {"q": query})

    assert response.status_code == 200
    assert [c.number for c in response.context["cl"].result_list] == [NUMBER]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("SN-0001", ["SN-0001"], id="serial"),
        pytest.param("4E:5F", ["SN-0001"], id="MAC"),
        pytest.param("ta200", ["SN-0001", "SN-0009"], id="model"),
        pytest.param(NUMBER, ["SN-0001"], id="number it is rented to"),
    ],
)
def test_searching_tas_finds_them_by_serial_mac_model_or_the_number_they_serve(
    console: Client,
    contract: Contract,
    spare_ta: TerminalAdapter,
    query: str,
    expected: list[str],
) -> None:
    response = console.get(changelist(TerminalAdapter), {"q": query})

    assert [ta.serial for ta in response.context["cl"].result_list] == expected


@pytest.fixture
def calls(contract: Contract, other: Contract, data: OperatorData) -> None:
    """An answered call to Tokyo from 05055500001, an unanswered one to Chiba from ...002."""
    lines = [
        {
            "id": "call-0001",
            "caller": NUMBER,
            "callee": "0312345678",
            "start": "2003-08-01T10:00:00+09:00",
            "answer": "2003-08-01T10:00:05+09:00",
            "end": "2003-08-01T10:03:05+09:00",
            "disposition": "answered",
        },
        {
            "id": "call-0002",
            "caller": OTHER,
            "callee": "0471234567",
            "start": "2003-09-02T10:00:00+09:00",
            "answer": None,
            "end": "2003-09-02T10:00:20+09:00",
            "disposition": "no_answer",
        },
    ]
    import_cdr_lines("test", [json.dumps(line) for line in lines], data)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("call-0001", id="CDR id"),
        pytest.param(NUMBER, id="caller"),
        pytest.param("0312345678", id="dialled"),
    ],
)
def test_searching_call_records_finds_a_call_by_id_caller_or_dialled_number(
    console: Client, calls: None, query: str
) -> None:
    response = console.get(changelist(Cdr), {"q": query})

    assert [cdr.cdr_id for cdr in response.context["cl"].result_list] == ["call-0001"]


@pytest.mark.parametrize(
    ("model", "filters", "key", "expected"),
    [
        pytest.param(
            Contract, {"state__exact": "stopped"}, "number", [OTHER], id="contracts by state"
        ),
        pytest.param(
            Contract,
            {"isp_account__status__exact": "active"},
            "number",
            [NUMBER, OTHER],
            id="contracts by ISP status",
        ),
        pytest.param(
            TerminalAdapter, {"status__exact": "rented"}, "serial", ["SN-0001"], id="TAs by status"
        ),
        pytest.param(
            Cdr, {"disposition__exact": "answered"}, "cdr_id", ["call-0001"], id="by disposition"
        ),
        pytest.param(
            Cdr,
            {"call_class__exact": "domestic_fixed"},
            "cdr_id",
            ["call-0001", "call-0002"],
            id="calls by class",
        ),
        pytest.param(Cdr, {"billing_month": "2003-08"}, "cdr_id", ["call-0001"], id="by month"),
        pytest.param(
            ContractEvent,
            {"effective__year": "2003", "effective__month": "8"},
            "contract.number",
            [OTHER],
            id="history by date",
        ),
    ],
)
def test_lists_filter_by_state_status_disposition_class_and_month(
    console: Client,
    calls: None,
    model: type[models.Model],
    filters: dict[str, str],
    key: str,
    expected: list[str],
) -> None:
    services.stop(OTHER, date(2003, 8, 20), "terms violation", SETUP)

    response = console.get(changelist(model), filters)

    assert response.status_code == 200
    assert sorted(map(attrgetter(key), response.context["cl"].result_list)) == expected


# --- the contract actions -----------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "approve_suspension",
        "resume_service",
        "stop_service",
        "terminate_contract",
        "assign_ta",
        "record_adjustment",
        "record_provision",
    ],
)
def test_a_contract_action_first_shows_its_form_for_the_selected_contracts(
    console: Client, contract: Contract, action: str
) -> None:
    before = snapshot(NUMBER)

    response = console.post(
        changelist(Contract), {"action": action, ACTION_CHECKBOX_NAME: [contract.pk]}
    )

    assert response.status_code == 200
    assert response.templates[0].name == "console/action_form.html"
    page = response.content.decode()
    assert NUMBER in page
    assert f'name="action" value="{action}"' in page
    assert snapshot(NUMBER) == before


def setup_nothing(number: str) -> None:
    pass


def setup_suspended(number: str) -> None:
    rules = load_operator_data().rules
    services.suspend(number, date(2003, 9, 1), date(2003, 10, 31), "travelling", SETUP, rules)


def setup_stopped(number: str) -> None:
    services.stop(number, date(2003, 9, 1), "terms violation", SETUP)


@pytest.mark.parametrize(
    ("setup", "action", "fields", "event", "state", "reason"),
    [
        pytest.param(
            setup_nothing,
            "approve_suspension",
            {"first_day": "2003-09-01", "last_day": "2004-02-29", "reason": "長期出張"},
            "suspend",
            State.SUSPENDED,
            "長期出張",
            id="approve a six-month suspension",
        ),
        pytest.param(
            setup_suspended,
            "resume_service",
            {"on": "2003-11-01", "reason": ""},
            "resume",
            State.ACTIVE,
            "resumed",
            id="resume after a suspension",
        ),
        pytest.param(
            setup_stopped,
            "resume_service",
            {"on": "2003-09-20", "reason": "violation remedied"},
            "resume",
            State.ACTIVE,
            "violation remedied",
            id="resume after a stop, with a note",
        ),
        pytest.param(
            setup_nothing,
            "stop_service",
            {"on": "2003-09-05", "reason": "大量の不完了呼による輻輳"},
            "stop",
            State.STOPPED,
            "大量の不完了呼による輻輳",
            id="stop for congestion",
        ),
        pytest.param(
            setup_nothing,
            "terminate_contract",
            {"on": "2003-09-10", "reason": "moving away"},
            "terminate",
            State.TERMINATED,
            "moving away",
            id="terminate with the early charge",
        ),
        pytest.param(
            setup_stopped,
            "terminate_contract",
            {"on": "2003-10-01", "reason": "stop not remedied"},
            "terminate",
            State.TERMINATED,
            "stop not remedied",
            id="terminate a stopped line",
        ),
    ],
)
def test_a_state_action_goes_through_its_form_and_records_who_when_and_why(
    console: Client,
    contract: Contract,
    setup: Callable[[str], None],
    action: str,
    fields: dict[str, str],
    event: str,
    state: State,
    reason: str,
) -> None:
    setup(NUMBER)

    shown = act(console, Contract, action, [contract], **fields)

    assert len(shown) == 1
    assert shown[0].endswith(f": done for {NUMBER}")
    recorded = last_event(NUMBER)
    assert (recorded.event, recorded.to_state, recorded.actor, recorded.reason) == (
        event,
        state.value,
        ACTOR,
        reason,
    )
    assert recorded.effective == date.fromisoformat(fields.get("on") or fields["first_day"])
    assert Contract.objects.get(number=NUMBER).state == state.value


def test_an_approved_suspension_is_kept_with_its_period_reason_and_approver(
    console: Client, contract: Contract
) -> None:
    act(
        console,
        Contract,
        "approve_suspension",
        [contract],
        first_day="2003-09-01",
        last_day="2003-11-30",
        reason="入院のため",
    )

    suspension = Suspension.objects.get(contract=contract)
    assert (suspension.first_day, suspension.last_day, suspension.reason) == (
        date(2003, 9, 1),
        date(2003, 11, 30),
        "入院のため",
    )
    assert suspension.approved_by == ACTOR


def test_terminating_with_the_early_charge_waived_records_the_waiver_and_its_reason(
    console: Client, contract: Contract
) -> None:
    act(
        console,
        Contract,
        "terminate_contract",
        [contract],
        on="2003-09-10",
        reason="service fault on our side",
        waive_early="on",
    )

    ended = Contract.objects.get(number=NUMBER)
    assert (ended.state, ended.end_date) == (State.TERMINATED.value, date(2003, 9, 10))
    assert (ended.early_charge_waived, ended.waiver_reason) == (True, "service fault on our side")
    assert last_event(NUMBER).actor == ACTOR


def test_assigning_a_ta_rents_it_from_stock_to_the_contract(
    console: Client, other: Contract, spare_ta: TerminalAdapter
) -> None:
    act(console, Contract, "assign_ta", [other], serial="SN-0009", on="2003-07-20")

    rental = Rental.objects.get(contract=other)
    assert (rental.ta.serial, rental.first_day, rental.last_day) == (
        "SN-0009",
        date(2003, 7, 20),
        None,
    )
    assert TerminalAdapter.objects.get(serial="SN-0009").status == TerminalAdapter.Status.RENTED


def test_recording_an_adjustment_keeps_amount_reason_date_and_who(
    console: Client, contract: Contract
) -> None:
    act(
        console,
        Contract,
        "record_adjustment",
        [contract],
        amount_yen="-500",
        reason="通話料の誤課金の返金",
        effective="2003-09-15",
        tax_exempt="on",
    )

    adjustment = Adjustment.objects.get(contract=contract)
    assert (
        adjustment.amount_yen,
        adjustment.reason,
        adjustment.effective,
        adjustment.tax_exempt,
        adjustment.created_by,
        adjustment.billed_month,
    ) == (-500, "通話料の誤課金の返金", date(2003, 9, 15), True, ACTOR, "")


def test_recording_a_personal_data_provision_keeps_to_whom_what_why_when_and_by_whom(
    console: Client, contract: Contract
) -> None:
    act(
        console,
        Contract,
        "record_provision",
        [contract],
        recipient="ntt_com",
        recipient_detail="NTT Com IP電話サポート窓口",
        items="050番号、氏名、TAのMACアドレス",
        purpose="着信不具合の調査",
        provided_at="2003-09-02T14:30",
    )

    provision = DataProvision.objects.get(contract=contract)
    assert (
        provision.recipient,
        provision.recipient_detail,
        provision.items,
        provision.purpose,
        provision.recorded_by,
    ) == (
        "ntt_com",
        "NTT Com IP電話サポート窓口",
        "050番号、氏名、TAのMACアドレス",
        "着信不具合の調査",
        ACTOR,
    )
    assert provision.provided_at.isoformat() == "2003-09-02T05:30:00+00:00"


# --- TAs and rentals -------------------------------------------------------------------------


def ta_row(contract: Contract) -> TerminalAdapter:
    return TerminalAdapter.objects.get(serial="SN-0001")


def rental_row(contract: Contract) -> Rental:
    return Rental.objects.get(contract=contract, last_day__isnull=True)


@pytest.mark.parametrize(
    ("model", "row", "action", "fields", "collected", "fee"),
    [
        pytest.param(
            TerminalAdapter,
            ta_row,
            "return_ta",
            {"on": "2003-09-10"},
            False,
            None,
            id="return from the TA list",
        ),
        pytest.param(
            Rental, rental_row, "return_ta", {"on": "2003-09-10"}, False, None, id="return a rental"
        ),
        pytest.param(
            TerminalAdapter,
            ta_row,
            "collect_ta",
            {"on": "2003-09-12", "fee_yen": "2500"},
            True,
            2500,
            id="collection from the TA list, with a fee",
        ),
        pytest.param(
            Rental,
            rental_row,
            "collect_ta",
            {"on": "2003-09-12", "fee_yen": ""},
            True,
            None,
            id="collection of a rental at the operator's fee",
        ),
    ],
)
def test_taking_a_ta_back_ends_the_rental_and_puts_the_ta_in_stock(
    console: Client,
    contract: Contract,
    model: type[models.Model],
    row: Callable[[Contract], Any],
    action: str,
    fields: dict[str, str],
    collected: bool,
    fee: int | None,
) -> None:
    shown = act(console, model, action, [row(contract)], **fields)

    assert len(shown) == 1
    rental = Rental.objects.get(contract=contract)
    assert (rental.last_day, rental.collected, rental.collection_fee_yen) == (
        date.fromisoformat(fields["on"]),
        collected,
        fee,
    )
    assert TerminalAdapter.objects.get(serial="SN-0001").status == TerminalAdapter.Status.IN_STOCK


def test_the_collection_form_offers_the_operators_collection_fee(
    console: Client, contract: Contract
) -> None:
    response = console.post(
        changelist(TerminalAdapter),
        {"action": "collect_ta", ACTION_CHECKBOX_NAME: [ta_row(contract).pk]},
    )

    assert response.context["form"]["fee_yen"].value() == 3000


def test_an_ended_rental_cannot_be_ended_again_even_when_its_ta_is_rented_anew(
    console: Client, contract: Contract, other: Contract
) -> None:
    old = rental_row(contract)
    services.return_ta("SN-0001", date(2003, 8, 1), SETUP)
    services.assign_ta(OTHER, "SN-0001", date(2003, 8, 2), SETUP)

    shown = act(console, Rental, "return_ta", [old], on="2003-09-01")

    assert shown == [f"{old}: not done — this rental of TA SN-0001 has already ended"]
    assert Rental.objects.get(contract=other).last_day is None


# --- inquiries ----------------------------------------------------------------------------------


def test_replying_to_an_inquiry_records_the_reply_and_marks_it_answered(
    console: Client, contract: Contract
) -> None:
    inquiry = Inquiry.objects.create(contract=contract, subject="着信しない", body="…")

    act(console, Inquiry, "reply", [inquiry], body="TAの再起動をお試しください。")

    reply = InquiryReply.objects.get(inquiry=inquiry)
    assert (reply.body, reply.author) == ("TAの再起動をお試しください。", ACTOR)
    assert Inquiry.objects.get(pk=inquiry.pk).status == Inquiry.Status.ANSWERED


def test_an_empty_reply_is_refused_and_sends_nothing(console: Client, contract: Contract) -> None:
    inquiry = Inquiry.objects.create(contract=contract, subject="着信しない", body="…")

    shown = act(console, Inquiry, "reply", [inquiry], body="   ")

    assert len(shown) == 1
    assert "a reply (its text) needs a reason" in shown[0]
    assert not InquiryReply.objects.exists()
    assert Inquiry.objects.get(pk=inquiry.pk).status == Inquiry.Status.OPEN


# --- refusals --------------------------------------------------------------------------------


def setup_terminated(number: str) -> None:
    services.terminate(number, date(2003, 9, 10), SETUP, reason="moving away")


@pytest.mark.parametrize(
    ("setup", "action", "fields", "message"),
    [
        pytest.param(
            setup_nothing,
            "approve_suspension",
            {"first_day": "2003-09-01", "last_day": "2004-03-31", "reason": "海外赴任"},
            "a suspension may last at most 6 months (2003-09-01 to 2004-02-29 at the latest)",
            id="a seven-month suspension",
        ),
        pytest.param(
            setup_nothing,
            "approve_suspension",
            {"first_day": "2003-09-01", "last_day": "2003-09-30", "reason": ""},
            "a suspension needs a reason",
            id="a suspension without a reason",
        ),
        pytest.param(
            setup_nothing,
            "resume_service",
            {"on": "2003-09-01"},
            "a contract cannot go from active to active",
            id="resuming an active contract",
        ),
        pytest.param(
            setup_terminated,
            "resume_service",
            {"on": "2003-10-01"},
            "a contract cannot go from terminated to active",
            id="resuming a terminated contract",
        ),
        pytest.param(
            setup_nothing,
            "stop_service",
            {"on": "2003-09-01", "reason": ""},
            "a stop needs a reason",
            id="stopping without a reason",
        ),
        pytest.param(
            setup_suspended,
            "approve_suspension",
            {"first_day": "2003-11-01", "last_day": "2003-11-30", "reason": "延長"},
            "a contract cannot go from suspended to suspended",
            id="suspending a suspended contract",
        ),
        pytest.param(
            setup_nothing,
            "terminate_contract",
            {"on": "2003-09-10", "reason": "", "waive_early": "on"},
            "waiving the early-termination charge needs a reason",
            id="waiving the early charge without a reason",
        ),
        pytest.param(
            setup_terminated,
            "terminate_contract",
            {"on": "2003-09-20", "reason": "again"},
            "a contract cannot go from terminated to terminated",
            id="terminating twice",
        ),
        pytest.param(
            setup_suspended,
            "stop_service",
            {"on": "2003-08-01", "reason": "late report"},
            "date: 2003-08-01 is before the contract's last change on 2003-09-01",
            id="a date before the last change",
        ),
        pytest.param(
            setup_nothing,
            "assign_ta",
            {"serial": "SN-0001", "on": "2003-09-01"},
            "TA SN-0001 is rented, not in stock",
            id="assigning a rented TA",
        ),
        pytest.param(
            setup_nothing,
            "assign_ta",
            {"serial": "NO-SUCH", "on": "2003-09-01"},
            "no TA with serial NO-SUCH",
            id="assigning an unknown TA",
        ),
        pytest.param(
            setup_nothing,
            "record_adjustment",
            {"amount_yen": "300", "reason": "", "effective": "2003-09-01"},
            "an adjustment needs a reason",
            id="an adjustment without a reason",
        ),
        pytest.param(
            setup_nothing,
            "record_adjustment",
            {"amount_yen": "0", "reason": "nothing", "effective": "2003-09-01"},
            "amount_yen: an adjustment of 0 yen changes nothing",
            id="an adjustment of 0 yen",
        ),
        pytest.param(
            setup_nothing,
            "record_provision",
            {
                "recipient": "support_contractor",
                "items": "氏名",
                "purpose": "",
                "provided_at": "2003-09-02T10:00",
            },
            "a provision record (why) needs a reason",
            id="a provision without its purpose",
        ),
    ],
)
def test_an_illegal_action_shows_the_services_message_and_changes_nothing(
    console: Client,
    contract: Contract,
    other: Contract,
    setup: Callable[[str], None],
    action: str,
    fields: dict[str, str],
    message: str,
) -> None:
    setup(NUMBER)
    before = snapshot(NUMBER)

    shown = act(console, Contract, action, [contract], **fields)

    assert shown == [f"{NUMBER}: not done — {message}"]
    assert snapshot(NUMBER) == before


def test_a_batch_reports_each_contract_and_a_refusal_does_not_stop_the_others(
    console: Client, contract: Contract, other: Contract
) -> None:
    services.stop(OTHER, date(2003, 8, 20), "terms violation", SETUP)
    before = snapshot(NUMBER)

    shown = act(console, Contract, "resume_service", [contract, other], on="2003-09-01", reason="")

    assert f"{NUMBER}: not done — a contract cannot go from active to active" in shown
    assert any(OTHER in m and "not done" not in m for m in shown)
    assert snapshot(NUMBER) == before
    assert Contract.objects.get(number=OTHER).state == State.ACTIVE.value


def test_a_form_with_a_malformed_date_is_shown_again_with_its_error_and_nothing_changes(
    console: Client, contract: Contract
) -> None:
    before = snapshot(NUMBER)

    response = console.post(
        changelist(Contract),
        {
            "action": "stop_service",
            ACTION_CHECKBOX_NAME: [contract.pk],
            "apply": "1",
            "on": "2003-02-30",
            "reason": "x",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["on"]
    assert snapshot(NUMBER) == before


# --- what the console may not change ------------------------------------------------------------


@pytest.fixture
def closed_july(contract: Contract, data: OperatorData) -> Statement:
    close_month(Month.parse("2003-07"), data, SETUP)
    return Statement.objects.get(contract=contract, month="2003-07")


def test_a_statement_is_shown_with_its_lines_and_taxes(
    console: Client, closed_july: Statement
) -> None:
    response = console.get(
        reverse("admin:billing_statement_change", args=[closed_july.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    page = response.content.decode()
    assert response.status_code == 200
    inlines = {inline.opts.model: inline for inline in response.context["inline_admin_formsets"]}
    assert set(inlines) == {StatementLine, StatementTax}
    assert not any(inline.has_change_permission for inline in inlines.values())
    assert [form.original for form in inlines[StatementLine]] == list(closed_july.lines.all())
    assert [form.original for form in inlines[StatementTax]] == list(closed_july.taxes.all())
    assert closed_july.taxes.exists()
    for line in closed_july.lines.all():
        assert line.description in page
    assert 'name="_save"' not in page


def test_a_statement_cannot_be_changed_in_the_console(
    console: Client, closed_july: Statement
) -> None:
    before = list(Statement.objects.values())

    response = console.post(
        reverse("admin:billing_statement_change", args=[closed_july.pk]),
        {"total_yen": "1", "subtotal_yen": "1", "tax_yen": "0", "month": "2003-07"},
    )

    assert response.status_code == 403
    assert list(Statement.objects.values()) == before


def test_a_statement_cannot_be_deleted_in_the_console(
    console: Client, closed_july: Statement
) -> None:
    url = reverse("admin:billing_statement_delete", args=[closed_july.pk])

    assert console.get(url).status_code == 403
    assert console.post(url, {"post": "yes"}).status_code == 403
    listing = console.get(changelist(Statement))
    assert listing.context["action_form"] is None, "no action at all, so no delete_selected"
    assert Statement.objects.filter(pk=closed_july.pk).exists()


READ_ONLY = [
    pytest.param(Statement, id="statements"),
    pytest.param(StatementLine, id="statement lines"),
    pytest.param(StatementTax, id="statement taxes"),
    pytest.param(MonthClose, id="month closes"),
    pytest.param(Cdr, id="call records"),
    pytest.param(ContractEvent, id="contract events"),
    pytest.param(DataFileVersion, id="operator data versions"),
]


@pytest.mark.parametrize("model", READ_ONLY)
def test_records_are_read_only_no_add_no_change_no_delete(
    console: Client, closed_july: Statement, calls: None, model: type[models.Model]
) -> None:
    row = model._default_manager.first()
    assert row is not None
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"

    assert console.get(reverse(f"{name}_change", args=[row.pk])).status_code == 200
    assert console.post(reverse(f"{name}_change", args=[row.pk]), {}).status_code == 403
    assert console.get(reverse(f"{name}_add")).status_code == 403
    assert console.get(reverse(f"{name}_delete", args=[row.pk])).status_code == 403


def test_a_contracts_state_cannot_be_edited_and_saving_its_settings_leaves_it_alone(
    console: Client, contract: Contract
) -> None:
    url = reverse("admin:subscribers_contract_change", args=[contract.pk])
    page = console.get(url)
    form = {
        "international_barred": "on",
        "daily_spend_cap_yen": "3000",
        "state": "terminated",
        "number": "05055509999",
        "_save": "1",
    }
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        form.update({management.add_prefix(k): v for k, v in management.initial.items()})
    services.stop(NUMBER, date(2003, 9, 1), "stopped while the page was open", SETUP)

    response = console.post(url, form)

    assert response.status_code == 302
    saved = Contract.objects.get(pk=contract.pk)
    assert (saved.international_barred, saved.daily_spend_cap_yen) == (True, 3000)
    assert (saved.number, saved.state) == (NUMBER, State.STOPPED.value)
    assert console.get(reverse("admin:subscribers_contract_add")).status_code == 403
    assert (
        console.get(reverse("admin:subscribers_contract_delete", args=[contract.pk])).status_code
        == 403
    )


# --- languages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected", "absent"),
    [
        pytest.param(
            {},
            ["denwa オペレーターコンソール", "電話契約", "ログアウト"],
            "Log out",
            id="Japanese by default",
        ),
        pytest.param(
            {"HTTP_ACCEPT_LANGUAGE": "ja"},
            ["denwa オペレーターコンソール", "電話契約", "料金", "ログアウト"],
            "Log out",
            id="Japanese when asked",
        ),
        pytest.param(
            {"HTTP_ACCEPT_LANGUAGE": "en"},
            ["denwa operator console", "Phone contracts", "Billing", "Log out"],
            "ログアウト",
            id="English when asked",
        ),
    ],
)
def test_the_console_index_speaks_japanese_by_default_and_english_when_asked(
    console: Client, headers: dict[str, str], expected: list[str], absent: str
) -> None:
    response = console.get(reverse("admin:index"), **headers)

    page = response.content.decode()
    assert response.status_code == 200
    for text in expected:
        assert text in page
    assert absent not in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        pytest.param("ja", ["一時停止を承認", "開始日", "理由"], id="Japanese"),
        pytest.param("en", ["Approve a suspension", "First day", "Reason"], id="English"),
    ],
)
def test_an_action_form_speaks_the_operators_language(
    console: Client, contract: Contract, language: str, expected: list[str]
) -> None:
    response = console.post(
        changelist(Contract),
        {"action": "approve_suspension", ACTION_CHECKBOX_NAME: [contract.pk]},
        HTTP_ACCEPT_LANGUAGE=language,
    )

    page = response.content.decode()
    for text in expected:
        assert text in page


def test_refusals_are_introduced_in_the_operators_language(
    console: Client, contract: Contract
) -> None:
    response = console.post(
        changelist(Contract),
        {
            "action": "resume_service",
            ACTION_CHECKBOX_NAME: [contract.pk],
            "apply": "1",
            "on": "2003-09-01",
        },
        HTTP_ACCEPT_LANGUAGE="ja",
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert shown == [f"{NUMBER}: 実行できません — a contract cannot go from active to active"]


# --- every model ------------------------------------------------------------------------------

CONSOLE_APPS = ["subscribers", "calls", "billing", "support", "operator_files"]


def test_every_model_of_the_five_apps_is_in_the_console() -> None:
    models_of_the_apps = {
        model for label in CONSOLE_APPS for model in apps.get_app_config(label).get_models()
    }

    assert models_of_the_apps - set(admin.site._registry) == set()


@pytest.fixture
def everything(contract: Contract, calls: None, closed_july: Statement) -> None:
    """At least one row of every model."""
    rules = load_operator_data().rules
    services.suspend(NUMBER, date(2003, 9, 1), date(2003, 9, 30), "travelling", SETUP, rules)
    record_adjustment(NUMBER, -100, "goodwill", date(2003, 9, 1), SETUP)
    record_provision(
        NUMBER, "support_contractor", "氏名", "故障対応", datetime(2003, 9, 2, tzinfo=UTC), SETUP
    )
    inquiry = Inquiry.objects.create(contract=contract, subject="明細について", body="…")
    reply_to_inquiry(inquiry, "ご確認ください。", SETUP)
    BankMandate.objects.create(
        contract=contract,
        bank_code="0001",
        branch_code="123",
        account_number="1234567",
        holder_kana="ﾔﾏﾀﾞ ﾀﾛｳ",
    )
    SpoolOffset.objects.create(path="/var/denwa/spool/sip-1.cdr.jsonl", offset=120)
    OpenCall.objects.create(
        cdr_id="open-1", record={"id": "open-1"}, max_end=datetime(2003, 9, 2, 4, tzinfo=UTC)
    )


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_list_and_every_detail_page_of_the_console_renders(
    console: Client, everything: None, language: str
) -> None:
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in CONSOLE_APPS:
            continue
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        listing = console.get(reverse(f"{name}_changelist"), HTTP_ACCEPT_LANGUAGE=language)
        assert listing.status_code == 200, model
        assert listing.context["cl"].result_count >= 1, model
        row = model._default_manager.first()
        assert row is not None
        detail = console.get(
            reverse(f"{name}_change", args=[row.pk]), HTTP_ACCEPT_LANGUAGE=language
        )
        assert detail.status_code == 200, model
        for action in model_admin.get_actions(detail.wsgi_request):
            if action == "delete_selected":
                continue
            form = console.post(
                reverse(f"{name}_changelist"),
                {"action": action, ACTION_CHECKBOX_NAME: [row.pk]},
                HTTP_ACCEPT_LANGUAGE=language,
            )
            assert form.status_code == 200, (model, action)
            assert form.templates[0].name == "console/action_form.html", (model, action)


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        pytest.param("ja", ["050番号", "適用日", "実行者"], ">Contract", id="Japanese"),
        pytest.param("en", ["050 number", "Effective from", "By"], "050番号", id="English"),
    ],
)
def test_list_columns_are_in_the_operators_language_even_for_related_fields(
    console: Client, contract: Contract, language: str, expected: list[str], absent: str
) -> None:
    response = console.get(changelist(ContractEvent), HTTP_ACCEPT_LANGUAGE=language)

    page = response.content.decode()
    for text in expected:
        assert text in page
    assert absent not in page
