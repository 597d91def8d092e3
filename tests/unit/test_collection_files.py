"""Zengin 口座振替 files (SPEC §4): the request file byte for byte, and every refused result file.

The golden file ``tests/golden/collection/request_3_debits.dat`` was assembled
by hand, field by field, from the record layout in ``shared/notes/zengin-91.md``
(Shift_JIS single-byte characters, CR LF after each 120-byte record).  The
bank's result files are made from it here by writing bytes at the layout's
positions, not by the code under test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from denwa.core.collection.config import (
    CollectionSettings,
    Creditor,
    RecordSeparator,
    load_collection_settings,
)
from denwa.core.collection.errors import InvalidField, ZenginFileError
from denwa.core.collection.files import (
    DebitRecord,
    Requested,
    customer_number,
    match_results,
    read_result_file,
    request_file,
)
from denwa.core.collection.layout import DATA, END, HEADER, LAYOUTS, TRAILER, encode_record
from denwa.core.collection.mandate import Mandate
from tests import zengin_bank as bank
from tests.zengin_bank import CRLF, joined, put, records_of

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).parent.parent / "golden" / "collection"

SETTINGS = CollectionSettings(
    Creditor(
        code="1234567890",
        name="ｹ-ｼ-ﾃｲ-ﾈﾂﾄ",
        bank_code="9999",
        bank_name="ｻﾝﾌﾟﾙｷﾞﾝｺｳ",
        branch_code="001",
        branch_name="ﾎﾝﾃﾝ",
        account_type="1",
        account_number="1234567",
    )
)
RECORDS = [
    DebitRecord(
        "00000000000000000001",
        Mandate("0001", "001", "1", "1234567", "ﾔﾏﾀﾞ ﾀﾛｳ", "ﾐｽﾞﾎ", "ﾄｳｷﾖｳ"),
        903,
        "1",
    ),
    DebitRecord(
        "00000000000000000002",
        Mandate("0005", "123", "2", "0012345", "ｻﾄｳ ﾊﾅｺ", "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ", ""),
        1554,
        "0",
    ),
    DebitRecord(
        "00000000000000000003",
        Mandate("9900", "019", "1", "7654321", "ｽｽﾞｷ ｲﾁﾛｳ", "ﾕｳﾁﾖ", "ｾﾞﾛｲﾁｷﾕｳ"),
        12345,
        "2",
    ),
]
DEBIT_DATE = date(2026, 12, 28)


def golden() -> bytes:
    return (GOLDEN / "request_3_debits.dat").read_bytes()


def bank_result(raw: bytes, codes: list[str]) -> bytes:
    """The bank's answer with ``codes`` for customer numbers 1, 2, 3."""
    return bank.bank_result(raw, lambda number: codes[number - 1])


def requested(*, applied: bool = False) -> dict[str, Requested]:
    return {
        r.customer_number: Requested(
            r.customer_number,
            r.mandate.bank_code,
            r.mandate.branch_code,
            r.mandate.account_type,
            r.mandate.account_number,
            r.amount_yen,
            applied,
        )
        for r in RECORDS
    }


