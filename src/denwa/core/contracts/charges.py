"""A contract's fixed charges for one month (SPEC §2, §3).

Rules, with the service page's values as defaults:
- 初期登録料 once, in the month of activation;
- 再開登録料 for each resumption (from a suspension or a stop);
- 基本料 each month except the start month (so start and termination in one
  month is free) and months suspended from the first to the last day; the
  termination month is charged in full whatever the date;
- 機器レンタル料 every month the TA is rented, start month included, no proration;
- early termination inside the minimum period: in the termination month, each
  of the two monthly fees is charged for the months still missing so that it
  has been charged ``minimum_period_months`` times; waivable with a reason;
- TA collection fee when the ISP collects the TA.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from denwa.core.contracts.fees import EARLY_TERMINATION, BillingRules, Fee, FeeSchedule
from denwa.core.errors import ContractRuleViolation, InvalidInput
from denwa.core.rating.tariffs import TaxCategory
from denwa.core.rating.tax import ChargeLine
from denwa.core.timeutil import Month, add_months


@dataclass(frozen=True)
class DateRange:
    """Days ``first`` to ``last`` inclusive; ``last`` None while still open."""

    first: date
    last: date | None = None

    def __post_init__(self) -> None:
        if self.last is not None and self.last < self.first:
            raise InvalidInput("period", f"{self.last} is before {self.first}")

    def covers(self, day: date) -> bool:
        """True when ``day`` is inside the range."""
        return self.first <= day and (self.last is None or day <= self.last)

    def covers_month(self, month: Month) -> bool:
        """True when every day of ``month`` is inside the range."""
        return self.covers(month.first_day) and self.covers(month.last_day)

    def touches_month(self, month: Month) -> bool:
        """True when at least one day of ``month`` is inside the range."""
        return self.first <= month.last_day and (self.last is None or self.last >= month.first_day)


@dataclass(frozen=True)
class Collection:
    """The ISP collected the TA on ``day`` for ``amount_yen``."""

    day: date
    amount_yen: int


@dataclass(frozen=True)
class ContractTerms:
    """What the fixed charges of a contract depend on.

    ``start`` is the activation date, ``end`` the termination date (契約解除).
    Suspensions and stops are day ranges; one that closed before the end is a
    resumption on the next day.  ``rentals`` default to the whole contract.
    """

    start: date
    end: date | None = None
    suspensions: tuple[DateRange, ...] = ()
    stops: tuple[DateRange, ...] = ()
    rentals: tuple[DateRange, ...] | None = None
    collections: tuple[Collection, ...] = ()
    early_charge_waived: bool = False
    waiver_reason: str = ""

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise InvalidInput("end", f"termination {self.end} is before the start {self.start}")
        if self.early_charge_waived and not self.waiver_reason.strip():
            raise ContractRuleViolation("waiver_reason", "waiving the early charge needs a reason")
        for kind, periods in (("suspension", self.suspensions), ("stop", self.stops)):
            for period in periods:
                if period.first < self.start or (self.end and period.first >= self.end):
                    raise InvalidInput(kind, f"{period.first} is outside the contract")
        ordered = sorted((*self.suspensions, *self.stops), key=lambda p: p.first)
        for before, after in pairwise(ordered):
            if before.last is None or before.last >= after.first:
                raise InvalidInput(
                    "period", f"periods from {before.first} and {after.first} overlap"
                )

    @property
    def rental_periods(self) -> tuple[DateRange, ...]:
        """When the TA is rented: as given, or from start to termination."""
        if self.rentals is not None:
            return self.rentals
        return (DateRange(self.start, self.end),)

    def resumptions(self) -> list[date]:
        """Days the line came back into service after a suspension or a stop."""
        days = [
            period.last + timedelta(days=1)
            for period in (*self.suspensions, *self.stops)
            if period.last is not None
        ]
        return sorted(day for day in days if self.end is None or day < self.end)

    def months(self, until: Month | None = None) -> Iterable[Month]:
        """The contract's months from the start month to ``until`` or the end month."""
        if until is None:
            if self.end is None:
                raise InvalidInput("until", "an open contract's months need a last month")
            until = Month.of(self.end)
        month = Month.of(self.start)
        while month <= until:
            yield month
            month = month.next()


