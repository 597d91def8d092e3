"""Whole Zengin files: the request file we send and the checks on the result file the bank returns.

A request file is header, one data record per debit, trailer and end record,
each 120 bytes and followed by the configured separator (CR LF by default),
optionally closed by an EOF byte (0x1A).  The result file is the same layout
with 振替結果コード filled in; it is read completely and checked — record
lengths, record order, every field's syntax, the trailer's counts and sums,
and every record against what was requested — before anything is applied.
Every refusal names the record (1-based, the header is 1) and the byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from denwa.core.collection.config import CollectionSettings, RecordSeparator
from denwa.core.collection.errors import InvalidField, ZenginFileError
from denwa.core.collection.layout import (
    DATA,
    END,
    HEADER,
    LAYOUTS,
    RECORD_LENGTH,
    TRAILER,
    RecordLayout,
    decode_record,
    encode_record,
)
from denwa.core.collection.mandate import Mandate
from denwa.core.collection.results import PAID, RESULT_CODES

EOF_MARKER = b"\x1a"

FOLLOWS: dict[str | None, frozenset[str]] = {
    None: frozenset({HEADER.kind}),
    HEADER.kind: frozenset({DATA.kind, TRAILER.kind}),
    DATA.kind: frozenset({DATA.kind, TRAILER.kind}),
    TRAILER.kind: frozenset({END.kind}),
    END.kind: frozenset(),
}
"""データ区分 of the previous record (None: the file's start) → the kinds that may come next."""


def customer_number(contract_id: int, digits: int) -> str:
    """顧客番号: the contract's id, zero-filled to ``digits`` (left-aligned in the 20-byte field).

    The id is unique and never changes (a 050 number can pass to another
    subscriber; the contract id cannot), so the bank's result finds its contract.
    """
    text = str(contract_id)
    if contract_id < 0 or len(text) > digits:
        raise InvalidField("顧客番号", f"contract id {contract_id} does not fit in {digits} digits")
    return text.rjust(digits, "0")


@dataclass(frozen=True)
class DebitRecord:
    """One data record: whose account, how much, and for which customer number."""

    customer_number: str
    mandate: Mandate
    amount_yen: int
    new_code: str = "0"


def request_file(
    settings: CollectionSettings, debit_date: date, records: Sequence[DebitRecord]
) -> bytes:
    """The 口座振替 request file for ``records`` (in the order given), debited on ``debit_date``.

    The same arguments give the same bytes: the file holds no creation time.
    """
    creditor = settings.creditor
    header_account = settings.header_account
    header = encode_record(
        HEADER,
        {
            "creditor_code": creditor.code,
            "creditor_name": creditor.name,
            "debit_date": f"{debit_date:%m%d}",
            "bank_code": creditor.bank_code,
            "bank_name": creditor.bank_name,
            "branch_code": creditor.branch_code,
            "branch_name": creditor.branch_name,
            "account_type": creditor.account_type if header_account else None,
            "account_number": creditor.account_number if header_account else None,
        },
    )
    data = [
        encode_record(
            DATA,
            {
                "bank_code": record.mandate.bank_code,
                "bank_name": record.mandate.bank_name,
                "branch_code": record.mandate.branch_code,
                "branch_name": record.mandate.branch_name,
                "account_type": record.mandate.account_type,
                "account_number": record.mandate.account_number,
                "holder": record.mandate.holder_kana,
                "amount": record.amount_yen,
                "new_code": record.new_code,
                "customer_number": record.customer_number,
                "result_code": PAID,  # 0 in a request
            },
        )
        for record in records
    ]
    trailer = encode_record(
        TRAILER,
        {
            "count": len(records),
            "amount": sum(record.amount_yen for record in records),
            "paid_count": 0,
            "paid_amount": 0,
            "unpaid_count": 0,
            "unpaid_amount": 0,
        },
    )
    separator = settings.record_separator.bytes
    body = b"".join(
        record + separator for record in [header, *data, trailer, encode_record(END, {})]
    )
    return body + (EOF_MARKER if settings.eof_marker else b"")


@dataclass(frozen=True)
class ResultRecord:
    """One data record of the bank's result file, where it is, and what it says."""

    record: int
    offset: int
    customer_number: str
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    amount_yen: int
    result_code: str


@dataclass(frozen=True)
class ResultFile:
    """A result file that passed every check of its own (not yet matched to the requests)."""

    creditor_code: str
    debit_mmdd: str
    records: tuple[ResultRecord, ...]
    trailer_record: int
    trailer_offset: int


def split_records(raw: bytes, separator: RecordSeparator) -> list[tuple[int, bytes]]:
    """The file's records with their offsets; a record of the wrong length is refused."""
    if raw.endswith(EOF_MARKER):
        raw = raw[: -len(EOF_MARKER)]
    if not raw:
        raise ZenginFileError(1, 1, "the file is empty", offset=0)
    records: list[tuple[int, bytes]] = []
    if separator is RecordSeparator.NONE:
        pieces = [raw[start : start + RECORD_LENGTH] for start in range(0, len(raw), RECORD_LENGTH)]
        step = RECORD_LENGTH
    else:
        sep = separator.bytes
        pieces = raw.split(sep)
        if pieces[-1] == b"":  # the last record's separator ends the file
            pieces.pop()
        step = RECORD_LENGTH + len(sep)
    offset = 0
    for number, piece in enumerate(pieces, start=1):
        if len(piece) != RECORD_LENGTH:
            raise ZenginFileError(
                number,
                min(len(piece), RECORD_LENGTH) + 1,
                f"the record is {len(piece)} bytes long, not {RECORD_LENGTH}",
                offset=offset + min(len(piece), RECORD_LENGTH),
            )
        records.append((offset, piece))
        offset += step
    return records


def read_result_file(raw: bytes, separator: RecordSeparator) -> ResultFile:
    """Parse and check a result file on its own: layout, record order, codes, trailer totals."""
    header: dict[str, str | None] = {}
    data: list[ResultRecord] = []
    trailer: dict[str, str | None] = {}
    trailer_at = (0, 0)
    previous: str | None = None
    records = split_records(raw, separator)
    for number, (offset, piece) in enumerate(records, start=1):
        kind = chr(piece[0]) if piece[0] < 0x80 else "?"
        if kind not in FOLLOWS[previous]:
            expected = " or ".join(LAYOUTS[k].name for k in sorted(FOLLOWS[previous])) or "nothing"
            found = LAYOUTS[kind].name if kind in LAYOUTS else f"データ区分 {kind!r}"
            raise ZenginFileError(
                number, 1, f"{found} where {expected} belongs", offset=offset, field="データ区分"
            )
        layout = LAYOUTS[kind]
        values = decode_record(layout, piece, number, offset)
        if layout is HEADER:
            header = values
        elif layout is DATA:
            data.append(_result_record(values, number, offset))
        elif layout is TRAILER:
            trailer, trailer_at = values, (number, offset)
        previous = kind
    if previous != END.kind:
        last = len(records)
        raise ZenginFileError(
            last, 1, "the file ends before its end record (データ区分 9)", offset=records[-1][0]
        )
    _check_header(header)
    _check_trailer(trailer, data, *trailer_at)
    return ResultFile(
        creditor_code=str(header["creditor_code"]),
        debit_mmdd=str(header["debit_date"]),
        records=tuple(data),
        trailer_record=trailer_at[0],
        trailer_offset=trailer_at[1],
    )


def _required(
    layout: RecordLayout, values: dict[str, str | None], key: str, record: int, offset: int
) -> str:
    value = values[key]
    if value is None:
        field = layout.field(key)
        raise ZenginFileError(
            record, field.start, "blank", offset=offset + field.start - 1, field=field.name
        )
    return value


def _result_record(values: dict[str, str | None], record: int, offset: int) -> ResultRecord:
    def required(key: str) -> str:
        return _required(DATA, values, key, record, offset)

    code = required("result_code")
    if code not in RESULT_CODES:
        field = DATA.field("result_code")
        raise ZenginFileError(
            record,
            field.start,
            f"{code!r} is not a result code ({', '.join(RESULT_CODES)})",
            offset=offset + field.start - 1,
            field=field.name,
        )
    return ResultRecord(
        record=record,
        offset=offset,
        customer_number=str(values["customer_number"] or ""),
        bank_code=required("bank_code"),
        branch_code=required("branch_code"),
        account_type=required("account_type"),
        account_number=required("account_number"),
        amount_yen=int(required("amount")),
        result_code=code,
    )


def _check_header(header: dict[str, str | None]) -> None:
    for key in ("creditor_code", "debit_date"):
        _required(HEADER, header, key, 1, 0)


def _check_trailer(
    trailer: dict[str, str | None], data: list[ResultRecord], record: int, offset: int
) -> None:
    paid = [r for r in data if r.result_code == PAID]
    unpaid = [r for r in data if r.result_code != PAID]
    expected = {
        "count": len(data),
        "amount": sum(r.amount_yen for r in data),
        "paid_count": len(paid),
        "paid_amount": sum(r.amount_yen for r in paid),
        "unpaid_count": len(unpaid),
        "unpaid_amount": sum(r.amount_yen for r in unpaid),
    }
    for key, value in expected.items():
        given = int(_required(TRAILER, trailer, key, record, offset))
        if given != value:
            field = TRAILER.field(key)
            raise ZenginFileError(
                record,
                field.start,
                f"the trailer says {given:,}, the data records add up to {value:,}",
                offset=offset + field.start - 1,
                field=field.name,
            )


@dataclass(frozen=True)
class Requested:
    """A data record we sent, as the result file must repeat it."""

    customer_number: str
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    amount_yen: int
    applied: bool = False


ECHOED = ("bank_code", "branch_code", "account_type", "account_number")
"""Fields of a result record that must be as requested (the amount is checked as a number)."""


def match_results(
    result: ResultFile, requested: Mapping[str, Requested]
) -> list[tuple[Requested, ResultRecord]]:
    """Pair every result record with its request, or refuse the whole file.

    Refused: a customer number that was not requested or comes twice, a record
    whose account or amount differs from the request, a request whose result
    is already applied, and a request the file has no record for.
    """
    seen: dict[str, int] = {}
    pairs = []
    for record in result.records:

        def refuse(key: str, problem: str, record: ResultRecord = record) -> ZenginFileError:
            field = DATA.field(key)
            return ZenginFileError(
                record.record,
                field.start,
                problem,
                offset=record.offset + field.start - 1,
                field=field.name,
            )

        number = record.customer_number
        request = requested.get(number)
        if request is None:
            raise refuse("customer_number", f"unknown customer number {number!r}")
        if number in seen:
            raise refuse("customer_number", f"{number!r} is already in record {seen[number]}")
        seen[number] = record.record
        for key in ECHOED:
            if getattr(record, key) != getattr(request, key):
                raise refuse(
                    key, f"{getattr(record, key)!r}, but {getattr(request, key)!r} was requested"
                )
        if record.amount_yen != request.amount_yen:
            raise refuse(
                "amount", f"{record.amount_yen:,} yen, but {request.amount_yen:,} was requested"
            )
        if request.applied:
            raise refuse("result_code", f"the result for {number!r} is already applied")
        pairs.append((request, record))
    missing = sorted(set(requested) - set(seen))
    if missing:
        count = TRAILER.field("count")
        raise ZenginFileError(
            result.trailer_record,
            count.start,
            f"no result for {len(missing)} requested debit(s), e.g. customer number {missing[0]!r}",
            offset=result.trailer_offset + count.start - 1,
            field=count.name,
        )
    return pairs
