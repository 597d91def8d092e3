"""The whole month through the database: contracts, calls, the close, statements (SPEC §2-§4).

These run on SQLite and again on PostgreSQL (see scripts/test).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client

from denwa.billing.adjustments import record_adjustment
from denwa.billing.errors import EarlierMonthOpen, MonthNotOver, NoStatement
from denwa.billing.models import ClosedStatementError, MonthClose, Statement, StatementLine
from denwa.billing.services import carrying_month, close_month, show_statement
from denwa.calls.errors import CdrFileError
from denwa.calls.models import CallTotal, Cdr
from denwa.calls.services import import_cdr_lines
from denwa.core.errors import IllegalTransition
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.operator_data.loader import default_data_dir, load_operator_data
from denwa.core.rating.tax import TaxRate
from denwa.core.timeutil import Month
from denwa.subscribers.models import Contract, ContractEvent, IspAccount, TerminalAdapter
from denwa.subscribers.services import (
    add_subscriber,
    apply_isp_event,
    assign_ta,
    resume,
    suspend,
    terminate,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

LATER = datetime(2030, 1, 1, tzinfo=UTC)
ALICE = "05055500001"
BOB = "05055500002"


def subscribe(data: OperatorData, number: str, start: date, account: str = "KCT-1") -> Contract:
    contract = add_subscriber(data, number, account, start, "test", "secret").contract
    ta = TerminalAdapter.objects.create(
        model="TA", serial=f"SN-{number}", mac=f"02:00:00:00:{number[-4:-2]}:{number[-2:]}"
    )
    assign_ta(number, ta.serial, start, "test")
    return contract


def close(data: OperatorData, *months: str) -> None:
    for month in months:
        close_month(Month.parse(month), data, "test", now=LATER)


def total(number: str, month: str) -> int:
    return show_statement(number, Month.parse(month)).total_yen


def codes(number: str, month: str) -> list[str]:
    return [line["code"] for line in show_statement(number, Month.parse(month)).lines]


def cdr(
    id: str, caller: str, callee: str, answer: str | None, seconds: int, day: str = "2003-08-05"
) -> str:
    start = f"{day}T10:00:00+09:00"
    answered = f"{day}T10:00:{answer}+09:00" if answer else None
    end_second = int(answer or "0") + seconds
    minutes, secs = divmod(end_second, 60)
    hours, minutes = divmod(minutes, 60)
    end = f"{day}T{10 + hours:02d}:{minutes:02d}:{secs:02d}+09:00"
    return json.dumps(
        {
            "id": id,
            "caller": caller,
            "callee": callee,
            "start": start,
            "answer": answered,
            "end": end,
            "disposition": "answered" if answer else "no_answer",
        }
    )


MONTHS = ["2003-07", "2003-08", "2003-09", "2003-10", "2003-11", "2003-12", "2004-01"]


def test_a_subscribers_first_seven_months(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    close(data, *MONTHS)
    # July: 1,000 registration + 480 rental = 1,480 + 5% 74; then 380 + 480 = 860 + 43.
    assert [total(ALICE, m) for m in MONTHS] == [1554, 903, 903, 903, 903, 903, 903]
    assert codes(ALICE, "2003-07") == ["initial_registration", "ta_rental"]
    assert codes(ALICE, "2004-01") == ["basic_fee", "ta_rental"]


def test_early_termination_charges_the_missing_months(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    close(data, "2003-07", "2003-08")
    terminate(ALICE, date(2003, 9, 10), "test")
    close(data, "2003-09", "2003-10")
    statement = show_statement(ALICE, Month(2003, 9))
    early = [line for line in statement.lines if line["code"] == "early_termination"]
    assert [line["amount_yen"] for line in early] == [2960]
    assert (statement.subtotal_yen, statement.total_yen) == (3820, 4011)
    with pytest.raises(NoStatement):
        show_statement(ALICE, Month(2003, 10))


def test_a_waived_early_charge_is_not_billed(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    terminate(ALICE, date(2003, 9, 10), "test", reason="moved abroad", waive_early=True)
    close(data, "2003-07", "2003-08", "2003-09")
    assert "early_termination" not in codes(ALICE, "2003-09")


def test_a_suspension_drops_the_basic_fee_of_full_months_and_resuming_charges_reactivation(
    data: OperatorData,
) -> None:
    subscribe(data, ALICE, date(2003, 4, 10))
    suspend(ALICE, date(2003, 6, 15), date(2003, 9, 14), "hospital stay", "test", data.rules)
    resume(ALICE, date(2003, 9, 15), "test")
    close(data, "2003-04", "2003-05", "2003-06", "2003-07", "2003-08", "2003-09")
    assert codes(ALICE, "2003-06") == ["basic_fee", "ta_rental"]
    assert codes(ALICE, "2003-07") == ["ta_rental"]
    assert codes(ALICE, "2003-08") == ["ta_rental"]
    assert codes(ALICE, "2003-09") == ["reactivation", "basic_fee", "ta_rental"]
    assert total(ALICE, "2003-09") == 1860 + 93


def test_calls_are_totalled_per_class_with_tax_on_the_subtotal(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 1))
    subscribe(data, BOB, date(2003, 7, 1), account="KCT-2")
    lines = [
        cdr("a1", ALICE, "0312345678", "05", 181),  # 2 units of 3 min: 16 yen
        cdr("a2", ALICE, "0312345678", "05", 180),  # 1 unit: 8 yen
        cdr("a3", ALICE, "09012345678", "05", 61),  # 2 minutes: 40 yen
        cdr("a4", ALICE, BOB, "05", 600),  # on-net: free
        cdr("a5", ALICE, "010447912345678", "05", 95),  # UK mobile 2 min x 45, exempt
        cdr("a6", ALICE, "0312345678", None, 0),  # unanswered: nothing
    ]
    import_cdr_lines("test", lines, data)
    close(data, "2003-07", "2003-08")
    view = show_statement(ALICE, Month(2003, 8))
    assert view.calls["domestic_fixed"] == {"count": 2, "seconds": 361, "amount_yen": 24}
    assert view.calls["mobile"] == {"count": 1, "seconds": 61, "amount_yen": 40}
    assert view.calls["onnet"]["amount_yen"] == 0
    assert view.calls["international"] == {"count": 1, "seconds": 95, "amount_yen": 90}
    # taxable: 380 + 480 + 24 + 40 = 924 -> 46.2 -> 46; international exempt.
    assert view.tax_yen == {"0.05": 46, "exempt": 0}
    assert view.total_yen == 924 + 90 + 46


def test_closing_a_month_twice_changes_nothing(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    first = close_month(Month(2003, 7), data, "test", now=LATER)
    rows = (Statement.objects.count(), StatementLine.objects.count())
    again = close_month(Month(2003, 7), data, "test", now=LATER)
    assert not first.already_closed
    assert again.already_closed
    assert (Statement.objects.count(), StatementLine.objects.count()) == rows
    assert MonthClose.objects.count() == 1


def test_a_month_closes_only_after_its_last_day(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    just_before = datetime(2003, 7, 31, 14, 59, 59, tzinfo=UTC)  # 23:59:59 JST
    with pytest.raises(MonthNotOver):
        close_month(Month(2003, 7), data, "test", now=just_before)
    at_midnight = datetime(2003, 7, 31, 15, 0, tzinfo=UTC)  # 24:00 JST
    assert not close_month(Month(2003, 7), data, "test", now=at_midnight).already_closed


def test_months_close_in_order(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    close(data, "2003-07")
    with pytest.raises(EarlierMonthOpen, match="close 2003-08 before 2003-09"):
        close(data, "2003-09")


def test_a_late_cdr_goes_on_the_next_open_month_and_the_closed_one_never_changes(
    data: OperatorData,
) -> None:
    subscribe(data, ALICE, date(2003, 7, 1))
    close(data, "2003-07", "2003-08")
    august = show_statement(ALICE, Month(2003, 8))
    import_cdr_lines("late", [cdr("late1", ALICE, "0312345678", "00", 200, "2003-08-30")], data)
    close(data, "2003-09")
    assert show_statement(ALICE, Month(2003, 8)) == august
    september = show_statement(ALICE, Month(2003, 9))
    late = [line for line in september.lines if line["code"] == "late_calls:domestic_fixed"]
    assert [(line["amount_yen"], line["quantity"]) for line in late] == [(16, 1)]
    assert "2003-08" in late[0]["description"]
    carried = Cdr.objects.annotate(billed_on=carrying_month()).get(cdr_id="late1").billed_on
    assert carried == "2003-09"


def running_totals() -> set[tuple[int, str, str, str, int, int, int]]:
    return set(
        CallTotal.objects.filter(calls__gt=0).values_list(
            "contract_id", "call_class", "billing_month", "billed_month", "calls", "seconds",
            "charge_yen",
        )
    )  # fmt: skip


def totals_of_the_calls(billed: dict[str, str]) -> set[tuple[int, str, str, str, int, int, int]]:
    """The running totals recomputed from the CDRs; ``billed`` maps CDR ids to their close."""
    sums: dict[tuple[int, str, str, str], list[int]] = {}
    calls = Cdr.objects.filter(direction="out", answered_at__isnull=False, contract__isnull=False)
    for row in calls:
        key = (row.contract_id, row.call_class, row.billing_month, billed.get(row.cdr_id, ""))
        total = sums.setdefault(key, [0, 0, 0])
        total[0] += 1
        total[1] += row.billed_seconds
        total[2] += row.charge_yen
    return {(*key, *values) for key, values in sums.items()}  # type: ignore[misc]


def test_the_running_call_totals_always_equal_the_sum_of_the_calls(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 1))
    subscribe(data, BOB, date(2003, 7, 1), account="KCT-2")
    first = [
        cdr("a1", ALICE, "0312345678", "00", 200),
        cdr("a2", ALICE, "09012345678", "05", 61),
        cdr("a3", ALICE, "0312345678", None, 0),
        cdr("b1", BOB, "0312345678", "00", 30),
        cdr("in1", "0312345678", ALICE, "00", 30),
    ]
    import_cdr_lines("first", first, data)
    import_cdr_lines("again", [*first, cdr("a4", ALICE, "0312345678", "00", 500)], data)
    assert running_totals() == totals_of_the_calls({})
    close(data, "2003-07", "2003-08")
    import_cdr_lines("late", [cdr("a5", ALICE, "0312345678", "00", 10, "2003-08-31")], data)
    august = {"a1": "2003-08", "a2": "2003-08", "a4": "2003-08", "b1": "2003-08"}
    assert running_totals() == totals_of_the_calls(august)
    close(data, "2003-09")
    assert running_totals() == totals_of_the_calls({**august, "a5": "2003-09"})


def operator_data_with(tmp_path: Path, name: str, extra_line: str) -> OperatorData:
    """The shipped data with one line added to one file (e.g. a corrected tariff)."""
    directory = tmp_path / "data"
    shutil.copytree(default_data_dir(), directory)
    with (directory / name).open("a", encoding="utf-8") as file:
        file.write(extra_line + "\n")
    return load_operator_data(directory)


def test_a_tariff_corrected_before_the_close_reprices_the_calls_and_their_totals(
    data: OperatorData, tmp_path: Path
) -> None:
    subscribe(data, ALICE, date(2003, 7, 1))
    import_cdr_lines("calls", [cdr("c1", ALICE, "0312345678", "00", 200)], data)  # 2 units x 8
    corrected = operator_data_with(
        tmp_path, "tariffs.csv", "domestic_fixed,To fixed lines in Japan,180,7,2003-08-01"
    )
    close(corrected, "2003-07", "2003-08")
    assert Cdr.objects.get(cdr_id="c1").charge_yen == 14
    view = show_statement(ALICE, Month(2003, 8))
    assert view.calls["domestic_fixed"] == {"count": 1, "seconds": 200, "amount_yen": 14}
    assert running_totals() == totals_of_the_calls({"c1": "2003-08"})


def test_a_tax_rate_from_the_middle_of_a_month_splits_its_calls_by_answer_date(
    data: OperatorData,
) -> None:
    subscribe(data, ALICE, date(2003, 7, 1))
    mid_month = TaxRate(valid_from=date(2003, 8, 16), rate=Decimal("0.10"))
    taxed = dataclasses.replace(
        data, taxes=dataclasses.replace(data.taxes, rates=[*data.taxes.rates, mid_month])
    )
    before = cdr("t1", ALICE, "0312345678", "00", 100, "2003-08-15")
    after = cdr("t2", ALICE, "0312345678", "00", 100, "2003-08-16")
    import_cdr_lines("tax", [before, after], taxed)
    close(taxed, "2003-07", "2003-08")
    statement = show_statement(ALICE, Month(2003, 8))
    assert set(statement.tax_yen) == {"0.05", "0.1"}


def test_an_adjustment_after_the_close_goes_on_the_next_statement(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 1))
    close(data, "2003-07", "2003-08")
    august_total = total(ALICE, "2003-08")
    record_adjustment(ALICE, -100, "wrong tariff in August", date(2003, 8, 31), "test")
    close(data, "2003-09")
    assert total(ALICE, "2003-08") == august_total
    september = show_statement(ALICE, Month(2003, 9))
    assert [line["amount_yen"] for line in september.lines if line["code"] == "adjustment"] == [
        -100
    ]
    # 380 + 480 - 100 = 760 at 5% -> 38
    assert september.total_yen == 798


def test_a_closed_statement_cannot_be_changed_or_deleted(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 1))
    close(data, "2003-07")
    statement = Statement.objects.get()
    statement.total_yen = 1
    with pytest.raises(ClosedStatementError):
        statement.save()
    with pytest.raises(ClosedStatementError):
        Statement.objects.update(total_yen=1)
    with pytest.raises(ClosedStatementError):
        statement.delete()
    with pytest.raises(ClosedStatementError):
        StatementLine.objects.filter(statement=statement).update(amount_yen=0)
    assert Statement.objects.get().total_yen == 1554


def test_statements_cross_the_2019_tax_change_by_answer_date(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2019, 8, 1))
    september_call = cdr("t1", ALICE, "0312345678", "00", 100, "2019-09-30")
    october_call = cdr("t2", ALICE, "0312345678", "00", 100, "2019-10-01")
    import_cdr_lines("tax", [september_call, october_call], data)
    close(data, "2019-08", "2019-09", "2019-10")
    assert show_statement(ALICE, Month(2019, 9)).tax_yen == {"0.08": 69}  # 868 x 8% = 69.44
    assert show_statement(ALICE, Month(2019, 10)).tax_yen == {"0.1": 86}  # 868 x 10% = 86.8


def test_the_isp_cancelling_its_account_terminates_the_phone_contract_once(
    data: OperatorData,
) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    first = apply_isp_event("KCT-1", "cancelled", date(2003, 9, 10), "isp")
    again = apply_isp_event("KCT-1", "cancelled", date(2003, 9, 12), "isp")
    assert first.terminated == (ALICE,)
    assert (again.changed, again.terminated) == (False, ())
    contract = Contract.objects.get(number=ALICE)
    assert (contract.state, contract.end_date) == ("terminated", date(2003, 9, 10))
    assert IspAccount.objects.get(account_id="KCT-1").status == "cancelled"
    assert ContractEvent.objects.filter(contract=contract, to_state="terminated").count() == 1
    close(data, "2003-07", "2003-08", "2003-09")
    assert "early_termination" in codes(ALICE, "2003-09")


def test_the_isp_event_endpoint_needs_its_token_and_is_idempotent(
    data: OperatorData, client: Client
) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    body = json.dumps({"account": "KCT-1", "event": "suspended", "date": "2003-10-01"})
    unauthorized = client.post("/api/isp-events", body, content_type="application/json")
    headers = {"Authorization": "Bearer test-isp-token"}
    first = client.post("/api/isp-events", body, content_type="application/json", headers=headers)
    again = client.post("/api/isp-events", body, content_type="application/json", headers=headers)
    unknown = client.post(
        "/api/isp-events",
        json.dumps({"account": "NOPE", "event": "cancelled"}),
        content_type="application/json",
        headers=headers,
    )
    assert unauthorized.status_code == 401
    assert (first.status_code, first.json()["terminated"]) == (200, [ALICE])
    assert (again.status_code, again.json()["changed"]) == (200, False)
    assert unknown.status_code == 404
    assert Contract.objects.get(number=ALICE).state == "terminated"


def test_an_illegal_transition_changes_nothing(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    events = ContractEvent.objects.count()
    with pytest.raises(IllegalTransition) as refused:
        resume(ALICE, date(2003, 8, 1), "test")
    assert (refused.value.from_state, refused.value.to_state) == ("active", "active")
    assert Contract.objects.get(number=ALICE).state == "active"
    assert ContractEvent.objects.count() == events


def test_a_bad_cdr_line_is_reported_with_its_number_and_nothing_is_imported(
    data: OperatorData,
) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    good = cdr("g1", ALICE, "0312345678", "05", 60)
    naive = good.replace("+09:00", "")
    with pytest.raises(CdrFileError) as error:
        import_cdr_lines("bad.jsonl", [good, "", naive], data)
    assert (error.value.source, error.value.line) == ("bad.jsonl", 3)
    assert "no UTC offset" in error.value.problem
    assert Cdr.objects.count() == 0


def refusal(id: str, caller: str, callee: str, second: str, code: int = 403) -> str:
    """A refused call's record as the SIP side writes it (no answer, ends at once)."""
    at = f"2003-08-05T10:00:{second}+09:00"
    return json.dumps(
        {"id": id, "caller": caller, "callee": callee, "start": at, "answer": None,
         "end": at, "disposition": "refused", "sip_code": code}
    )  # fmt: skip


