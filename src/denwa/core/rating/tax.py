"""Consumption tax: the rate by date and the tax on a statement (SPEC §3).

Tax is computed once per tax rate per statement, on that rate's subtotal, and
rounded by the operator's rule (down by default, as the 2023 invoice rules
allow); exempt charges carry no tax.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from enum import StrEnum

from denwa.core.errors import NoTaxRate
from denwa.core.rating.tariffs import TaxCategory


class Rounding(StrEnum):
    """How a fraction of a yen of tax is rounded."""

    DOWN = "down"  # 切り捨て: toward zero, so a credit's tax shrinks like a charge's
    UP = "up"  # 切り上げ: away from zero
    HALF_UP = "half_up"  # 四捨五入


_DECIMAL_ROUNDING = {
    Rounding.DOWN: ROUND_DOWN,
    Rounding.UP: ROUND_UP,
    Rounding.HALF_UP: ROUND_HALF_UP,
}


@dataclass(frozen=True)
class TaxRate:
    """A consumption tax rate in force from ``valid_from``."""

    valid_from: date
    rate: Decimal


@dataclass(frozen=True)
class TaxTable:
    """Consumption tax rates by date and the rounding rule."""

    rates: Sequence[TaxRate]
    rounding: Rounding = Rounding.DOWN

    def rate_on(self, day: date) -> Decimal:
        """The standard rate in force on ``day``."""
        in_force = [r for r in self.rates if r.valid_from <= day]
        if not in_force:
            raise NoTaxRate(day)
        return max(in_force, key=lambda r: r.valid_from).rate

    def tax_on(self, subtotal_yen: int, rate: Decimal) -> int:
        """Tax on one rate's subtotal, rounded by the table's rule."""
        exact = Decimal(subtotal_yen) * rate
        return int(exact.to_integral_value(rounding=_DECIMAL_ROUNDING[self.rounding]))


@dataclass(frozen=True)
class ChargeLine:
    """One line of a statement, tax-exclusive."""

    code: str
    amount_yen: int
    tax_category: TaxCategory
    tax_date: date
    description: str = ""
    quantity: int = 1
    call_class: str = ""  # for call lines: the class whose calls these are
    seconds: int = 0  # for call lines: their billed seconds


@dataclass(frozen=True)
class TaxGroup:
    """Lines taxed together: one rate (None for exempt lines)."""

    tax_category: TaxCategory
    rate: Decimal | None
    subtotal_yen: int
    tax_yen: int


@dataclass(frozen=True)
class StatementTotals:
    """Subtotal, tax per rate and total of a statement."""

    groups: tuple[TaxGroup, ...]
    subtotal_yen: int
    tax_yen: int
    total_yen: int


def statement_totals(lines: Iterable[ChargeLine], taxes: TaxTable) -> StatementTotals:
    """Group lines by tax rate, tax each group's subtotal once, and add up.

    A line's rate is the one in force on its ``tax_date`` (a call's answer date
    in Asia/Tokyo, a monthly fee's month).  Exempt lines form their own group.
    """
    subtotals: dict[tuple[TaxCategory, Decimal | None], int] = {}
    for line in lines:
        rate = taxes.rate_on(line.tax_date) if line.tax_category is TaxCategory.STANDARD else None
        key = (line.tax_category, rate)
        subtotals[key] = subtotals.get(key, 0) + line.amount_yen
    groups = tuple(
        TaxGroup(
            tax_category=category,
            rate=rate,
            subtotal_yen=subtotal,
            tax_yen=taxes.tax_on(subtotal, rate) if rate is not None else 0,
        )
        for (category, rate), subtotal in sorted(
            subtotals.items(), key=lambda item: (item[0][0].value, item[0][1] or Decimal(0))
        )
    )
    subtotal_yen = sum(group.subtotal_yen for group in groups)
    tax_yen = sum(group.tax_yen for group in groups)
    return StatementTotals(groups, subtotal_yen, tax_yen, subtotal_yen + tax_yen)
