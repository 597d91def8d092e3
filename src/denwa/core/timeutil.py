"""Billing time: Asia/Tokyo dates and calendar months.

A call belongs to the month (and the tax rate) of its answer time in
Asia/Tokyo, whatever offset its record carries.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from denwa.core.errors import InvalidInput

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo_today() -> date:
    """Today's date in Asia/Tokyo (the default "as of" of operator commands)."""
    return datetime.now(TOKYO).date()


def billing_date(moment: datetime) -> date:
    """The Asia/Tokyo calendar date of an aware ``moment``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("time", f"{moment.isoformat()} has no UTC offset")
    return moment.astimezone(TOKYO).date()


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise InvalidInput("date", f"{day} moved by {months} months leaves the calendar")
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, the unit of the monthly close."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise InvalidInput("month", f"{self.year:04d}-{self.month:02d} is not a month")

    @classmethod
    def of(cls, day: date) -> Month:
        """The month ``day`` falls in."""
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse ``YYYY-MM``."""
        try:
            year, month = (int(part) for part in text.split("-"))
        except ValueError:
            raise InvalidInput("month", f"{text!r} is not YYYY-MM") from None
        if len(text) != 7:
            raise InvalidInput("month", f"{text!r} is not YYYY-MM")
        return cls(year, month)

    @property
    def first_day(self) -> date:
        """The 1st of the month."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The last calendar day of the month."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def days(self) -> range:
        """The day numbers of the month (1 … last)."""
        return range(1, self.last_day.day + 1)

    def next(self) -> Month:
        """The following month."""
        return Month.of(self.last_day + timedelta(days=1))

    def previous(self) -> Month:
        """The preceding month."""
        return Month.of(self.first_day - timedelta(days=1))

    def start(self) -> datetime:
        """Midnight opening the month in Asia/Tokyo."""
        return datetime(self.year, self.month, 1, tzinfo=TOKYO)

    def end(self) -> datetime:
        """Midnight closing the month (24:00 of its last day) in Asia/Tokyo."""
        return self.next().start()

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
