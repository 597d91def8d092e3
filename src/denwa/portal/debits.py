"""The debit (口座振替) status shown next to each statement.

Collection by bank direct debit is its own app (issue 6).  Until it reports a
statement's status, every statement reads "not yet requested".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import pgettext_lazy

from denwa.billing.models import Statement

NOT_REQUESTED = "not_requested"
DEBIT_LABELS: dict[str, Any] = {
    NOT_REQUESTED: pgettext_lazy("debit status", "not yet requested"),
    "requested": pgettext_lazy("debit status", "debit requested"),
    "paid": pgettext_lazy("debit status", "paid"),
    "unpaid": pgettext_lazy("debit status", "unpaid"),
    "carried_over": pgettext_lazy("debit status", "carried over to the next debit"),
}
"""Each debit status the page knows, in words."""


def statuses(statements: Iterable[Statement]) -> dict[int, str]:
    """The debit status of each statement, by statement id."""
    return {statement.pk: NOT_REQUESTED for statement in statements}


def debit_label(status: str) -> str:
    """A debit status in words (an unknown one as it is)."""
    label = DEBIT_LABELS.get(status)
    return status if label is None else str(label)
