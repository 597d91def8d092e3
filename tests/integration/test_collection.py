"""Collection by bank direct debit through the ``denwa debit`` commands on the database (SPEC §4).

Export → the bank's result (written here byte by byte at the layout's
positions, every result code) → import, with carried-over amounts, statuses
per statement, the stop list, and every refused file leaving nothing applied.
These run on SQLite and again on PostgreSQL (see scripts/test).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import reverse

from denwa.billing.models import Statement
from denwa.billing.services import close_month
from denwa.cli.main import main
from denwa.collection.models import DebitRequest, DebitRun, StatementDebit, StopListEntry
from denwa.collection.services import debit_status, export_debits, import_results, save_mandate
from denwa.core.collection.config import load_collection_settings
from denwa.core.collection.status import DebitState
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.timeutil import Month
from denwa.subscribers.models import BankMandate, Contract, TerminalAdapter
from denwa.subscribers.services import add_subscriber, assign_ta
from tests.zengin_bank import bank_result, joined, put, records_of

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

GOLDEN = Path(__file__).parent.parent / "golden" / "collection"
LATER = datetime(2030, 1, 1, tzinfo=UTC)
START = date(2003, 7, 15)
ALICE, BOB, CAROL = "05055500001", "05055500002", "05055500003"


# --- helpers ----------------------------------------------------------------------------------


def subscribe(data: OperatorData, number: str) -> Contract:
    """A contract from 2003-07-15 with a TA: 1,554 yen in July, 903 yen a month after."""
    contract = add_subscriber(data, number, f"K-{number[-4:]}", START, "test", "secret").contract
    ta = TerminalAdapter.objects.create(
        model="TA", serial=f"SN-{number}", mac=f"02:00:00:00:{number[-4:-2]}:{number[-2:]}"
    )
    assign_ta(number, ta.serial, START, "test")
    return contract


def close(data: OperatorData, *months: str) -> None:
    for month in months:
        close_month(Month.parse(month), data, "test", now=LATER)


class Cli:
    """``denwa`` run in this process, on the test database."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def run(self, *args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def ok(self, *args: str) -> str:
        code, out, err = self.run(*args)
        assert code == 0, err
        return out

    def refused(self, *args: str) -> str:
        code, out, err = self.run(*args)
        assert code == 2, out
        lines = err.splitlines()
        assert len(lines) == 1, err
        return lines[0]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


def mandate(cli: Cli, number: str, account: str = "1234567", holder: str = "ヤマダ タロウ") -> None:
    cli.ok(
        "debit", "mandate", number,
        "--bank", "0001", "--branch", "001", "--account", account, "--holder", holder,
        "--bank-name", "ミズホ", "--branch-name", "トウキョウ",
    )  # fmt: skip


def amounts_in(raw: bytes) -> dict[int, int]:
    """Contract id → amount requested, from a request file's data records."""
    return {int(r[91:111]): int(r[80:90]) for r in records_of(raw)[1:-2]}


def state(number: str, month: str) -> DebitState:
    return debit_status(Statement.objects.get(contract__number=number, month=month)).state


# --- export ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_export_of_a_small_month_is_byte_for_byte_the_golden_file(
    data: OperatorData, cli: Cli, tmp_path: Path
) -> None:
    for number in (ALICE, BOB, CAROL):  # contract ids 1, 2, 3
        subscribe(data, number)
    close(data, "2003-07", "2003-08")
    mandate(cli, ALICE, holder="やまだ たろう")
    cli.ok(
        "debit", "mandate", BOB, "--bank", "0005", "--branch", "001", "--account-type", "2",
        "--account", "54321", "--holder", "サトウ ハナコ",
        "--bank-name", "ミツビシユーエフジエイ", "--branch-name", "ホンテン",
    )  # fmt: skip
    out = tmp_path / "2003-08.dat"

    code, printed, warned = cli.run("debit", "export", "2003-08", "--out", str(out))

    assert code == 0, warned
    assert out.read_bytes() == (GOLDEN / "export_2003-08.dat").read_bytes()
    assert printed == f"2003-08: 2 debits, 1,806 yen, debited on 2003-09-29 -> {out}\n"
    assert warned == f"warning: {CAROL}: no debit mandate; 903 yen not requested\n"

    again = tmp_path / "again.dat"
    assert "exported before: the same file" in cli.ok(
        "debit", "export", "2003-08", "--out", str(again)
    )
    assert again.read_bytes() == out.read_bytes()
    assert DebitRun.objects.count() == 1


