"""Bank business days and the debit date (SPEC §4).

Banks close on Saturdays, Sundays, national holidays and 12-31 to 01-03
(銀行法施行令 第5条).  The national holidays (with 振替休日 and 国民の休日) come
from the ``holidays`` library; the year-end closure is the table below.  A
debit day that is not a business day moves forward to the next one.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays

from denwa.core.errors import InvalidInput
from denwa.core.timeutil import Month

YEAR_END_CLOSURE = frozenset({(12, 31), (1, 1), (1, 2), (1, 3)})
"""(month, day) on which banks are closed every year, whatever the weekday."""

SATURDAY = 5


@cache
def _national_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("JP", years=year, categories=(holidays.PUBLIC,)))


def is_bank_business_day(day: date) -> bool:
    """Whether banks are open on ``day``: a weekday, no national holiday, not 12-31 to 01-03."""
    return (
        day.weekday() < SATURDAY
        and (day.month, day.day) not in YEAR_END_CLOSURE
        and day not in _national_holidays(day.year)
    )


def next_business_day(day: date) -> date:
    """``day`` itself if banks are open, else the first business day after it."""
    while not is_bank_business_day(day):
        day += timedelta(days=1)
    return day


def debit_date(closed: Month, debit_day: int) -> date:
    """When the charges of ``closed`` are debited.

    The ``debit_day`` of the month after ``closed`` (the last day of that month
    if it is shorter), moved forward to the next bank business day; the move
    may cross into the following month (a 12-31 debit moves to 01-04 or later).
    """
    if not 1 <= debit_day <= 31:
        raise InvalidInput("debit day", f"{debit_day} is not a day of the month (1-31)")
    month = closed.next()
    nominal = date(month.year, month.month, min(debit_day, month.last_day.day))
    return next_business_day(nominal)
