"""A statement's debit status, as the console and the subscriber's page show it.

A statement is collected by one debit, or — when that fails — carried over
into later ones; its status follows the latest debit that included it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from denwa.core.collection.results import PAID, result_code


class DebitState(StrEnum):
    """Where a statement's collection stands."""

    NOT_REQUESTED = "not_requested"  # no debit has asked for it (yet)
    NOTHING_DUE = "nothing_due"  # its total is 0 or a credit
    REQUESTED = "requested"  # in a request file; the bank's result is not in yet
    CARRIED_OVER = "carried_over"  # unpaid earlier, asked for again in a later debit
    PAID = "paid"
    UNPAID = "unpaid"  # the latest debit failed; carried over to the next export


@dataclass(frozen=True)
class Attempt:
    """The latest debit that included a statement."""

    debit_date: date
    carried: bool  # the statement was carried over into this debit
    result_code: str | None  # None until the bank's result is imported


LABELS: dict[DebitState, tuple[str, str]] = {
    DebitState.NOT_REQUESTED: ("未請求", "not yet requested"),
    DebitState.NOTHING_DUE: ("請求額なし", "nothing to collect"),
    DebitState.REQUESTED: ("口座振替予定（{date}）", "to be debited on {date}"),
    DebitState.CARRIED_OVER: (
        "前回振替不能・繰越（{date} に再振替）",
        "unpaid, carried over: debited again on {date}",
    ),
    DebitState.PAID: ("口座振替済（{date}）", "paid by direct debit on {date}"),
    DebitState.UNPAID: (
        "振替不能：{name_ja}（{date}）・次回に繰越",
        "unpaid: {name_en} (debit of {date}, code {code}); carried over to the next debit",
    ),
}
"""State → (Japanese, English) label templates."""


@dataclass(frozen=True)
class DebitStatus:
    """A statement's debit status with its labels in Japanese and English."""

    state: DebitState
    result_code: str | None = None
    debit_date: date | None = None
    label_ja: str = ""
    label_en: str = ""

    def label(self, language: str) -> str:
        """The label in ``language`` (``ja`` or ``en``; anything else is English)."""
        return self.label_ja if language.startswith("ja") else self.label_en


def debit_status(total_yen: int, latest: Attempt | None) -> DebitStatus:
    """The status of a statement of ``total_yen`` whose latest debit is ``latest`` (or none)."""
    if latest is None:
        state = DebitState.NOTHING_DUE if total_yen <= 0 else DebitState.NOT_REQUESTED
    elif latest.result_code is None:
        state = DebitState.CARRIED_OVER if latest.carried else DebitState.REQUESTED
    elif latest.result_code == PAID:
        state = DebitState.PAID
    else:
        state = DebitState.UNPAID
    code = latest.result_code if latest and state is DebitState.UNPAID else None
    meaning = result_code(code) if code else None
    values = {
        "date": latest.debit_date.isoformat() if latest else "",
        "code": code or "",
        "name_ja": meaning.name_ja if meaning else "",
        "name_en": meaning.name_en if meaning else "",
    }
    ja, en = LABELS[state]
    return DebitStatus(
        state=state,
        result_code=code,
        debit_date=latest.debit_date if latest else None,
        label_ja=ja.format(**values),
        label_en=en.format(**values),
    )