def test_a_month_that_is_not_closed_is_refused_and_nothing_is_written(
    data: OperatorData, cli: Cli, tmp_path: Path
) -> None:
    subscribe(data, ALICE)
    close(data, "2003-07")
    mandate(cli, ALICE)
    out = tmp_path / "x.dat"

    error = cli.refused("debit", "export", "2003-08", "--out", str(out))

    assert error == "denwa: error: 2003-08 is not closed: close it (denwa bill close 2003-08) first"
    assert not out.exists()
    assert DebitRun.objects.count() == 0


def test_months_are_exported_in_order_and_after_the_previous_result(
    data: OperatorData, cli: Cli, tmp_path: Path
) -> None:
    subscribe(data, ALICE)
    close(data, "2003-07", "2003-08", "2003-09", "2003-10")
    mandate(cli, ALICE)
    first = tmp_path / "08.dat"
    cli.ok("debit", "export", "2003-08", "--out", str(first))  # collection starts in August

    assert "2003-08 is already exported" in cli.refused("debit", "export", "2003-07", "--out", "x")
    assert "export 2003-09 first" in cli.refused("debit", "export", "2003-10", "--out", "x")
    pending = cli.refused("debit", "export", "2003-09", "--out", str(tmp_path / "09.dat"))
    assert "the result of 2003-08's debit (2003-09-29) is not imported yet" in pending

    result = tmp_path / "08.result"
    result.write_bytes(bank_result(first.read_bytes(), lambda _: "0"))
    cli.ok("debit", "import", str(result))
    cli.ok("debit", "export", "2003-09", "--out", str(tmp_path / "09.dat"))
    assert DebitRun.objects.count() == 2


def test_the_debit_day_option_moves_over_the_new_year_and_a_second_export_keeps_the_first(
    data: OperatorData, cli: Cli, tmp_path: Path
) -> None:
    subscribe(data, ALICE)
    close(data, *[f"2003-{m:02d}" for m in range(7, 13)])
    mandate(cli, ALICE)
    out = tmp_path / "2003-12.dat"

    printed = cli.ok("debit", "export", "2003-12", "--out", str(out), "--debit-day", "1")

    # 01-01 to 01-03 closed, 01-03 and 01-04 a weekend: Monday 2004-01-05.
    assert "debited on 2004-01-05" in printed
    assert out.read_bytes()[54:58] == b"0105"
    refused = cli.refused("debit", "export", "2003-12", "--out", str(out), "--debit-day", "31")
    assert "2003-12 was exported for a debit on 2004-01-05, not 2004-02-02" in refused
    assert "the same file" in cli.ok(
        "debit", "export", "2003-12", "--out", str(out), "--debit-day", "1"
    )


# --- the round trip ---------------------------------------------------------------------------

EVERY_CODE = ["0", "1", "2", "3", "4", "8", "9"]


