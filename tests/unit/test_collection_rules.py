"""Collection rules (SPEC §4): kana, bank days, result codes, amounts, mandates, settings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from denwa.core.collection.bankdays import debit_date, is_bank_business_day, next_business_day
from denwa.core.collection.config import (
    FILE_NAME,
    RecordSeparator,
    load_collection_settings,
    parse_collection_settings,
)
from denwa.core.collection.errors import InvalidField, UnconvertibleText
from denwa.core.collection.kana import to_bank_kana
from denwa.core.collection.mandate import Mandate, validate_mandate
from denwa.core.collection.plan import Charge, Due, NewCode, new_code, plan_debits, statements_of
from denwa.core.collection.results import (
    RESULT_CODES,
    FailurePolicy,
    consecutive_failures,
    debit_amount,
    reaches_threshold,
    result_code,
)
from denwa.core.collection.status import Attempt, DebitState, debit_status
from denwa.core.errors import InvalidInput, OperatorDataError
from denwa.core.timeutil import Month

pytestmark = pytest.mark.unit


# --- kana -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("ヤマダ タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("やまだ　たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("ｻﾄｳ ﾊﾅｺ", "ｻﾄｳ ﾊﾅｺ"),
        ("サトウ ショウコ", "ｻﾄｳ ｼﾖｳｺ"),
        ("ｷｬｯﾄ", "ｷﾔﾂﾄ"),
        ("ヴィクトリア", "ｳﾞｲｸﾄﾘｱ"),
        ("スーパー・マーケット", "ｽ-ﾊﾟ-.ﾏ-ｹﾂﾄ"),
        ("ｶ)ﾔﾏﾀﾞｼﾖｳﾃﾝ", "ｶ)ﾔﾏﾀﾞｼﾖｳﾃﾝ"),
        ("ＪＯＨＮ　ｓｍｉｔｈ", "JOHN SMITH"),
        ("  ヤマダ   タロウ ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("ヵヶ", "ｶｹ"),
    ],
    ids=[
        "katakana",
        "hiragana-full-width-space",
        "already-half-width",
        "small-kana-made-large",
        "half-width-small-kana",
        "vu",
        "long-vowel-and-middle-dot",
        "company-abbreviation",
        "latin-letters",
        "extra-spaces",
        "small-ka-ke",
    ],
)
def test_names_are_converted_to_the_banks_half_width_set(typed: str, written: str) -> None:
    assert to_bank_kana(typed, "holder_kana") == written


@pytest.mark.parametrize(
    ("typed", "char", "index"),
    [("山田 太郎", "山", 0), ("ヤマダ♪", "♪", 3), ("ヰセキ", "ヰ", 0), ("A&B", "&", 1)],
    ids=["kanji", "music-sign", "old-kana-wi", "ampersand"],
)
def test_a_name_that_cannot_be_converted_is_refused_naming_the_character(
    typed: str, char: str, index: int
) -> None:
    with pytest.raises(UnconvertibleText) as refused:
        to_bank_kana(typed, "holder_kana")
    assert (refused.value.field, refused.value.char, refused.value.index) == (
        "holder_kana",
        char,
        index,
    )
    assert refused.value.message.startswith("holder_kana: ")


def test_the_banks_symbols_are_the_operators_setting() -> None:
    assert to_bank_kana("ﾔﾏﾀﾞ,ﾀﾛｳ", "n", symbols=",") == "ﾔﾏﾀﾞ,ﾀﾛｳ"
    with pytest.raises(UnconvertibleText):
        to_bank_kana("ﾔﾏﾀﾞ,ﾀﾛｳ", "n")


# --- bank business days --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closed", "day", "debited"),
    [
        ("2026-04", 3, date(2026, 5, 7)),  # 5/3 Sun, 5/4-5/6 holidays (5/6 振替休日)
        ("2026-04", 29, date(2026, 5, 29)),  # a Friday: stays
        ("2026-03", 29, date(2026, 4, 30)),  # 4/29 昭和の日
        ("2026-11", 31, date(2027, 1, 4)),  # 12-31 to 01-03 closed, 1/4 Monday
        ("2026-12", 1, date(2027, 1, 4)),  # 1/1 holiday, then the closure and a weekend
        ("2026-11", 26, date(2026, 12, 28)),  # a Saturday moves to Monday
        ("2026-11", 27, date(2026, 12, 28)),  # a Sunday moves to Monday
        ("2027-01", 30, date(2027, 3, 1)),  # 30 in February is its last day, 2/28 a Sunday
        ("2026-08", 21, date(2026, 9, 24)),  # 9/21 敬老の日, 9/22 国民の休日, 9/23 秋分の日
        ("2003-08", 27, date(2003, 9, 29)),  # a Saturday in 2003
    ],
    ids=[
        "golden-week",
        "ordinary-friday",
        "showa-day",
        "new-year-closure",
        "new-years-day",
        "saturday",
        "sunday",
        "short-february",
        "silver-week",
        "saturday-2003",
    ],
)
def test_the_debit_day_moves_to_the_next_bank_business_day(
    closed: str, day: int, debited: date
) -> None:
    assert debit_date(Month.parse(closed), day) == debited


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (date(2026, 12, 30), True),
        (date(2026, 12, 31), False),
        (date(2027, 1, 3), False),
        (date(2027, 1, 11), False),  # 成人の日
        (date(2026, 12, 25), True),
    ],
)
def test_banks_close_on_holidays_and_from_12_31_to_01_03(day: date, open_: bool) -> None:
    assert is_bank_business_day(day) is open_
    assert (next_business_day(day) == day) is open_


def test_a_debit_day_outside_the_month_is_refused() -> None:
    with pytest.raises(InvalidInput, match="debit day"):
        debit_date(Month(2026, 11), 32)


# --- result codes and failures -------------------------------------------------------------------


def test_every_zengin_result_code_is_in_the_table() -> None:
    assert sorted(RESULT_CODES) == ["0", "1", "2", "3", "4", "8", "9"]
    assert [code for code, row in RESULT_CODES.items() if row.paid] == ["0"]


def test_an_unknown_result_code_is_refused() -> None:
    with pytest.raises(InvalidField, match="not a result code"):
        result_code("5")


@pytest.mark.parametrize(
    ("codes", "run"),
    [
        ([], 0),
        (["0"], 0),
        (["1"], 1),
        (["1", "2", "3"], 3),
        (["1", "0", "1", "9"], 2),
        (["1", "8", "1"], 2),  # stopped at our request: neither counts nor ends the run
        (["4", "4", "0"], 0),
    ],
)
def test_consecutive_failures_count_back_to_the_last_payment(codes: list[str], run: int) -> None:
    assert consecutive_failures(codes) == run


@pytest.mark.parametrize(
    ("codes", "acts"),
    [
        (["1", "1"], False),
        (["1", "1", "1"], True),
        (["1", "1", "1", "2"], True),
        (["1", "1", "1", "8"], False),
        (["1", "1", "1", "0"], False),
    ],
)
def test_the_threshold_acts_on_the_result_that_reaches_it(codes: list[str], acts: bool) -> None:
    assert reaches_threshold(codes, 3) is acts


def test_the_amount_is_the_statement_plus_what_is_carried_over() -> None:
    assert debit_amount(903, [1554, 903]) == 3360
    assert debit_amount(None, [903]) == 903
    assert debit_amount(-500, [300]) == -200


# --- planning a month's debits -------------------------------------------------------------------

ACCOUNT = Mandate("0001", "001", "1", "1234567", "ﾔﾏﾀﾞ ﾀﾛｳ")


def due(
    contract_id: int,
    total: int | None,
    carried: tuple[int, ...] = (),
    mandate: Mandate | None = ACCOUNT,
    last: Mandate | None = None,
) -> Due:
    return Due(
        contract_id=contract_id,
        label=f"0505550000{contract_id}",
        statement=Charge(100 + contract_id, "2026-11", total) if total is not None else None,
        carried=tuple(Charge(200 + i, "2026-10", amount) for i, amount in enumerate(carried)),
        mandate=mandate,
        last_requested=last,
    )


def test_planning_debits_adds_carried_amounts_and_skips_what_cannot_be_requested() -> None:
    planned, skipped = plan_debits(
        [
            due(3, 903, carried=(1554,)),
            due(1, 903),
            due(2, 0),  # nothing due
            due(4, -100, carried=(50,)),  # a credit larger than what is carried
            due(5, 903, mandate=None),
            due(6, None, carried=(903,)),  # terminated: only the carried amount
        ],
        digits=20,
    )
    assert [(p.contract_id, p.record.amount_yen) for p in planned] == [
        (1, 903),
        (3, 2457),
        (6, 903),
    ]
    assert planned[0].record.customer_number == "00000000000000000001"
    assert [s.message for s in skipped] == ["05055500005: no debit mandate; 903 yen not requested"]
    assert [(c, s.statement_id, carried) for c, s, carried in statements_of(planned)] == [
        (1, 101, False),
        (3, 103, False),
        (3, 200, True),
        (6, 200, True),
    ]


@pytest.mark.parametrize(
    ("last", "enabled", "code"),
    [
        (None, True, NewCode.FIRST),
        (ACCOUNT, True, NewCode.OTHER),
        (Mandate("0001", "001", "1", "7654321", "ﾔﾏﾀﾞ ﾀﾛｳ"), True, NewCode.CHANGED),
        (Mandate("0001", "001", "1", "1234567", "ﾔﾏﾀﾞ ﾊﾅｺ"), True, NewCode.OTHER),
        (None, False, NewCode.OTHER),
    ],
    ids=["first-debit", "same-account", "other-account", "only-the-name-changed", "not-used"],
)
def test_the_new_code_marks_a_first_debit_and_a_changed_account(
    last: Mandate | None, enabled: bool, code: NewCode
) -> None:
    assert new_code(ACCOUNT, last, enabled) is code


# --- mandates ------------------------------------------------------------------------------------


class Directory:
    source = "the test list"

    def bank_kana(self, bank_code: str) -> str | None:
        return {"0001": "ミズホ"}.get(bank_code)

    def branch_kana(self, bank_code: str, branch_code: str) -> str | None:
        return {("0001", "001"): "トウキヨウ"}.get((bank_code, branch_code))


GOOD = {
    "bank_code": "0001",
    "branch_code": "001",
    "account_type": "1",
    "account_number": "12345",
    "holder_kana": "やまだ たろう",
}


def test_a_mandate_is_normalised_and_takes_its_names_from_the_directory() -> None:
    mandate = validate_mandate(**GOOD, directory=Directory())
    assert mandate == Mandate("0001", "001", "1", "0012345", "ﾔﾏﾀﾞ ﾀﾛｳ", "ﾐｽﾞﾎ", "ﾄｳｷﾖｳ")
    assert validate_mandate(**GOOD).bank_name == ""


@pytest.mark.parametrize(
    ("change", "field", "mentions"),
    [
        ({"bank_code": "01"}, "bank_code", "4 digits"),
        ({"branch_code": "12a"}, "branch_code", "3 digits"),
        ({"account_type": "4"}, "account_type", "one of 1"),
        ({"account_number": "12345678"}, "account_number", "1-7 digits"),
        ({"holder_kana": " "}, "holder_kana", "required"),
        ({"holder_kana": "山田 太郎"}, "holder_kana", "'山'"),
        ({"holder_kana": "ア" * 31}, "holder_kana", "at most 30"),
        ({"bank_code": "0002"}, "bank_code", "no bank 0002 in the test list"),
        ({"branch_code": "999"}, "branch_code", "no branch 999"),
        ({"branch_name": "東京"}, "branch_name", "'東'"),
    ],
    ids=[
        "short-bank-code",
        "letter-in-branch",
        "account-type",
        "long-account-number",
        "no-holder",
        "kanji-holder",
        "holder-too-long",
        "unknown-bank",
        "unknown-branch",
        "kanji-branch-name",
    ],
)
def test_a_bad_mandate_is_refused_naming_the_field(
    change: dict[str, str], field: str, mentions: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        validate_mandate(**{**GOOD, **change}, directory=Directory())
    assert refused.value.field == field
    assert mentions in refused.value.problem


def test_full_width_digits_are_accepted_in_codes() -> None:
    assert validate_mandate(**{**GOOD, "bank_code": "０００１"}).bank_code == "0001"


# --- settings ------------------------------------------------------------------------------------

CREDITOR = """setting,value
creditor_code,1234567890
creditor_name,ケーシーティーネット
creditor_bank_code,0001
creditor_bank_name,みずほ
creditor_branch_code,001
creditor_branch_name,トウキョウ
creditor_account_type,1
creditor_account_number,7654321
"""


def test_settings_left_out_keep_their_defaults_and_names_are_converted() -> None:
    settings = parse_collection_settings("c.csv", CREDITOR)
    assert settings.creditor.name == "ｹ-ｼ-ﾃｲ-ﾈﾂﾄ"
    assert settings.creditor.branch_name == "ﾄｳｷﾖｳ"
    assert (settings.debit_day, settings.failure_threshold) == (27, 3)
    assert settings.on_failures is FailurePolicy.LIST
    assert settings.record_separator is RecordSeparator.CRLF


@pytest.mark.parametrize(
    ("extra", "line", "mentions"),
    [
        ("creditor_code,123\n", 2, "must be 10 digits"),
        ("debit_day,32\n", 10, "must be 1-31"),
        ("on_failures,terminate\n", 10, "must be one of list, stop"),
        ("colour,blue\n", 10, "unknown setting 'colour'"),
        ("creditor_name,山田商店\n", 2, "creditor_name: '山' (character 1"),
        ("debit_day,27\ndebit_day,28\n", 11, "already given at c.csv:10"),
        ("kana_symbols,ｱ\n", 10, "ASCII symbols only"),
    ],
    ids=[
        "short-creditor-code",
        "debit-day",
        "policy",
        "unknown",
        "kanji-name",
        "twice",
        "kana-as-symbol",
    ],
)
def test_a_bad_setting_names_the_file_and_line(extra: str, line: int, mentions: str) -> None:
    text = CREDITOR + extra
    if extra.startswith("creditor_"):
        key = extra.split(",")[0]
        text = "\n".join(row for row in CREDITOR.splitlines() if not row.startswith(key + ","))
        text = text.replace("setting,value\n", "setting,value\n" + extra)
    with pytest.raises(OperatorDataError) as refused:
        parse_collection_settings("c.csv", text)
    assert refused.value.message.startswith(f"c.csv:{line}: ")
    assert mentions in refused.value.message


def test_the_creditor_settings_are_required() -> None:
    text = "\n".join(row for row in CREDITOR.splitlines() if "account_number" not in row)
    with pytest.raises(OperatorDataError, match=r"missing setting.*creditor_account_number"):
        parse_collection_settings("c.csv", text)


def test_a_collection_csv_in_the_operators_directory_replaces_the_shipped_one(
    tmp_path: Path,
) -> None:
    (tmp_path / FILE_NAME).write_text(CREDITOR + "debit_day,5\n", encoding="utf-8")
    settings = load_collection_settings(tmp_path)
    assert (settings.debit_day, settings.creditor.bank_code) == (5, "0001")
    assert settings.source == str(tmp_path / FILE_NAME)
    assert len(settings.sha256) == 64
    assert load_collection_settings(tmp_path / "elsewhere").creditor.bank_code == "9999"


# --- statuses -----------------------------------------------------------------------------------

DEBITED = date(2026, 12, 28)


@pytest.mark.parametrize(
    ("total", "attempt", "state", "ja", "en"),
    [
        (903, None, DebitState.NOT_REQUESTED, "未請求", "not yet requested"),
        (0, None, DebitState.NOTHING_DUE, "請求額なし", "nothing to collect"),
        (
            903,
            Attempt(DEBITED, False, None),
            DebitState.REQUESTED,
            "口座振替予定（2026-12-28）",
            "to be debited on 2026-12-28",
        ),
        (
            903,
            Attempt(DEBITED, True, None),
            DebitState.CARRIED_OVER,
            "前回振替不能・繰越（2026-12-28 に再振替）",
            "unpaid, carried over: debited again on 2026-12-28",
        ),
        (
            903,
            Attempt(DEBITED, True, "0"),
            DebitState.PAID,
            "口座振替済（2026-12-28）",
            "paid by direct debit on 2026-12-28",
        ),
        (
            903,
            Attempt(DEBITED, False, "1"),
            DebitState.UNPAID,
            "振替不能：資金不足（2026-12-28）・次回に繰越",
            "unpaid: insufficient funds (debit of 2026-12-28, code 1);"
            " carried over to the next debit",
        ),
    ],
    ids=lambda v: v.value if isinstance(v, DebitState) else None,
)
def test_a_statements_debit_status_has_a_japanese_and_an_english_label(
    total: int, attempt: Attempt | None, state: DebitState, ja: str, en: str
) -> None:
    status = debit_status(total, attempt)
    assert (status.state, status.label_ja, status.label_en) == (state, ja, en)
    assert status.label("ja") == ja
    assert status.label("en-us") == en
