"""The debit (口座振替) status shown next to each statement, from the collection app.

``denwa.collection`` (issue 6) knows which debit asked for a statement and
what the bank answered; the portal shows its status and words as they are
(paid, unpaid with the reason, carried over, requested, not yet requested).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import get_language

from denwa.billing.models import Statement
from denwa.collection.services import debit_statuses
from denwa.core.collection.status import DebitStatus


def statuses(statements: Iterable[Statement]) -> dict[int, DebitStatus]:
    """The debit status of each statement, by statement id (one query for them all)."""
    return debit_statuses(statements)


def debit_label(status: DebitStatus) -> str:
    """A debit status in words, in the request's language."""
    return status.label(get_language() or "ja")
