"""Assembling one subscriber's statement for a month.

The monthly close computes the parts set-wise (fixed charges per contract,
call totals per class from the CDRs, adjustments); this puts them together
in a fixed order and computes the tax once per rate.  A statement, once
closed, never changes: calls and corrections that come later go on a later
month as late lines and adjustments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from denwa.core.numbering.classes import CLASS_LABELS, CallClass
from denwa.core.rating.tariffs import TaxCategory, tax_category_of
from denwa.core.rating.tax import ChargeLine, StatementTotals, TaxTable, statement_totals
from denwa.core.timeutil import Month

CALLS_LINE_PREFIX = "calls:"
LATE_CALLS_LINE_PREFIX = "late_calls:"
ADJUSTMENT_LINE = "adjustment"


@dataclass(frozen=True)
class CallTotal:
    """Calls of one class (and one tax date bucket) for one contract."""

    call_class: CallClass
    tax_date: date
    count: int
    seconds: int
    amount_yen: int
    late_from: Month | None = None  # calls of an earlier, already closed month


@dataclass(frozen=True)
class Adjustment:
    """A correction on this month's statement (negative for a credit)."""

    amount_yen: int
    reason: str
    tax_date: date
    tax_category: TaxCategory = TaxCategory.STANDARD


@dataclass(frozen=True)
class StatementDraft:
    """Everything a statement shows, before it is stored and closed."""

    month: Month
    lines: tuple[ChargeLine, ...]
    calls: tuple[CallTotal, ...]
    totals: StatementTotals


def call_line(total: CallTotal) -> ChargeLine:
    """The statement line for a call total (late calls say which month they belong to)."""
    label = CLASS_LABELS[total.call_class][0]
    if total.late_from is not None:
        code = f"{LATE_CALLS_LINE_PREFIX}{total.call_class.value}"
        description = f"通話料 {label} ({total.late_from}分・確定後に到着)"
    else:
        code = f"{CALLS_LINE_PREFIX}{total.call_class.value}"
        description = f"通話料 {label}"
    return ChargeLine(
        code=code,
        amount_yen=total.amount_yen,
        tax_category=tax_category_of(total.call_class),
        tax_date=total.tax_date,
        description=description,
        quantity=total.count,
        call_class=total.call_class.value,
        seconds=total.seconds,
    )


def draft_statement(
    month: Month,
    fixed: Iterable[ChargeLine],
    calls: Iterable[CallTotal],
    adjustments: Iterable[Adjustment],
    taxes: TaxTable,
) -> StatementDraft:
    """Put a month's parts together: fixed charges, calls by class, late calls, adjustments."""
    call_totals = tuple(
        sorted(calls, key=lambda t: (t.late_from is not None, t.late_from or month, t.call_class))
    )
    lines = [
        *fixed,
        *(call_line(total) for total in call_totals if total.amount_yen or total.count),
        *(
            ChargeLine(
                ADJUSTMENT_LINE, a.amount_yen, a.tax_category, a.tax_date, f"調整: {a.reason}"
            )
            for a in adjustments
        ),
    ]
    return StatementDraft(month, tuple(lines), call_totals, statement_totals(lines, taxes))