def test_a_round_trip_with_every_result_code_marks_statements_and_carries_unpaid_amounts(
    data: OperatorData, cli: Cli, tmp_path: Path
) -> None:
    numbers = [f"0505550001{i}" for i in range(len(EVERY_CODE))]
    contracts = [subscribe(data, number) for number in numbers]
    for index, number in enumerate(numbers):
        mandate(cli, number, account=f"{index + 1:07d}")
    close(data, "2003-07", "2003-08")
    code_of = {c.pk: code for c, code in zip(contracts, EVERY_CODE, strict=True)}
    request = tmp_path / "2003-08.dat"
    cli.ok("debit", "export", "2003-08", "--out", str(request))
    assert {state(n, "2003-08") for n in numbers} == {DebitState.REQUESTED}
    result = tmp_path / "2003-08.result"
    result.write_bytes(bank_result(request.read_bytes(), code_of.__getitem__))

    imported = json.loads(cli.ok("debit", "import", str(result), "--json"))

    assert imported == {
        "month": "2003-08",
        "debit_date": "2003-09-29",
        "paid": 1,
        "paid_yen": 903,
        "unpaid": 6,
        "unpaid_yen": 6 * 903,
        "result_codes": dict.fromkeys(EVERY_CODE, 1),
        "stop_list": [],
        "stopped": [],
    }
    statuses = {
        n: debit_status(Statement.objects.get(contract__number=n, month="2003-08")) for n in numbers
    }
    assert statuses[numbers[0]].state is DebitState.PAID
    assert statuses[numbers[0]].label_en == "paid by direct debit on 2003-09-29"
    assert [(s.state, s.result_code) for s in list(statuses.values())[1:]] == [
        (DebitState.UNPAID, code) for code in EVERY_CODE[1:]
    ]
    assert statuses[numbers[1]].label_ja == "振替不能：資金不足（2003-09-29）・次回に繰越"
    assert state(numbers[0], "2003-07") is DebitState.NOT_REQUESTED

    close(data, "2003-09")
    request = tmp_path / "2003-09.dat"
    cli.ok("debit", "export", "2003-09", "--out", str(request))
    amounts = amounts_in(request.read_bytes())
    assert [amounts[c.pk] for c in contracts] == [903] + [903 + 903] * 6
    assert state(numbers[3], "2003-08") is DebitState.CARRIED_OVER
    assert state(numbers[3], "2003-09") is DebitState.REQUESTED

    result = tmp_path / "2003-09.result"
    result.write_bytes(bank_result(request.read_bytes(), lambda _: "0"))
    cli.ok("debit", "import", str(result))
    assert {state(n, m) for n in numbers for m in ("2003-08", "2003-09")} == {DebitState.PAID}
    assert DebitRun.objects.get(month="2003-09").paid_yen == 903 + 6 * 1806


# --- refused result files ---------------------------------------------------------------------


@pytest.fixture
def july(data: OperatorData, cli: Cli, tmp_path: Path) -> Path:
    """ALICE and BOB with mandates, July 2003 closed and exported: the request file."""
    for number in (ALICE, BOB):
        subscribe(data, number)
        mandate(cli, number)
    close(data, "2003-07")
    request = tmp_path / "2003-07.dat"
    cli.ok("debit", "export", "2003-07", "--out", str(request))
    return request


def _short_record(raw: bytes) -> bytes:
    records = records_of(raw)
    del records[1][40]
    return joined(records)


def _trailer_count(raw: bytes) -> bytes:
    records = records_of(raw)
    put(records[-2], 2, "000009")
    return joined(records)


def _trailer_sum(raw: bytes) -> bytes:
    records = records_of(raw)
    put(records[-2], 8, "000000009999")
    return joined(records)


def _unknown_customer(raw: bytes) -> bytes:
    records = records_of(raw)
    put(records[2], 92, "00000000000099999999")
    return joined(records)


