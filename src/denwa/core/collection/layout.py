"""The Zengin 口座振替 record layout (種別コード 91, コード区分 0) as tables of fields.

Every record is 120 bytes: header (データ区分 1), data (2) per debit, trailer (8),
end (9).  N fields are numbers, right-aligned and zero-filled; C fields are
text, left-aligned and space-filled; every byte is a single-byte character of
JIS X 0201 (the single-byte range of Shift_JIS).  The layout below is the one
in ``shared/notes/zengin-91.md``; positions are 1-based bytes as the banks'
specifications print them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from denwa.core.collection.errors import InvalidField, ZenginFileError

RECORD_LENGTH = 120
ENCODING = "cp932"  # single-byte characters only: ASCII and half-width katakana


class Form(StrEnum):
    """How a field is written."""

    NUMBER = "N"  # right-aligned, zero-filled digits
    TEXT = "C"  # left-aligned, space-filled characters


@dataclass(frozen=True)
class Field:
    """One field of a record: where it is, how wide, how written, and a fixed value if any."""

    key: str
    name: str
    start: int
    width: int
    form: Form
    fixed: str | None = None

    @property
    def end(self) -> int:
        """The field's last byte (1-based, inclusive)."""
        return self.start + self.width - 1

    @property
    def slice(self) -> slice:
        """The field's bytes in a record."""
        return slice(self.start - 1, self.end)


@dataclass(frozen=True)
class RecordLayout:
    """The fields of one kind of record, in order, covering bytes 1-120."""

    kind: str
    name: str
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        position = 1
        for field in self.fields:
            if field.start != position:
                raise ValueError(
                    f"{self.name}: {field.name} starts at {field.start}, not {position}"
                )
            position = field.end + 1
        if position != RECORD_LENGTH + 1:
            raise ValueError(f"{self.name}: fields cover {position - 1} bytes, not {RECORD_LENGTH}")

    def field(self, key: str) -> Field:
        """The field called ``key``."""
        for field in self.fields:
            if field.key == key:
                return field
        raise KeyError(key)


N, C = Form.NUMBER, Form.TEXT

HEADER = RecordLayout(
    "1",
    "header",
    (
        Field("kind", "データ区分", 1, 1, N, fixed="1"),
        Field("type_code", "種別コード", 2, 2, N, fixed="91"),
        Field("code_set", "コード区分", 4, 1, N, fixed="0"),
        Field("creditor_code", "委託者コード", 5, 10, N),
        Field("creditor_name", "委託者名", 15, 40, C),
        Field("debit_date", "引落日", 55, 4, N),
        Field("bank_code", "取引銀行番号", 59, 4, N),
        Field("bank_name", "取引銀行名", 63, 15, C),
        Field("branch_code", "取引支店番号", 78, 3, N),
        Field("branch_name", "取引支店名", 81, 15, C),
        Field("account_type", "預金種目", 96, 1, N),
        Field("account_number", "口座番号", 97, 7, N),
        Field("dummy", "ダミー", 104, 17, C),
    ),
)

DATA = RecordLayout(
    "2",
    "data",
    (
        Field("kind", "データ区分", 1, 1, N, fixed="2"),
        Field("bank_code", "引落銀行番号", 2, 4, N),
        Field("bank_name", "引落銀行名", 6, 15, C),
        Field("branch_code", "引落支店番号", 21, 3, N),
        Field("branch_name", "引落支店名", 24, 15, C),
        Field("dummy1", "ダミー", 39, 4, C),
        Field("account_type", "預金種目", 43, 1, N),
        Field("account_number", "口座番号", 44, 7, N),
        Field("holder", "預金者名", 51, 30, C),
        Field("amount", "引落金額", 81, 10, N),
        Field("new_code", "新規コード", 91, 1, N),
        Field("customer_number", "顧客番号", 92, 20, C),
        Field("result_code", "振替結果コード", 112, 1, N),
        Field("dummy2", "ダミー", 113, 8, C),
    ),
)

