"""The operator's collection settings: ``collection.csv`` (setting,value).

The creditor's facts come from the operator's 口座振替 contract with its bank
(委託者コード, name, the bank and account the money goes to) and must be in the
file; the rules (debit day, failure threshold, what banks differ on) keep the
values below when left out.  Like every operator file, a ``collection.csv``
in the operator's directory replaces the shipped one (marked SAMPLE DATA),
and an error names the file, the line and the problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from denwa.core.collection.errors import InvalidField
from denwa.core.collection.kana import DEFAULT_SYMBOLS, allowed_characters, fit, to_bank_kana
from denwa.core.collection.results import FailurePolicy
from denwa.core.errors import OperatorDataError
from denwa.core.operator_data.loader import default_data_dir
from denwa.core.operator_data.table import Row, read_rows

FILE_NAME = "collection.csv"
COLUMNS = ("setting", "value")

ACCOUNT_TYPES = {"1": "普通", "2": "当座", "9": "その他"}
"""預金種目 the layout allows (some banks also take 3 納税準備預金 and 4 貯蓄預金; we do not)."""


class RecordSeparator(StrEnum):
    """What follows each 120-byte record."""

    CRLF = "crlf"
    NONE = "none"

    @property
    def bytes(self) -> bytes:
        """The separator's bytes."""
        return b"\r\n" if self is RecordSeparator.CRLF else b""


@dataclass(frozen=True)
class Creditor:
    """The operator as the bank knows it: 委託者 and the account the debits are paid into."""

    code: str
    name: str
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: str
    account_number: str


@dataclass(frozen=True)
class CollectionSettings:
    """Everything the export and the import need besides the database."""

    creditor: Creditor
    debit_day: int = 27
    failure_threshold: int = 3
    on_failures: FailurePolicy = FailurePolicy.LIST
    customer_number_digits: int = 20
    new_code: bool = True
    header_account: bool = True
    record_separator: RecordSeparator = RecordSeparator.CRLF
    eof_marker: bool = False
    kana_symbols: str = DEFAULT_SYMBOLS
    check_bank_codes: bool = True
    source: str = ""
    sha256: str = ""

    def as_record(self) -> dict[str, Any]:
        """The settings as plain values, to keep with what they produced."""
        return {
            **{f"creditor_{k}": v for k, v in vars(self.creditor).items()},
            "debit_day": self.debit_day,
            "failure_threshold": self.failure_threshold,
            "on_failures": self.on_failures.value,
            "customer_number_digits": self.customer_number_digits,
            "new_code": self.new_code,
            "header_account": self.header_account,
            "record_separator": self.record_separator.value,
            "eof_marker": self.eof_marker,
            "kana_symbols": self.kana_symbols,
            "check_bank_codes": self.check_bank_codes,
            "source": self.source,
            "sha256": self.sha256,
        }


def _digits(width: int) -> Callable[[Row], str]:
    def parse(row: Row) -> str:
        value = row.digits("value")
        if len(value) != width:
            raise row.error(f"{row.text('setting')} must be {width} digits, not {value!r}")
        return value

    return parse


def _kana(width: int) -> Callable[[Row], str]:
    def parse(row: Row) -> str:
        setting = row.text("setting")
        try:
            return fit(to_bank_kana(row.text("value"), setting), setting, width)
        except InvalidField as error:
            raise row.error(error.message) from None

    return parse


def _whole(low: int, high: int) -> Callable[[Row], int]:
    def parse(row: Row) -> int:
        value = row.integer("value", minimum=low)
        if value > high:
            raise row.error(f"{row.text('setting')} must be {low}-{high}, not {value}")
        return value

    return parse


def _account_type(row: Row) -> str:
    value = row.text("value")
    if value not in ACCOUNT_TYPES:
        known = ", ".join(f"{k} {v}" for k, v in ACCOUNT_TYPES.items())
        raise row.error(f"account type must be one of {known}; not {value!r}")
    return value


def _symbols(row: Row) -> str:
    value = row.values["value"]
    bad = [c for c in value if c in allowed_characters("") or not " " < c <= "~"]
    if bad:
        raise row.error(f"kana_symbols takes ASCII symbols only, not {''.join(bad)!r}")
    return value


CREDITOR: dict[str, Callable[[Row], str]] = {
    "code": _digits(10),
    "name": _kana(40),
    "bank_code": _digits(4),
    "bank_name": _kana(15),
    "branch_code": _digits(3),
    "branch_name": _kana(15),
    "account_type": _account_type,
    "account_number": _digits(7),
}
"""creditor_<key> settings: required, each with its parser."""

RULES: dict[str, Callable[[Row], Any]] = {
    "debit_day": _whole(1, 31),
    "failure_threshold": _whole(1, 99),
    "on_failures": lambda row: row.choice("value", FailurePolicy),
    "customer_number_digits": _whole(1, 20),
    "new_code": lambda row: row.flag("value"),
    "header_account": lambda row: row.flag("value"),
    "record_separator": lambda row: row.choice("value", RecordSeparator),
    "eof_marker": lambda row: row.flag("value"),
    "kana_symbols": _symbols,
    "check_bank_codes": lambda row: row.flag("value"),
}
"""Optional settings and their parsers (left out: the defaults of ``CollectionSettings``)."""


def parse_collection_settings(origin: str, text: str, sha256: str = "") -> CollectionSettings:
    """Build the settings from the text of a ``collection.csv`` read from ``origin``."""
    creditor: dict[str, str] = {}
    rules: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for row in read_rows(origin, text, COLUMNS):
        setting = row.text("setting")
        if setting in seen:
            raise row.error(f"setting {setting} is already given at {seen[setting]}")
        seen[setting] = row.where
        key = setting.removeprefix("creditor_")
        if setting.startswith("creditor_") and key in CREDITOR:
            creditor[key] = CREDITOR[key](row)
        elif setting in RULES:
            rules[setting] = RULES[setting](row)
        else:
            known = ", ".join([*(f"creditor_{k}" for k in CREDITOR), *RULES])
            raise row.error(f"unknown setting {setting!r} (known: {known})")
    missing = [f"creditor_{key}" for key in CREDITOR if key not in creditor]
    if missing:
        raise OperatorDataError(origin, None, f"missing setting(s) {', '.join(missing)}")
    return CollectionSettings(Creditor(**creditor), **rules, source=origin, sha256=sha256)


def load_collection_settings(directory: Path | str | None = None) -> CollectionSettings:
    """``collection.csv`` from the operator's ``directory`` if it has one, else the shipped file."""
    path = Path(directory) / FILE_NAME if directory is not None else None
    if path is None or not path.is_file():
        path = default_data_dir() / FILE_NAME
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as error:
        raise OperatorDataError(path, None, f"cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise OperatorDataError(path, None, "not UTF-8 text") from None
    return parse_collection_settings(str(path), text, hashlib.sha256(raw).hexdigest())
