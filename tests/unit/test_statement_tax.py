"""Consumption tax on a statement (SPEC §3): once per rate on the subtotal, rounded down.

Rates by date: 3% from 1989-04-01, 5% from 1997-04-01, 8% from 2014-04-01,
10% from 2019-10-01.  International calls are exempt (輸出免税).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from denwa.core.errors import NoTaxRate
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.rating.tariffs import TaxCategory
from denwa.core.rating.tax import (
    ChargeLine,
    Rounding,
    StatementTotals,
    TaxGroup,
    TaxTable,
    statement_totals,
)

pytestmark = pytest.mark.unit

STANDARD, EXEMPT = TaxCategory.STANDARD, TaxCategory.EXEMPT
IN_2003 = date(2003, 9, 1)


def _call(amount_yen: int, on: date, category: TaxCategory = STANDARD) -> ChargeLine:
    return ChargeLine("call", amount_yen, category, on)


def _groups_by_rate(totals: StatementTotals) -> dict[Decimal | None, TaxGroup]:
    by_rate = {group.rate: group for group in totals.groups}
    assert len(by_rate) == len(totals.groups), "two groups share a rate"
    return by_rate


def test_tax_is_computed_once_on_the_subtotal_not_per_line(data: OperatorData) -> None:
    # Three 8-yen calls at 5%: per line 0.4 → 0 each; on the subtotal 24 x 5% = 1.2 → 1.
    totals = statement_totals([_call(8, IN_2003)] * 3, data.taxes)
    assert totals.subtotal_yen == 24
    assert totals.tax_yen == 1
    assert totals.total_yen == 25
    (group,) = totals.groups
    assert (group.tax_category, group.rate, group.subtotal_yen, group.tax_yen) == (
        STANDARD,
        Decimal("0.05"),
        24,
        1,
    )


def test_the_shipped_tax_table_rounds_down(data: OperatorData) -> None:
    assert data.taxes.rounding is Rounding.DOWN
    # 39 x 5% = 1.95 → 1
    assert statement_totals([_call(39, IN_2003)], data.taxes).tax_yen == 1


def test_an_empty_statement_has_no_groups_and_no_tax(data: OperatorData) -> None:
    totals = statement_totals([], data.taxes)
    assert totals == StatementTotals(groups=(), subtotal_yen=0, tax_yen=0, total_yen=0)


RATE_CHANGES = [
    # 20 + 13 yen the day before the change, 33 yen on the day: each group is rounded by itself.
    # before, after, old rate, new rate, old tax, new tax (one 8% group: 66 x 8% = 5.28 → 5)
    (date(2014, 3, 31), date(2014, 4, 1), Decimal("0.05"), Decimal("0.08"), 1, 2),  # 1.65, 2.64
    (date(2019, 9, 30), date(2019, 10, 1), Decimal("0.08"), Decimal("0.10"), 2, 3),  # 2.64, 3.3
]


@pytest.mark.parametrize(
    ("before", "after", "old_rate", "new_rate", "old_tax", "new_tax"),
    RATE_CHANGES,
    ids=["5%-to-8%-on-2014-04-01", "8%-to-10%-on-2019-10-01"],
)
def test_calls_either_side_of_a_rate_change_form_two_groups(
    data: OperatorData,
    before: date,
    after: date,
    old_rate: Decimal,
    new_rate: Decimal,
    old_tax: int,
    new_tax: int,
) -> None:
    lines = [_call(20, before), _call(13, before), _call(33, after)]
    totals = statement_totals(lines, data.taxes)
    groups = _groups_by_rate(totals)
    assert groups == {
        old_rate: TaxGroup(STANDARD, old_rate, 33, old_tax),
        new_rate: TaxGroup(STANDARD, new_rate, 33, new_tax),
    }
    assert totals.subtotal_yen == 66
    assert totals.tax_yen == old_tax + new_tax
    assert totals.total_yen == 66 + old_tax + new_tax


def test_an_international_call_carries_no_tax_and_forms_its_own_group(
    data: OperatorData,
) -> None:
    lines = [
        _call(380, IN_2003),
        _call(480, IN_2003),
        _call(500, IN_2003, EXEMPT),
    ]
    totals = statement_totals(lines, data.taxes)
    groups = _groups_by_rate(totals)
    assert groups[None] == TaxGroup(EXEMPT, None, 500, 0)
    assert groups[Decimal("0.05")] == TaxGroup(STANDARD, Decimal("0.05"), 860, 43)
    assert totals.subtotal_yen == 1360
    assert totals.tax_yen == 43
    assert totals.total_yen == 1403


ROUNDINGS = [
    # rounding, amount at 5%, tax
    (Rounding.DOWN, 21, 1),  # 1.05
    (Rounding.UP, 21, 2),  # 1.05
    (Rounding.HALF_UP, 21, 1),  # 1.05
    (Rounding.DOWN, 30, 1),  # 1.5
    (Rounding.UP, 30, 2),  # 1.5
    (Rounding.HALF_UP, 30, 2),  # 1.5
    (Rounding.DOWN, 39, 1),  # 1.95
    (Rounding.UP, 39, 2),  # 1.95
    (Rounding.HALF_UP, 39, 2),  # 1.95
    (Rounding.DOWN, 20, 1),  # 1.0 exactly
    (Rounding.UP, 20, 1),  # 1.0 exactly: nothing to round up
    (Rounding.HALF_UP, 20, 1),  # 1.0 exactly
]


@pytest.mark.parametrize(
    ("rounding", "amount", "tax"),
    ROUNDINGS,
    ids=[f"{rounding.value}-{amount}yen" for rounding, amount, _ in ROUNDINGS],
)
def test_the_statement_rounds_tax_as_the_table_names(
    data: OperatorData, rounding: Rounding, amount: int, tax: int
) -> None:
    table = TaxTable(data.taxes.rates, rounding=rounding)
    totals = statement_totals([_call(amount, IN_2003)], table)
    assert totals.tax_yen == tax
    assert totals.total_yen == amount + tax


CREDIT_ROUNDINGS = [
    # 切り捨て drops a credit's fraction; 切り上げ and 四捨五入 round it away from zero.
    pytest.param(Rounding.DOWN, -21, -1, id="down-credit-21yen"),
    pytest.param(Rounding.UP, -21, -2, id="up-credit-21yen"),
    pytest.param(Rounding.HALF_UP, -21, -1, id="half_up-credit-21yen"),
    pytest.param(Rounding.HALF_UP, -30, -2, id="half_up-credit-30yen"),
]


@pytest.mark.parametrize(("rounding", "amount", "tax"), CREDIT_ROUNDINGS)
def test_a_credit_rounds_its_tax_like_a_charge_of_the_same_size(
    data: OperatorData, rounding: Rounding, amount: int, tax: int
) -> None:
    # A correction on a later statement can be alone in its group (e.g. dated under an
    # older rate), so the group's subtotal is negative: -21 x 5% = -1.05, -30 x 5% = -1.5.
    table = TaxTable(data.taxes.rates, rounding=rounding)
    totals = statement_totals([ChargeLine("adjustment", amount, STANDARD, IN_2003)], table)
    assert totals.tax_yen == tax


RATES_BY_DATE = [
    (date(1989, 4, 1), Decimal("0.03")),
    (date(1997, 3, 31), Decimal("0.03")),
    (date(1997, 4, 1), Decimal("0.05")),
    (date(2014, 3, 31), Decimal("0.05")),
    (date(2014, 4, 1), Decimal("0.08")),
    (date(2019, 9, 30), Decimal("0.08")),
    (date(2019, 10, 1), Decimal("0.10")),
]


@pytest.mark.parametrize(
    ("day", "rate"), RATES_BY_DATE, ids=[day.isoformat() for day, _ in RATES_BY_DATE]
)
def test_the_rate_is_the_one_in_force_on_the_day(
    data: OperatorData, day: date, rate: Decimal
) -> None:
    assert data.taxes.rate_on(day) == rate


def test_there_is_no_rate_before_consumption_tax_began(data: OperatorData) -> None:
    with pytest.raises(NoTaxRate) as raised:
        data.taxes.rate_on(date(1989, 3, 31))
    assert raised.value.on == date(1989, 3, 31)


def test_a_taxable_line_before_consumption_tax_began_is_refused(data: OperatorData) -> None:
    with pytest.raises(NoTaxRate):
        statement_totals([_call(100, date(1988, 12, 1))], data.taxes)
