"""A subscriber's debit mandate (口座振替依頼): validated and normalised for the request file.

Errors name the field (``bank_code``, ``branch_code``, ``account_type``,
``account_number``, ``holder_kana``, ``bank_name``, ``branch_name``) so an
entry form can show each beside its input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import jaconv

from denwa.core.collection.config import ACCOUNT_TYPES
from denwa.core.collection.errors import InvalidField
from denwa.core.collection.kana import DEFAULT_SYMBOLS, fit, to_bank_kana
from denwa.core.collection.layout import DATA


class BankDirectory(Protocol):
    """Bank and branch codes with their names in kana (the zengin-code dataset, say)."""

    @property
    def source(self) -> str:
        """Which list this is (name and version), for messages."""
        ...

    def bank_kana(self, bank_code: str) -> str | None:
        """The bank's name in kana, or None when no bank has ``bank_code``."""
        ...

    def branch_kana(self, bank_code: str, branch_code: str) -> str | None:
        """The branch's name in kana, or None when the bank has no such branch."""
        ...


@dataclass(frozen=True)
class Mandate:
    """Account details as they go into a data record (half-width, zero-filled)."""

    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    holder_kana: str
    bank_name: str = ""
    branch_name: str = ""


def _digits(field: str, value: str, low: int, high: int) -> str:
    text = jaconv.z2h(value.strip(), kana=False, digit=True)
    if not (text.isascii() and text.isdigit()) or not low <= len(text) <= high:
        size = f"{high}" if low == high else f"{low}-{high}"
        raise InvalidField(field, f"must be {size} digits, not {value!r}")
    return text.rjust(high, "0")


WIDTHS = {
    "holder_kana": DATA.field("holder").width,
    "bank_name": DATA.field("bank_name").width,
    "branch_name": DATA.field("branch_name").width,
}
"""The mandate's names and the widths of the data record's fields they go into."""


def _name(field: str, value: str, symbols: str) -> str:
    return fit(to_bank_kana(value, field, symbols=symbols), field, WIDTHS[field])


def validate_mandate(
    *,
    bank_code: str,
    branch_code: str,
    account_type: str,
    account_number: str,
    holder_kana: str,
    bank_name: str = "",
    branch_name: str = "",
    directory: BankDirectory | None = None,
    symbols: str = DEFAULT_SYMBOLS,
) -> Mandate:
    """The mandate with every field checked and converted, or ``InvalidField`` naming the field.

    Codes are digits of the layout's widths (bank 4, branch 3; an account
    number of fewer than 7 digits is zero-filled); the holder's name is
    converted to half-width kana and must fit 30 characters.  With a
    ``directory``, the bank and branch must be in it, and names left empty
    are taken from it (cut to the field's 15 characters, as banks do).
    """
    bank = _digits("bank_code", bank_code, 4, 4)
    branch = _digits("branch_code", branch_code, 3, 3)
    if account_type not in ACCOUNT_TYPES:
        known = ", ".join(f"{k} ({v})" for k, v in ACCOUNT_TYPES.items())
        raise InvalidField("account_type", f"must be one of {known}, not {account_type!r}")
    number = _digits("account_number", account_number, 1, 7)
    if not holder_kana.strip():
        raise InvalidField("holder_kana", "the account holder's name is required")
    holder = _name("holder_kana", holder_kana, symbols)
    names = {
        "bank_name": _name("bank_name", bank_name, symbols) if bank_name.strip() else "",
        "branch_name": _name("branch_name", branch_name, symbols) if branch_name.strip() else "",
    }
    if directory is not None:
        listed = {
            "bank_name": directory.bank_kana(bank),
            "branch_name": directory.branch_kana(bank, branch),
        }
        if listed["bank_name"] is None:
            raise InvalidField("bank_code", f"no bank {bank} in {directory.source}")
        if listed["branch_name"] is None:
            raise InvalidField(
                "branch_code", f"bank {bank} has no branch {branch} in {directory.source}"
            )
        for key, kana in listed.items():
            if not names[key] and kana:
                names[key] = _listed_name(kana, symbols)
    return Mandate(bank, branch, account_type, number, holder, **names)


def _listed_name(kana: str, symbols: str) -> str:
    """A name from the directory as it fits a 15-character field; empty if it cannot be written."""
    try:
        return to_bank_kana(kana, "name", symbols=symbols)[: DATA.field("bank_name").width]
    except InvalidField:
        return ""