# --- the layout -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "key", "start", "width"),
    [
        (HEADER, "creditor_code", 5, 10),
        (HEADER, "creditor_name", 15, 40),
        (HEADER, "debit_date", 55, 4),
        (HEADER, "account_number", 97, 7),
        (DATA, "bank_code", 2, 4),
        (DATA, "account_type", 43, 1),
        (DATA, "holder", 51, 30),
        (DATA, "amount", 81, 10),
        (DATA, "new_code", 91, 1),
        (DATA, "customer_number", 92, 20),
        (DATA, "result_code", 112, 1),
        (TRAILER, "amount", 8, 12),
        (TRAILER, "unpaid_amount", 44, 12),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_fields_sit_where_the_zengin_layout_puts_them(
    layout: object, key: str, start: int, width: int
) -> None:
    field = LAYOUTS[getattr(layout, "kind")].field(key)  # noqa: B009
    assert (field.start, field.width) == (start, width)


def test_numbers_are_zero_filled_right_and_text_space_filled_left() -> None:
    record = encode_record(TRAILER, {"count": 7, "amount": "1554"})
    assert record[:19] == b"8000007000000001554"
    assert record[19:] == b" " * 101  # nothing given: blank

    data = encode_record(DATA, {"holder": "ﾔﾏﾀﾞ", "amount": 5})
    assert data[50:80] == "ﾔﾏﾀﾞ".encode("cp932") + b" " * 26
    assert data[80:90] == b"0000000005"


@pytest.mark.parametrize(
    ("values", "mentions"),
    [
        ({"amount": 12345678901}, "does not fit in 10 digits"),
        ({"amount": -5}, "not a number"),
        ({"holder": "山田"}, "not a half-width character"),
        ({"holder": "ﾔ" * 31}, "longer than 30"),
    ],
    ids=["amount-too-wide", "negative-amount", "kanji", "name-too-long"],
)
def test_a_value_that_does_not_fit_its_field_is_refused_naming_the_field(
    values: dict[str, object], mentions: str
) -> None:
    with pytest.raises(InvalidField, match=mentions) as refused:
        encode_record(DATA, values)  # type: ignore[arg-type]
    assert refused.value.field.startswith("data ")


# --- the request file ---------------------------------------------------------------------------


def test_the_request_file_is_byte_for_byte_the_hand_written_golden_file() -> None:
    assert request_file(SETTINGS, DEBIT_DATE, RECORDS) == golden()


def test_the_same_debits_give_the_same_file_every_time() -> None:
    assert request_file(SETTINGS, DEBIT_DATE, RECORDS) == request_file(
        SETTINGS, DEBIT_DATE, list(RECORDS)
    )


def test_the_shipped_sample_settings_are_the_golden_files_creditor() -> None:
    shipped = load_collection_settings()
    assert shipped.creditor == SETTINGS.creditor
    assert request_file(shipped, DEBIT_DATE, RECORDS) == golden()


def test_every_record_is_120_single_byte_characters_followed_by_crlf() -> None:
    raw = request_file(SETTINGS, DEBIT_DATE, RECORDS)
    assert len(raw) == 6 * 122
    assert all(raw[i * 122 + 120 : i * 122 + 122] == CRLF for i in range(6))
    assert [chr(raw[i * 122]) for i in range(6)] == ["1", "2", "2", "2", "8", "9"]


@pytest.mark.parametrize(
    ("changes", "ending", "size"),
    [
        ({"record_separator": RecordSeparator.NONE}, b" ", 6 * 120),
        ({"eof_marker": True}, CRLF + b"\x1a", 6 * 122 + 1),
    ],
    ids=["no-separator", "eof-marker"],
)
def test_separator_and_eof_marker_follow_the_settings(
    changes: dict[str, object], ending: bytes, size: int
) -> None:
    raw = request_file(replace(SETTINGS, **changes), DEBIT_DATE, RECORDS)  # type: ignore[arg-type]
    assert len(raw) == size
    assert raw.endswith(ending)


def test_without_header_account_bytes_96_to_120_of_the_header_are_blank() -> None:
    raw = request_file(replace(SETTINGS, header_account=False), DEBIT_DATE, RECORDS)
    assert raw[95:120] == b" " * 25
    assert raw[122:] == golden()[122:]


def test_an_empty_month_is_header_trailer_and_end() -> None:
    raw = request_file(SETTINGS, DEBIT_DATE, [])
    assert [raw[i * 122 : i * 122 + 1] for i in range(3)] == [b"1", b"8", b"9"]
    assert raw[122:141] == b"8" + b"0" * 18


@pytest.mark.parametrize(
    ("contract_id", "digits", "expected"),
    [(42, 20, "00000000000000000042"), (42, 12, "000000000042"), (1, 1, "1")],
)
def test_the_customer_number_is_the_contract_id_zero_filled(
    contract_id: int, digits: int, expected: str
) -> None:
    assert customer_number(contract_id, digits) == expected


def test_a_contract_id_wider_than_the_customer_number_is_refused() -> None:
    with pytest.raises(InvalidField, match="does not fit"):
        customer_number(1000, 3)


# --- the result file ---------------------------------------------------------------------------

ALL_CODES = ["0", "1", "9"]


def test_a_good_result_file_is_read_and_matched_record_by_record() -> None:
    result = read_result_file(bank_result(golden(), ALL_CODES), RecordSeparator.CRLF)
    assert (result.creditor_code, result.debit_mmdd) == ("1234567890", "1228")
    pairs = match_results(result, requested())
    assert [(req.customer_number[-1], rec.result_code, rec.record) for req, rec in pairs] == [
        ("1", "0", 2),
        ("2", "1", 3),
        ("3", "9", 4),
    ]


def test_an_eof_marker_after_the_end_record_is_accepted() -> None:
    result = read_result_file(bank_result(golden(), ALL_CODES) + b"\x1a", RecordSeparator.CRLF)
    assert len(result.records) == 3


def test_a_missing_last_crlf_is_accepted() -> None:
    result = read_result_file(bank_result(golden(), ALL_CODES)[:-2], RecordSeparator.CRLF)
    assert len(result.records) == 3


def _shorten_record_3(records: list[bytearray]) -> None:
    del records[2][50]


def _lengthen_the_trailer(records: list[bytearray]) -> None:
    records[4] += b" "


def _trailer_count(records: list[bytearray]) -> None:
    put(records[4], 2, "000004")


def _trailer_sum(records: list[bytearray]) -> None:
    put(records[4], 8, "000000014803")


def _trailer_paid_sum(records: list[bytearray]) -> None:
    put(records[4], 26, "000000000904")


def _unknown_result_code(records: list[bytearray]) -> None:
    put(records[2], 112, "5")


def _letter_in_amount(records: list[bytearray]) -> None:
    put(records[3], 85, "A")


def _no_end_record(records: list[bytearray]) -> None:
    records.pop()


def _data_after_trailer(records: list[bytearray]) -> None:
    records.insert(5, records[1])


def _no_header(records: list[bytearray]) -> None:
    records.pop(0)


def _wrong_type_code(records: list[bytearray]) -> None:
    put(records[0], 2, "21")


def _kanji_in_name(records: list[bytearray]) -> None:
    records[1][50:52] = "山".encode("cp932")


@pytest.mark.parametrize(
    ("damage", "record", "position", "mentions"),
    [
        (_shorten_record_3, 3, 120, "119 bytes long, not 120"),
        (_lengthen_the_trailer, 5, 121, "121 bytes long"),
        (_trailer_count, 5, 2, "合計件数"),
        (_trailer_sum, 5, 8, "合計金額"),
        (_trailer_paid_sum, 5, 26, "振替済金額"),
        (_unknown_result_code, 3, 112, "not a result code"),
        (_letter_in_amount, 4, 85, "where a digit belongs"),
        (_no_end_record, 5, 1, "before its end record"),
        (_data_after_trailer, 6, 1, "data where end belongs"),
        (_no_header, 1, 1, "data where header belongs"),
        (_wrong_type_code, 1, 2, "種別コード"),
        (_kanji_in_name, 2, 51, "not a single-byte"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_a_malformed_result_file_is_refused_with_record_and_position(
    damage: object, record: int, position: int, mentions: str
) -> None:
    records = records_of(bank_result(golden(), ALL_CODES))
    damage(records)  # type: ignore[operator]
    with pytest.raises(ZenginFileError) as refused:
        read_result_file(joined(records), RecordSeparator.CRLF)
    error = refused.value
    assert (error.record, error.position) == (record, position), error.message
    assert mentions in error.message
    assert error.message.startswith(f"record {record}, byte {position}")


def test_a_file_not_a_multiple_of_120_bytes_without_separators_is_refused() -> None:
    raw = b"".join(records_of(bank_result(golden(), ALL_CODES)))[:-7]
    with pytest.raises(ZenginFileError, match="113 bytes long") as refused:
        read_result_file(raw, RecordSeparator.NONE)
    assert refused.value.record == 6


def test_an_empty_result_file_is_refused() -> None:
    with pytest.raises(ZenginFileError, match="empty"):
        read_result_file(b"", RecordSeparator.CRLF)


@pytest.mark.parametrize(
    ("requests", "record", "position", "mentions"),
    [
        (
            lambda r: {k: v for k, v in r.items() if not k.endswith("2")},
            3,
            92,
            "unknown customer number '00000000000000000002'",
        ),
        (
            lambda r: {k: replace(v, applied=True) for k, v in r.items()},
            2,
            112,
            "already applied",
        ),
        (
            lambda r: {k: replace(v, amount_yen=v.amount_yen + 1) for k, v in r.items()},
            2,
            81,
            "903 yen, but 904 was requested",
        ),
        (
            lambda r: {k: replace(v, account_number="7777777") for k, v in r.items()},
            2,
            44,
            "口座番号",
        ),
        (
            lambda r: {**r, "00000000000000000099": replace(r["00000000000000000001"])},
            5,
            2,
            "no result for 1 requested debit",
        ),
    ],
    ids=["unknown-customer", "already-applied", "other-amount", "other-account", "missing"],
)
def test_a_result_that_does_not_match_the_request_is_refused_with_record_and_position(
    requests: object, record: int, position: int, mentions: str
) -> None:
    result = read_result_file(bank_result(golden(), ALL_CODES), RecordSeparator.CRLF)
    with pytest.raises(ZenginFileError, match=mentions) as refused:
        match_results(result, requests(requested()))  # type: ignore[operator]
    assert (refused.value.record, refused.value.position) == (record, position)


def test_a_customer_number_twice_in_one_file_is_refused() -> None:
    records = records_of(bank_result(golden(), ["0", "0", "0"]))
    records[2][91:111] = records[1][91:111]
    put(records[2], 81, "0000000903")
    put(records[2], 2, "0001")
    records[2][5:20] = records[1][5:20]
    records[2][20:50] = records[1][20:50]
    put(records[4], 8, "000000014151")
    put(records[4], 26, "000000014151")
    result = read_result_file(joined(records), RecordSeparator.CRLF)
    with pytest.raises(ZenginFileError, match="already in record 2") as refused:
        match_results(result, requested())
    assert (refused.value.record, refused.value.position) == (3, 92)


def test_the_end_record_is_a_nine_and_spaces() -> None:
    assert encode_record(END, {}) == b"9" + b" " * 119
