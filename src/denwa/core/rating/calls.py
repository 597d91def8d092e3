"""Rating a single call: units, charge, tax category (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from denwa.core.errors import InvalidInput
from denwa.core.numbering.classes import CallClass
from denwa.core.rating.tariffs import Tariff, TariffBook, TaxCategory, tax_category_of
from denwa.core.timeutil import billing_date


@dataclass(frozen=True)
class RatedCall:
    """The price of one call, tax-exclusive, in whole yen."""

    call_class: CallClass
    billed_seconds: int
    units: int
    unit_seconds: int
    charge_yen: int
    tax_category: TaxCategory
    tariff_name: str
    tariff_key: str = ""
    yen_per_unit: int = 0


def billed_seconds(duration: Decimal | int) -> int:
    """Answer-to-end time rounded up to the whole second."""
    duration = Decimal(duration)
    if duration < 0:
        raise InvalidInput("duration", f"a call cannot last {duration} seconds")
    return int(duration.to_integral_value(rounding=ROUND_CEILING))


def units_for(seconds: int, unit_seconds: int) -> int:
    """Started units: ceil(seconds / unit), in integers (no float ever touches money)."""
    return -(-seconds // unit_seconds) if seconds > 0 else 0


def price(call_class: CallClass, duration: Decimal | int, tariff: Tariff) -> RatedCall:
    """Rate a call of ``duration`` seconds (answer to end) at ``tariff``."""
    seconds = billed_seconds(duration)
    units = units_for(seconds, tariff.unit_seconds)
    return RatedCall(
        call_class=call_class,
        billed_seconds=seconds,
        units=units,
        unit_seconds=tariff.unit_seconds,
        charge_yen=units * tariff.yen_per_unit,
        tax_category=tax_category_of(call_class),
        tariff_name=tariff.name,
        tariff_key=tariff.key,
        yen_per_unit=tariff.yen_per_unit,
    )


def rate_call(
    book: TariffBook,
    call_class: CallClass,
    number: str,
    answered_at: datetime | None,
    ended_at: datetime | None,
) -> RatedCall:
    """Rate a call from its class, normalised number and answer/end times.

    An unanswered call (no ``answered_at``) costs nothing.  The tariff is the
    one in force on the answer date in Asia/Tokyo; times must be aware.
    """
    if answered_at is None:
        return RatedCall(call_class, 0, 0, 0, 0, tax_category_of(call_class), "unanswered")
    if ended_at is None:
        raise InvalidInput("ended_at", "an answered call needs its end time to be rated")
    answer_day = billing_date(answered_at)
    billing_date(ended_at)  # refuses a naive end time before comparing
    if ended_at < answered_at:
        raise InvalidInput("ended_at", "a call cannot end before it is answered")
    delta = ended_at - answered_at
    duration = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6
    tariff = book.for_call(call_class, number, answer_day)
    return price(call_class, duration, tariff)