@pytest.mark.parametrize(
    ("damage", "mentions"),
    [
        (_short_record, "record 2, byte 120: the record is 119 bytes long, not 120"),
        (
            _trailer_count,
            "record 4, byte 2 (合計件数): the trailer says 9, the data records add up",
        ),
        (_trailer_sum, "record 4, byte 8 (合計金額): the trailer says 9,999"),
        (_unknown_customer, "record 3, byte 92 (顧客番号): unknown customer number"),
    ],
    ids=["wrong-record-length", "bad-trailer-count", "bad-trailer-sum", "unknown-customer"],
)
def test_a_malformed_result_file_is_refused_with_record_and_position_and_nothing_applied(
    cli: Cli, tmp_path: Path, july: Path, damage: Callable[[bytes], bytes], mentions: str
) -> None:
    bad = tmp_path / "bad.result"
    bad.write_bytes(damage(bank_result(july.read_bytes(), lambda _: "1")))

    error = cli.refused("debit", "import", str(bad))

    assert error.startswith(f"denwa: error: {bad}: ")
    assert mentions in error
    assert error.endswith("; nothing was applied")
    assert not DebitRequest.objects.exclude(result_code="").exists()
    assert DebitRun.objects.get().result_imported_at is None
    assert {state(n, "2003-07") for n in (ALICE, BOB)} == {DebitState.REQUESTED}


def test_a_result_file_already_applied_is_refused_and_changes_nothing(
    cli: Cli, tmp_path: Path, july: Path
) -> None:
    result = tmp_path / "res.dat"
    result.write_bytes(bank_result(july.read_bytes(), lambda _: "0"))
    cli.ok("debit", "import", str(result))
    imported_at = DebitRun.objects.get().result_imported_at
    result.write_bytes(bank_result(july.read_bytes(), lambda _: "1"))

    error = cli.refused("debit", "import", str(result))

    assert "record 2, byte 112 (振替結果コード): the result for" in error
    assert "is already applied" in error
    assert DebitRun.objects.get().result_imported_at == imported_at
    assert state(ALICE, "2003-07") is DebitState.PAID


def test_a_result_file_for_a_debit_never_exported_is_refused(
    cli: Cli, tmp_path: Path, july: Path
) -> None:
    records = records_of(bank_result(july.read_bytes(), lambda _: "0"))
    put(records[0], 55, "0101")
    (tmp_path / "res.dat").write_bytes(joined(records))

    error = cli.refused("debit", "import", str(tmp_path / "res.dat"))

    assert "record 1, byte 55 (引落日): no debit on 01-01 was exported" in error


# --- the stop list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "action", "contract_state"),
    [
        ("list", StopListEntry.Action.LISTED, "active"),
        ("stop", StopListEntry.Action.STOPPED, "stopped"),
    ],
)
def test_three_failed_debits_in_a_row_list_the_contract_or_stop_it(
    data: OperatorData,
    cli: Cli,
    tmp_path: Path,
    policy: str,
    action: str,
    contract_state: str,
) -> None:
    settings_dir = tmp_path / "data"
    settings_dir.mkdir()
    shipped = (Path(__file__).parents[2] / "src/denwa/data/defaults/collection.csv").read_text()
    (settings_dir / "collection.csv").write_text(
        shipped.replace("on_failures,list", f"on_failures,{policy}"), encoding="utf-8"
    )
    alice, bob = subscribe(data, ALICE), subscribe(data, BOB)
    for number in (ALICE, BOB):
        mandate(cli, number)
    close(data, "2003-07", "2003-08", "2003-09")
    outcomes = []
    for month in ("2003-07", "2003-08", "2003-09"):
        request = tmp_path / f"{month}.dat"
        cli.ok("--data", str(settings_dir), "debit", "export", month, "--out", str(request))
        result = tmp_path / f"{month}.result"
        result.write_bytes(
            bank_result(request.read_bytes(), lambda pk: "1" if pk == alice.pk else "0")
        )
        outcomes.append(
            json.loads(
                cli.ok("--data", str(settings_dir), "debit", "import", str(result), "--json")
            )
        )

    assert [(o["stop_list"], o["stopped"]) for o in outcomes[:2]] == [([], []), ([], [])]
    assert outcomes[2]["stop_list" if policy == "list" else "stopped"] == [ALICE]
    entry = StopListEntry.objects.get()
    assert (entry.contract, entry.failures, entry.last_code, entry.action) == (
        alice,
        3,
        "1",
        action,
    )
    assert Contract.objects.get(pk=alice.pk).state == contract_state
    assert Contract.objects.get(pk=bob.pk).state == "active"
    # The three unpaid months are all in the last request: 1,554 + 903 + 903.
    assert amounts_in((tmp_path / "2003-09.dat").read_bytes())[alice.pk] == 3360


