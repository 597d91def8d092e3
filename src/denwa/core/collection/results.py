"""The bank's 振替結果コード, what the amount to debit is, and when repeated failure acts.

The codes are the Zengin standard's; whether a code counts toward the
consecutive-failure rule is a column of the table, not an if-chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from denwa.core.collection.errors import InvalidField


@dataclass(frozen=True)
class ResultCode:
    """One 振替結果コード and what it means for us."""

    code: str
    paid: bool
    counts_as_failure: bool  # toward the consecutive-failure rule
    name_ja: str
    name_en: str


RESULT_CODES: dict[str, ResultCode] = {
    row.code: row
    for row in (
        ResultCode("0", True, False, "振替済", "debited"),
        ResultCode("1", False, True, "資金不足", "insufficient funds"),
        ResultCode("2", False, True, "預金取引なし", "no such account"),
        ResultCode("3", False, True, "預金者の都合による振替停止", "stopped by the account holder"),
        ResultCode(
            "4", False, True, "預金口座振替依頼書なし", "no direct debit mandate at the bank"
        ),
        # Stopped at our own request: unpaid, but not the subscriber's failure.
        ResultCode("8", False, False, "委託者の都合による振替停止", "stopped at our request"),
        ResultCode("9", False, True, "その他", "other reason"),
    )
}
"""振替結果コード → its meaning.  The bank's result file holds no other code."""

PAID = "0"


def result_code(code: str) -> ResultCode:
    """The meaning of ``code``; ``InvalidField`` for a code outside the table."""
    found = RESULT_CODES.get(code)
    if found is None:
        known = ", ".join(RESULT_CODES)
        raise InvalidField("振替結果コード", f"{code!r} is not a result code ({known})")
    return found


def debit_amount(statement_total_yen: int | None, carried_yen: Iterable[int]) -> int:
    """What one data record asks for: this month's total plus the unpaid amounts carried over.

    ``statement_total_yen`` is None when the contract has no statement this
    month (only carried amounts are due).  A result of 0 or less is not
    requested at all.
    """
    return (statement_total_yen or 0) + sum(carried_yen)


def consecutive_failures(codes: Sequence[str]) -> int:
    """How many of the latest results, oldest first in ``codes``, are failures in a row.

    A paid result ends the run; a code that does not count (8, stopped at our
    request) neither ends nor lengthens it.
    """
    run = 0
    for code in reversed(codes):
        meaning = result_code(code)
        if meaning.paid:
            break
        if meaning.counts_as_failure:
            run += 1
    return run


class FailurePolicy(StrEnum):
    """What happens to a contract whose debits failed the configured number of times in a row."""

    LIST = "list"  # put on the operator's stop list; the operator decides
    STOP = "stop"  # stopped (提供停止) automatically, and listed


def reaches_threshold(codes: Sequence[str], threshold: int) -> bool:
    """Whether the latest result (the last of ``codes``) makes ``threshold`` failures in a row.

    True only on the result that reaches it (or goes beyond it while still
    failing), so a contract is acted on once per import that fails it again.
    """
    if not codes or not result_code(codes[-1]).counts_as_failure:
        return False
    return consecutive_failures(codes) >= threshold
