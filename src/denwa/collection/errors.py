"""Errors of the collection services; each carries its data and a stable code.

The core's ``CollectionError`` is the base, so ``InvalidField`` (a mandate or
setting that does not fit) and ``ZenginFileError`` (a result file refused with
record and byte) belong to the same hierarchy.
"""

from __future__ import annotations

from datetime import date

from denwa.core.collection.errors import CollectionError


class MonthNotClosed(CollectionError):
    """Only a closed month's statements can be debited."""

    code = "month_not_closed"

    def __init__(self, month: str) -> None:
        super().__init__(f"{month} is not closed: close it (denwa bill close {month}) first")
        self.month = month


class ExportOutOfOrder(CollectionError):
    """Months are exported in order, so no statement is left behind."""

    code = "export_out_of_order"

    def __init__(self, month: str, problem: str) -> None:
        super().__init__(f"{month}: {problem}")
        self.month = month
        self.problem = problem


class ResultPending(CollectionError):
    """The previous run's result is not imported: its unpaid amounts are not known yet."""

    code = "result_pending"

    def __init__(self, month: str, pending: str, debit_date: date) -> None:
        super().__init__(
            f"{month}: the result of {pending}'s debit ({debit_date}) is not imported yet;"
            " import it first (denwa debit import FILE), or its unpaid amounts would be lost"
        )
        self.month = month
        self.pending = pending
        self.debit_date = debit_date


class ExportedWithAnotherDate(CollectionError):
    """A month exported once is exported again only as it was."""

    code = "exported_with_another_date"

    def __init__(self, month: str, exported: date, asked: date) -> None:
        super().__init__(
            f"{month} was exported for a debit on {exported}, not {asked}:"
            " the file sent to the bank is not changed"
        )
        self.month = month
        self.exported = exported
        self.asked = asked


class MandateUnusable(CollectionError):
    """A stored mandate does not pass the checks (entered before them, or settings changed)."""

    code = "mandate_unusable"

    def __init__(self, number: str, message: str) -> None:
        super().__init__(f"{number}: the debit mandate cannot be used: {message}")
        self.number = number


class StopListEntryClosed(CollectionError):
    """A stop list entry already cleared."""

    code = "stop_list_entry_closed"

    def __init__(self, number: str) -> None:
        super().__init__(f"{number} is no longer on the stop list")
        self.number = number