# --- the console --------------------------------------------------------------------------------


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(
        User.objects.create_superuser("tanaka", "tanaka@example.jp", "not-a-real-password")
    )
    return client


def changelist(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.fixture
def debited(data: OperatorData) -> tuple[Contract, Contract]:
    """July 2003 debited: ALICE paid, BOB unpaid (資金不足) and on the stop list (threshold 1)."""
    alice, bob = subscribe(data, ALICE), subscribe(data, BOB)
    settings = replace(load_collection_settings(), failure_threshold=1)
    for number in (ALICE, BOB):
        save_mandate(
            number,
            settings,
            bank_code="0001",
            branch_code="001",
            account_type="1",
            account_number="1234567",
            holder_kana="ヤマダ タロウ",
        )
    close(data, "2003-07", "2003-08")
    exported = export_debits(Month(2003, 7), settings, "test")
    result = bank_result(exported.content, lambda pk: "1" if pk == bob.pk else "0")
    import_results(result, settings, "test", today=date(2003, 8, 28))
    return alice, bob


def test_every_collection_page_of_the_console_renders_in_both_languages(
    console: Client, debited: tuple[Contract, Contract]
) -> None:
    registered = set(admin.site._registry)
    assert set(apps.get_app_config("collection").get_models()) <= registered
    assert BankMandate in registered
    for model in [*apps.get_app_config("collection").get_models(), BankMandate]:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        row = model._default_manager.first()
        assert row is not None, model
        for language in ("ja", "en"):
            listing = console.get(reverse(f"{name}_changelist"), HTTP_ACCEPT_LANGUAGE=language)
            assert listing.status_code == 200, model
            detail = console.get(
                reverse(f"{name}_change", args=[row.pk]), HTTP_ACCEPT_LANGUAGE=language
            )
            assert detail.status_code == 200, model


@pytest.mark.parametrize(
    ("language", "alice", "bob"),
    [
        ("ja", "口座振替済（2003-08-27）", "振替不能：資金不足（2003-08-27）・次回に繰越"),
        ("en", "paid by direct debit on 2003-08-27", "unpaid: insufficient funds"),
    ],
)
def test_the_console_lists_each_statements_debit_status(
    console: Client, debited: tuple[Contract, Contract], language: str, alice: str, bob: str
) -> None:
    response = console.get(changelist(StatementDebit), HTTP_ACCEPT_LANGUAGE=language)

    rows = {s.contract.number + " " + s.month: s for s in response.context["cl"].result_list}
    admin_ = response.context["cl"].model_admin
    assert admin_.debit_status(rows[f"{ALICE} 2003-07"]) == alice
    assert admin_.debit_status(rows[f"{BOB} 2003-07"]).startswith(bob)
    never = {"ja": "未請求", "en": "not yet requested"}[language]
    assert admin_.debit_status(rows[f"{ALICE} 2003-08"]) == never


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("paid", [f"{ALICE} 2003-07"]),
        ("unpaid", [f"{BOB} 2003-07"]),
        ("not_requested", [f"{ALICE} 2003-08", f"{BOB} 2003-08"]),
        ("requested", []),
    ],
)
def test_statements_are_filtered_by_debit_status(
    console: Client, debited: tuple[Contract, Contract], state: str, expected: list[str]
) -> None:
    response = console.get(changelist(StatementDebit), {"debit": state})

    found = sorted(f"{s.contract.number} {s.month}" for s in response.context["cl"].result_list)
    assert found == expected


