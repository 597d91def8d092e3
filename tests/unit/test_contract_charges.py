"""Golden cases for a contract's fixed monthly charges (SPEC §2, §3; README "Decisions").

Every amount below is computed by hand from the service page's fees
(初期登録料 1,000; 再開登録料 1,000; 基本料 380; 機器レンタル料 480, tax-exclusive)
and the tax table (5% until 2014-03-31, 8% until 2019-09-30, then 10%), tax
rounded down once per rate on the month's subtotal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from denwa.core.contracts.charges import ContractTerms, DateRange, is_early_termination
from denwa.core.errors import ContractRuleViolation
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.services import MonthCharges, month_charges
from denwa.core.timeutil import Month

pytestmark = pytest.mark.unit

FIVE = Decimal("0.05")
EIGHT = Decimal("0.08")
TEN = Decimal("0.10")


def _priced(charges: MonthCharges) -> dict[str, int]:
    """Line code → amount; a code appearing twice would hide a line, so refuse that."""
    codes = [str(line.code) for line in charges.lines]
    assert len(codes) == len(set(codes)), f"duplicate line codes {codes}"
    return {str(line.code): line.amount_yen for line in charges.lines}


def _assert_totals(charges: MonthCharges, subtotal: int, tax: int) -> None:
    assert charges.totals.subtotal_yen == subtotal
    assert charges.totals.tax_yen == tax
    assert charges.totals.total_yen == subtotal + tax


# --- a subscriber's first seven months -------------------------------------------------

NEW_SUBSCRIBER = ContractTerms(start=date(2003, 7, 15))

FIRST_SEVEN_MONTHS = [
    # month, lines, subtotal, tax (5%, rounded down), total
    (Month(2003, 7), {"initial_registration": 1000, "ta_rental": 480}, 1480, 74, 1554),
    (Month(2003, 8), {"basic_fee": 380, "ta_rental": 480}, 860, 43, 903),
    (Month(2003, 9), {"basic_fee": 380, "ta_rental": 480}, 860, 43, 903),
    (Month(2003, 10), {"basic_fee": 380, "ta_rental": 480}, 860, 43, 903),
    (Month(2003, 11), {"basic_fee": 380, "ta_rental": 480}, 860, 43, 903),
    (Month(2003, 12), {"basic_fee": 380, "ta_rental": 480}, 860, 43, 903),
    (Month(2004, 1), {"basic_fee": 380, "ta_rental": 480}, 860, 43, 903),
]


@pytest.mark.parametrize(
    ("month", "lines", "subtotal", "tax", "total"),
    FIRST_SEVEN_MONTHS,
    ids=[f"month{n}-{row[0]}" for n, row in enumerate(FIRST_SEVEN_MONTHS, start=1)],
)
def test_a_new_subscriber_pays_registration_then_basic_fee_and_rental_every_month(
    data: OperatorData, month: Month, lines: dict[str, int], subtotal: int, tax: int, total: int
) -> None:
    charges = month_charges(data, NEW_SUBSCRIBER, month)
    assert _priced(charges) == lines
    assert charges.tax_rate == FIVE
    _assert_totals(charges, subtotal, tax)
    assert charges.totals.total_yen == total


def test_the_start_month_has_no_basic_fee_but_the_rental(data: OperatorData) -> None:
    codes = {str(line.code) for line in month_charges(data, NEW_SUBSCRIBER, Month(2003, 7)).lines}
    assert "basic_fee" not in codes
    assert "ta_rental" in codes


def test_monthly_fees_are_taxed_on_the_first_of_the_month_and_registration_on_its_day(
    data: OperatorData,
) -> None:
    start_month = {
        str(line.code): line.tax_date
        for line in month_charges(data, NEW_SUBSCRIBER, Month(2003, 7)).lines
    }
    assert start_month == {
        "initial_registration": date(2003, 7, 15),
        "ta_rental": date(2003, 7, 1),
    }
    august = {
        str(line.code): line.tax_date
        for line in month_charges(data, NEW_SUBSCRIBER, Month(2003, 8)).lines
    }
    assert august == {"basic_fee": date(2003, 8, 1), "ta_rental": date(2003, 8, 1)}


# --- SPEC's worked example: start 2003-07-15, termination 2003-09-10 --------------------

SPEC_EXAMPLE = ContractTerms(start=date(2003, 7, 15), end=date(2003, 9, 10))


def test_the_spec_example_charges_july_and_august_normally(data: OperatorData) -> None:
    july = month_charges(data, SPEC_EXAMPLE, Month(2003, 7))
    assert _priced(july) == {"initial_registration": 1000, "ta_rental": 480}
    _assert_totals(july, 1480, 74)
    august = month_charges(data, SPEC_EXAMPLE, Month(2003, 8))
    assert _priced(august) == {"basic_fee": 380, "ta_rental": 480}
    _assert_totals(august, 860, 43)


def test_the_termination_month_is_charged_in_full_with_the_early_charge(
    data: OperatorData,
) -> None:
    # Basic fee charged Aug, Sep (2): 4 missing x 380 = 1,520.
    # Rental charged Jul, Aug, Sep (3): 3 missing x 480 = 1,440.  Early charge 2,960.
    september = month_charges(data, SPEC_EXAMPLE, Month(2003, 9))
    assert _priced(september) == {"basic_fee": 380, "ta_rental": 480, "early_termination": 2960}
    # 3,820 x 5% = 191
    _assert_totals(september, 3820, 191)


def test_the_early_charge_description_gives_the_months_of_each_fee(data: OperatorData) -> None:
    september = month_charges(data, SPEC_EXAMPLE, Month(2003, 9))
    (early,) = [line for line in september.lines if line.code == "early_termination"]
    assert "基本料4" in early.description
    assert "機器レンタル料3" in early.description


def test_a_waived_early_charge_leaves_only_the_monthly_fees(data: OperatorData) -> None:
    waived = ContractTerms(
        start=date(2003, 7, 15),
        end=date(2003, 9, 10),
        early_charge_waived=True,
        waiver_reason="moved out of the cable area (operator goodwill)",
    )
    september = month_charges(data, waived, Month(2003, 9))
    assert _priced(september) == {"basic_fee": 380, "ta_rental": 480}
    _assert_totals(september, 860, 43)


@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_waiving_the_early_charge_without_a_reason_is_refused(reason: str) -> None:
    with pytest.raises(ContractRuleViolation):
        ContractTerms(
            start=date(2003, 7, 15),
            end=date(2003, 9, 10),
            early_charge_waived=True,
            waiver_reason=reason,
        )


# --- the end of the minimum period ----------------------------------------------------


def test_termination_at_the_end_of_the_minimum_period_is_not_early(data: OperatorData) -> None:
    terms = ContractTerms(start=date(2003, 7, 15), end=date(2004, 1, 15))
    assert not is_early_termination(terms, data.rules)
    january = month_charges(data, terms, Month(2004, 1))
    assert _priced(january) == {"basic_fee": 380, "ta_rental": 480}
    _assert_totals(january, 860, 43)


def test_termination_one_day_before_the_end_of_the_minimum_period_is_early(
    data: OperatorData,
) -> None:
    terms = ContractTerms(start=date(2003, 7, 15), end=date(2004, 1, 14))
    assert is_early_termination(terms, data.rules)


def test_an_early_termination_in_the_seventh_month_owes_nothing_more(data: OperatorData) -> None:
    # By 2004-01 the basic fee has been charged Aug..Jan (6) and the rental
    # Jul..Jan (7): SPEC's rule finds no month missing, so there is no early line.
    terms = ContractTerms(start=date(2003, 7, 15), end=date(2004, 1, 14))
    january = month_charges(data, terms, Month(2004, 1))
    assert _priced(january) == {"basic_fee": 380, "ta_rental": 480}
    _assert_totals(january, 860, 43)


def test_an_early_termination_in_the_sixth_month_owes_one_basic_fee(data: OperatorData) -> None:
    # Basic fee charged Aug..Dec (5): 1 missing x 380.  Rental Jul..Dec (6): none missing.
    terms = ContractTerms(start=date(2003, 7, 15), end=date(2003, 12, 31))
    december = month_charges(data, terms, Month(2003, 12))
    assert _priced(december) == {"basic_fee": 380, "ta_rental": 480, "early_termination": 380}
    # 1,240 x 5% = 62
    _assert_totals(december, 1240, 62)


SUSPENDED_SEPTEMBER = (DateRange(date(2003, 9, 1), date(2003, 9, 30)),)


def test_one_day_before_the_end_of_the_minimum_period_the_missing_months_are_charged(
    data: OperatorData,
) -> None:
    # September fully suspended: basic fee charged Aug, Oct, Nov, Dec, Jan (5) → 1 x 380;
    # rental Jul..Jan (7) → none.
    terms = ContractTerms(
        start=date(2003, 7, 15), end=date(2004, 1, 14), suspensions=SUSPENDED_SEPTEMBER
    )
    january = month_charges(data, terms, Month(2004, 1))
    assert _priced(january) == {"basic_fee": 380, "ta_rental": 480, "early_termination": 380}
    _assert_totals(january, 1240, 62)


def test_on_the_end_of_the_minimum_period_the_missing_months_are_not_charged(
    data: OperatorData,
) -> None:
    terms = ContractTerms(
        start=date(2003, 7, 15), end=date(2004, 1, 15), suspensions=SUSPENDED_SEPTEMBER
    )
    january = month_charges(data, terms, Month(2004, 1))
    assert _priced(january) == {"basic_fee": 380, "ta_rental": 480}
    _assert_totals(january, 860, 43)


# --- start and termination in one month ---------------------------------------------------


def test_start_and_termination_in_one_month_charge_rental_and_six_plus_five_months(
    data: OperatorData,
) -> None:
    # Basic fee free (start month), charged 0 times: 6 x 380 = 2,280.
    # Rental charged once (July): 5 x 480 = 2,400.  Early charge 4,680.
    terms = ContractTerms(start=date(2003, 7, 15), end=date(2003, 7, 25))
    july = month_charges(data, terms, Month(2003, 7))
    assert _priced(july) == {
        "initial_registration": 1000,
        "ta_rental": 480,
        "early_termination": 4680,
    }
    # 6,160 x 5% = 308
    _assert_totals(july, 6160, 308)
    (early,) = [line for line in july.lines if line.code == "early_termination"]
    assert "基本料6" in early.description
    assert "機器レンタル料5" in early.description


# --- suspension -------------------------------------------------------------------------

SUSPENDED_JUNE_TO_SEPTEMBER = ContractTerms(
    start=date(2003, 4, 10),
    suspensions=(DateRange(date(2003, 6, 15), date(2003, 9, 14)),),
)

SUSPENSION_MONTHS = [
    # month, lines, subtotal, tax (5%)
    (Month(2003, 5), {"basic_fee": 380, "ta_rental": 480}, 860, 43),
    (Month(2003, 6), {"basic_fee": 380, "ta_rental": 480}, 860, 43),
    (Month(2003, 7), {"ta_rental": 480}, 480, 24),
    (Month(2003, 8), {"ta_rental": 480}, 480, 24),
    (Month(2003, 9), {"reactivation": 1000, "basic_fee": 380, "ta_rental": 480}, 1860, 93),
    (Month(2003, 10), {"basic_fee": 380, "ta_rental": 480}, 860, 43),
]


@pytest.mark.parametrize(
    ("month", "lines", "subtotal", "tax"),
    SUSPENSION_MONTHS,
    ids=[
        "before",
        "june-partly-suspended",
        "july-fully-suspended",
        "august-fully-suspended",
        "september-resumes",
        "after",
    ],
)
def test_only_full_months_of_suspension_drop_the_basic_fee(
    data: OperatorData, month: Month, lines: dict[str, int], subtotal: int, tax: int
) -> None:
    charges = month_charges(data, SUSPENDED_JUNE_TO_SEPTEMBER, month)
    assert _priced(charges) == lines
    _assert_totals(charges, subtotal, tax)


def test_the_reactivation_fee_falls_on_the_day_the_line_resumes(data: OperatorData) -> None:
    september = month_charges(data, SUSPENDED_JUNE_TO_SEPTEMBER, Month(2003, 9))
    (reactivation,) = [line for line in september.lines if line.code == "reactivation"]
    assert reactivation.tax_date == date(2003, 9, 15)


def test_a_suspension_longer_than_six_months_is_refused(data: OperatorData) -> None:
    terms = ContractTerms(
        start=date(2003, 4, 10),
        suspensions=(DateRange(date(2003, 6, 15), date(2003, 12, 15)),),
    )
    with pytest.raises(ContractRuleViolation):
        month_charges(data, terms, Month(2003, 6))


def test_a_suspension_of_six_months_less_a_day_is_accepted(data: OperatorData) -> None:
    # 2003-06-15 .. 2003-12-14 inclusive: July..November are full months; it resumes 12-15.
    terms = ContractTerms(
        start=date(2003, 4, 10),
        suspensions=(DateRange(date(2003, 6, 15), date(2003, 12, 14)),),
    )
    november = month_charges(data, terms, Month(2003, 11))
    assert _priced(november) == {"ta_rental": 480}
    december = month_charges(data, terms, Month(2003, 12))
    assert _priced(december) == {"reactivation": 1000, "basic_fee": 380, "ta_rental": 480}
    _assert_totals(december, 1860, 93)


def test_a_stop_keeps_the_monthly_fees_and_resuming_charges_reactivation(
    data: OperatorData,
) -> None:
    # README: a stop (提供停止) is the subscriber's doing and does not suspend the fees.
    terms = ContractTerms(
        start=date(2003, 4, 10),
        stops=(DateRange(date(2003, 7, 1), date(2003, 8, 31)),),
    )
    july = month_charges(data, terms, Month(2003, 7))
    assert _priced(july) == {"basic_fee": 380, "ta_rental": 480}
    september = month_charges(data, terms, Month(2003, 9))
    assert _priced(september) == {"reactivation": 1000, "basic_fee": 380, "ta_rental": 480}


# --- months outside the contract ------------------------------------------------------


@pytest.mark.parametrize(
    "month",
    [Month(2003, 6), Month(2002, 12), Month(2003, 10), Month(2004, 9)],
    ids=["month-before-start", "year-before-start", "month-after-end", "year-after-end"],
)
def test_a_month_outside_the_contract_has_no_lines(data: OperatorData, month: Month) -> None:
    charges = month_charges(data, SPEC_EXAMPLE, month)
    assert charges.lines == []
    _assert_totals(charges, 0, 0)


# --- the tax changes -----------------------------------------------------------------

LONG_STANDING = ContractTerms(start=date(2010, 5, 20))

ACROSS_TAX_CHANGES = [
    # month, rate, tax on 860 (rounded down)
    (Month(2014, 3), FIVE, 43),  # 43.0
    (Month(2014, 4), EIGHT, 68),  # 68.8
    (Month(2019, 9), EIGHT, 68),  # 68.8
    (Month(2019, 10), TEN, 86),  # 86.0
]


@pytest.mark.parametrize(
    ("month", "rate", "tax"),
    ACROSS_TAX_CHANGES,
    ids=["2014-03-at-5%", "2014-04-at-8%", "2019-09-at-8%", "2019-10-at-10%"],
)
def test_monthly_fees_take_the_tax_rate_of_their_month(
    data: OperatorData, month: Month, rate: Decimal, tax: int
) -> None:
    charges = month_charges(data, LONG_STANDING, month)
    assert _priced(charges) == {"basic_fee": 380, "ta_rental": 480}
    assert charges.tax_rate == rate
    _assert_totals(charges, 860, tax)


def test_a_suspension_running_into_the_termination_still_charges_the_termination_month(
    data: OperatorData,
) -> None:
    # Suspended 06-15..09-14 but terminated 08-20: August is the termination month,
    # charged in full whatever the date (SPEC §3), even though the suspension covers it.
    terms = ContractTerms(
        start=date(2003, 4, 10),
        end=date(2003, 8, 20),
        suspensions=(DateRange(date(2003, 6, 15), date(2003, 9, 14)),),
    )
    codes = [line.code for line in month_charges(data, terms, Month(2003, 8)).lines]
    assert "basic_fee" in codes
    assert "reactivation" not in codes
    assert [line.code for line in month_charges(data, terms, Month(2003, 7)).lines] == ["ta_rental"]
