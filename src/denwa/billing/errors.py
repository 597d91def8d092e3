"""Errors of the monthly close and statements."""

from __future__ import annotations

from denwa.core.errors import DenwaError


class BillingError(DenwaError):
    """Base of the billing services' errors."""

    code = "billing_error"


class MonthNotOver(BillingError):
    """A month can close only after its last day, 24:00 Asia/Tokyo."""

    code = "month_not_over"

    def __init__(self, month: str) -> None:
        super().__init__(f"{month} is not over yet: it closes after its last day 24:00 JST")
        self.month = month


class EarlierMonthOpen(BillingError):
    """Months close in order."""

    code = "earlier_month_open"

    def __init__(self, month: str, earlier: str) -> None:
        super().__init__(f"close {earlier} before {month}")
        self.month = month
        self.earlier = earlier


class NoStatement(BillingError):
    """No closed statement for this number and month."""

    code = "no_statement"

    def __init__(self, number: str, month: str) -> None:
        super().__init__(f"no closed statement for {number} in {month}")
        self.number = number
        self.month = month