def mandate_form(contract: Contract, **changes: str) -> dict[str, str]:
    return {
        "contract": str(contract.pk),
        "bank_code": "0001",
        "bank_name": "",
        "branch_code": "001",
        "branch_name": "",
        "account_type": "1",
        "account_number": "12345",
        "holder_kana": "やまだ　たろう",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field", "mentions"),
    [
        ({"holder_kana": "山田 太郎"}, "holder_kana", "'山' (character 1 of '山田 太郎')"),
        ({"account_number": "12a"}, "account_number", "must be 1-7 digits"),
        ({"branch_code": "0012"}, "branch_code", "at most 3 characters"),
        ({"account_type": "4"}, "account_type", "4"),
    ],
    ids=["kanji-name", "letter-in-account", "long-branch-code", "account-type"],
)
def test_a_mandate_entered_in_the_console_is_refused_beside_the_field_at_fault(
    console: Client, data: OperatorData, changes: dict[str, str], field: str, mentions: str
) -> None:
    contract = subscribe(data, ALICE)

    response = console.post(
        reverse("admin:subscribers_bankmandate_add"),
        mandate_form(contract, **changes),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert mentions in " ".join(errors[field])
    assert not BankMandate.objects.exists()


def test_a_mandate_entered_in_the_console_is_saved_in_half_width_kana(
    console: Client, data: OperatorData
) -> None:
    contract = subscribe(data, ALICE)

    response = console.post(
        reverse("admin:subscribers_bankmandate_add"),
        mandate_form(contract, bank_name="ミズホ", branch_name="とうきょう"),
    )

    assert response.status_code == 302
    saved = BankMandate.objects.get()
    assert (saved.account_number, saved.holder_kana, saved.bank_name, saved.branch_name) == (
        "0012345",
        "ﾔﾏﾀﾞ ﾀﾛｳ",
        "ﾐｽﾞﾎ",
        "ﾄｳｷﾖｳ",
    )


def test_bank_and_branch_codes_are_checked_against_the_zengin_code_list(
    console: Client, data: OperatorData
) -> None:
    pytest.importorskip("zengin_code")
    contract = subscribe(data, ALICE)

    unknown = console.post(
        reverse("admin:subscribers_bankmandate_add"),
        mandate_form(contract, branch_code="999"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "no branch 999" in " ".join(unknown.context["adminform"].form.errors["branch_code"])

    console.post(reverse("admin:subscribers_bankmandate_add"), mandate_form(contract))
    saved = BankMandate.objects.get()
    assert (saved.bank_name, saved.branch_name) == ("ﾐｽﾞﾎ", "ﾄｳｷﾖｳ")


def test_the_stop_list_actions_stop_the_line_or_clear_the_entry_with_a_reason(
    console: Client, debited: tuple[Contract, Contract]
) -> None:
    _, bob = debited
    entry = StopListEntry.objects.get()
    assert (entry.contract, entry.action, entry.failures) == (bob, "listed", 1)

    def act(action: str, **fields: str) -> list[str]:
        response = console.post(
            changelist(StopListEntry),
            {"action": action, ACTION_CHECKBOX_NAME: [entry.pk], "apply": "1", **fields},
            follow=True,
            HTTP_ACCEPT_LANGUAGE="en",
        )
        return [str(m) for m in response.context["messages"]]

    refused = act("clear_entry", reason=" ")
    assert refused == [f"{entry}: not done — reason: say why the contract leaves the stop list"]
    act("stop_contract", on="2003-09-01", reason="3 debits failed")
    assert Contract.objects.get(pk=bob.pk).state == "stopped"
    assert StopListEntry.objects.get().action == "stopped"
    act("clear_entry", reason="paid at the counter")
    cleared = StopListEntry.objects.get()
    assert (cleared.cleared_by, cleared.clear_reason) == ("console:tanaka", "paid at the counter")
    again = act("clear_entry", reason="twice")
    assert again == [f"{entry}: not done — {BOB} is no longer on the stop list"]