TRAILER = RecordLayout(
    "8",
    "trailer",
    (
        Field("kind", "データ区分", 1, 1, N, fixed="8"),
        Field("count", "合計件数", 2, 6, N),
        Field("amount", "合計金額", 8, 12, N),
        Field("paid_count", "振替済件数", 20, 6, N),
        Field("paid_amount", "振替済金額", 26, 12, N),
        Field("unpaid_count", "振替不能件数", 38, 6, N),
        Field("unpaid_amount", "振替不能金額", 44, 12, N),
        Field("dummy", "ダミー", 56, 65, C),
    ),
)

END = RecordLayout(
    "9",
    "end",
    (
        Field("kind", "データ区分", 1, 1, N, fixed="9"),
        Field("dummy", "ダミー", 2, 119, C),
    ),
)

LAYOUTS = {layout.kind: layout for layout in (HEADER, DATA, TRAILER, END)}
"""データ区分 → the layout of that record."""

Value = str | int | None
"""A field's value: digits or an int for N fields, text for C fields, None for blank."""


def encode_record(layout: RecordLayout, values: Mapping[str, Value]) -> bytes:
    """One 120-byte record from ``values`` (fixed fields fill themselves; absent = blank).

    Raises ``InvalidField`` naming the record and field when a value does not fit.
    """
    out = bytearray()
    for field in layout.fields:
        value = field.fixed if field.fixed is not None else values.get(field.key)
        out += _encode_field(layout, field, value)
    return bytes(out)


def _encode_field(layout: RecordLayout, field: Field, value: Value) -> bytes:
    name = f"{layout.name} {field.name}"
    if value is None:
        return b" " * field.width
    if field.form is Form.NUMBER:
        text = str(value)
        if not (text.isascii() and text.isdigit()):
            raise InvalidField(name, f"{value!r} is not a number ≥ 0")
        if len(text) > field.width:
            raise InvalidField(name, f"{value} does not fit in {field.width} digits")
        return text.rjust(field.width, "0").encode("ascii")
    text = str(value)
    for index, char in enumerate(text):
        if not is_single_byte(char):
            raise InvalidField(
                name, f"{char!r} (character {index + 1}) is not a half-width character"
            )
    if len(text) > field.width:
        raise InvalidField(name, f"{text!r} is longer than {field.width} characters")
    return text.ljust(field.width).encode(ENCODING)


def is_single_byte(char: str) -> bool:
    """Whether ``char`` is a JIS X 0201 character: printable ASCII or half-width katakana."""
    return " " <= char <= "~" or "\uff61" <= char <= "\uff9f"


def decode_record(
    layout: RecordLayout, raw: bytes, record: int, offset: int
) -> dict[str, str | None]:
    """The fields of one 120-byte record: N fields as digit strings (None when blank),
    C fields as text without trailing spaces.

    ``record`` and ``offset`` (the record's first byte in the file) go into the
    ``ZenginFileError`` raised for a byte that is not a digit or not a
    single-byte character, or a fixed field with another value.
    """
    values: dict[str, str | None] = {}
    for field in layout.fields:
        chunk = raw[field.slice]
        if field.form is Form.NUMBER:
            if chunk.strip(b" ") == b"":
                values[field.key] = None
                continue
            for index, byte in enumerate(chunk):
                if not 0x30 <= byte <= 0x39:
                    position = field.start + index
                    raise ZenginFileError(
                        record,
                        position,
                        f"{bytes([byte])!r} where a digit belongs",
                        offset=offset + position - 1,
                        field=field.name,
                    )
            values[field.key] = chunk.decode("ascii")
        else:
            for index, byte in enumerate(chunk):
                if not (0x20 <= byte <= 0x7E or 0xA1 <= byte <= 0xDF):
                    position = field.start + index
                    raise ZenginFileError(
                        record,
                        position,
                        f"byte 0x{byte:02X} is not a single-byte (JIS X 0201) character",
                        offset=offset + position - 1,
                        field=field.name,
                    )
            values[field.key] = chunk.decode(ENCODING).rstrip(" ")
        if field.fixed is not None and values[field.key] != field.fixed:
            raise ZenginFileError(
                record,
                field.start,
                f"{values[field.key]!r} where {field.fixed!r} belongs",
                offset=offset + field.start - 1,
                field=field.name,
            )
    return values