def check_suspension(period: DateRange, rules: BillingRules) -> None:
    """Refuse a suspension that is open-ended or longer than the rules allow."""
    if period.last is None:
        raise ContractRuleViolation("suspension_length", "a suspension needs an end date")
    limit = add_months(period.first, rules.max_suspension_months)
    if period.last >= limit:
        raise ContractRuleViolation(
            "suspension_length",
            f"a suspension may last at most {rules.max_suspension_months} months "
            f"({period.first} to {limit - timedelta(days=1)} at the latest)",
        )


def basic_fee_due(terms: ContractTerms, month: Month, rules: BillingRules) -> bool:
    """Whether 基本料 is charged for ``month``."""
    if not _in_contract(terms, month) or month == Month.of(terms.start):
        return False
    if terms.end is not None and month == Month.of(terms.end):
        return True  # the termination month is charged in full, whatever the date
    fully_suspended = any(period.covers_month(month) for period in terms.suspensions)
    return not fully_suspended or rules.basic_fee_in_full_suspension_months


def rental_due(terms: ContractTerms, month: Month, rules: BillingRules) -> bool:
    """Whether 機器レンタル料 is charged for ``month``."""
    if not _in_contract(terms, month):
        return False
    if month == Month.of(terms.start) and not rules.rental_in_start_month:
        return False
    return any(period.touches_month(month) for period in terms.rental_periods)


def is_early_termination(terms: ContractTerms, rules: BillingRules) -> bool:
    """True when the contract ends inside the minimum period."""
    if terms.end is None:
        return False
    return terms.end < add_months(terms.start, rules.minimum_period_months)


def monthly_charges(
    terms: ContractTerms, month: Month, fees: FeeSchedule, rules: BillingRules
) -> list[ChargeLine]:
    """Every fixed charge line of ``terms`` for ``month``, tax-exclusive."""
    for period in terms.suspensions:
        if period.last is not None:  # a running one was checked when it was approved
            check_suspension(period, rules)
    if not _in_contract(terms, month):
        return []
    on = month.first_day
    lines: list[ChargeLine] = []

    def add(code: str, amount: int, day: date, description: str, quantity: int = 1) -> None:
        lines.append(ChargeLine(code, amount, TaxCategory.STANDARD, day, description, quantity))

    if month == Month.of(terms.start):
        add(
            Fee.INITIAL_REGISTRATION,
            fees.amount(Fee.INITIAL_REGISTRATION, terms.start),
            terms.start,
            "初期登録料",
        )
    for day in terms.resumptions():
        if Month.of(day) == month:
            add(Fee.REACTIVATION, fees.amount(Fee.REACTIVATION, day), day, "再開登録料")
    if basic_fee_due(terms, month, rules):
        add(Fee.BASIC, fees.amount(Fee.BASIC, on), on, "基本料")
    if rental_due(terms, month, rules):
        add(Fee.TA_RENTAL, fees.amount(Fee.TA_RENTAL, on), on, "機器レンタル料")
    early = early_termination_line(terms, month, fees, rules)
    if early is not None:
        lines.append(early)
    for collection in terms.collections:
        if Month.of(collection.day) == month:
            add(Fee.TA_COLLECTION, collection.amount_yen, collection.day, "機器回収手数料")
    return lines


def early_termination_line(
    terms: ContractTerms, month: Month, fees: FeeSchedule, rules: BillingRules
) -> ChargeLine | None:
    """The minimum-period charge, in the termination month, unless waived."""
    if (
        terms.end is None
        or Month.of(terms.end) != month
        or not is_early_termination(terms, rules)
        or not rules.early_termination_charge
        or terms.early_charge_waived
    ):
        return None
    months = list(terms.months())
    missing_basic = rules.minimum_period_months - sum(
        basic_fee_due(terms, m, rules) for m in months
    )
    missing_rental = rules.minimum_period_months - sum(rental_due(terms, m, rules) for m in months)
    missing_basic, missing_rental = max(missing_basic, 0), max(missing_rental, 0)
    if not terms.rental_periods:
        missing_rental = 0  # no TA was ever rented: there is no rental to make up
    on = month.first_day
    amount = missing_basic * fees.amount(Fee.BASIC, on) + missing_rental * fees.amount(
        Fee.TA_RENTAL, on
    )
    if amount == 0:
        return None
    description = (
        f"最低利用期間内の解約: 基本料{missing_basic}か月分・機器レンタル料{missing_rental}か月分"
    )
    return ChargeLine(EARLY_TERMINATION, amount, TaxCategory.STANDARD, on, description)


def _in_contract(terms: ContractTerms, month: Month) -> bool:
    if month < Month.of(terms.start):
        return False
    return terms.end is None or month <= Month.of(terms.end)