def test_a_refusal_written_again_for_a_retransmitted_invite_is_stored_once(
    data: OperatorData,
) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    lines = [refusal("r1", ALICE, "110", "00"), refusal("r1", ALICE, "110", "01")]
    result = import_cdr_lines("spool", lines, data)
    assert (result.read, result.imported, result.skipped) == (2, 1, 1)
    stored = Cdr.objects.get(cdr_id="r1")
    assert stored.started_at == datetime(2003, 8, 5, 1, 0, 0, tzinfo=UTC)  # the first stands


@pytest.mark.parametrize(
    "later",
    [
        refusal("r1", ALICE, "0120123456", "01"),
        refusal("r1", ALICE, "110", "01", code=503),
        cdr("r1", ALICE, "110", None, 0),
    ],
    ids=["another number", "another code", "not a refusal"],
)
def test_an_id_repeated_for_a_different_call_is_still_refused(
    data: OperatorData, later: str
) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    with pytest.raises(CdrFileError) as error:
        import_cdr_lines("spool", [refusal("r1", ALICE, "110", "00"), later], data)
    assert error.value.line == 2
    assert "appears twice, differently" in error.value.problem
    assert Cdr.objects.count() == 0


def test_importing_the_same_cdrs_again_skips_them(data: OperatorData) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    lines = [cdr("i1", ALICE, "0312345678", "05", 60), cdr("i2", ALICE, "110", None, 0)]
    first = import_cdr_lines("f", lines, data)
    again = import_cdr_lines("f", lines, data)
    assert (first.imported, first.skipped) == (2, 0)
    assert (again.imported, again.skipped) == (0, 2)
    assert Cdr.objects.count() == 2
