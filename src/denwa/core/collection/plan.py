"""Which contracts a month's request file debits, for how much, and which are left out (why).

Per contract: the amount is the month's statement total plus the unpaid
amounts carried over from earlier debits.  Nothing is requested when that is
0 or less, or when the contract has no mandate (a warning for the operator).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from denwa.core.collection.files import DebitRecord, customer_number
from denwa.core.collection.mandate import Mandate
from denwa.core.collection.results import debit_amount


class NewCode(StrEnum):
    """新規コード of a data record."""

    FIRST = "1"  # the first debit from this account
    CHANGED = "2"  # the account changed since the last debit
    OTHER = "0"


def new_code(mandate: Mandate, last_requested: Mandate | None, enabled: bool = True) -> NewCode:
    """1 for a contract's first debit, 2 when its account changed since the last, else 0.

    Banks that do not use the field get 0 throughout (``enabled`` false).
    """
    if not enabled:
        return NewCode.OTHER
    if last_requested is None:
        return NewCode.FIRST
    same = (
        mandate.bank_code,
        mandate.branch_code,
        mandate.account_type,
        mandate.account_number,
    ) == (
        last_requested.bank_code,
        last_requested.branch_code,
        last_requested.account_type,
        last_requested.account_number,
    )
    return NewCode.OTHER if same else NewCode.CHANGED


@dataclass(frozen=True)
class Charge:
    """A closed statement's amount that a debit may collect."""

    statement_id: int
    month: str
    total_yen: int


@dataclass(frozen=True)
class Due:
    """What one contract owes at an export: this month's statement and the unpaid ones."""

    contract_id: int
    label: str  # how the operator knows the contract (its 050 number)
    statement: Charge | None
    carried: tuple[Charge, ...]
    mandate: Mandate | None
    last_requested: Mandate | None


@dataclass(frozen=True)
class Planned:
    """A debit to request, and the statements it collects."""

    contract_id: int
    record: DebitRecord
    statement: Charge | None
    carried: tuple[Charge, ...]


class SkipReason(StrEnum):
    """Why a contract that owes something is not in the file."""

    NO_MANDATE = "no_mandate"


@dataclass(frozen=True)
class Skipped:
    """A contract with an amount due but no debit: the operator's warning."""

    contract_id: int
    label: str
    amount_yen: int
    reason: SkipReason

    @property
    def message(self) -> str:
        """One line for the operator."""
        return f"{self.label}: no debit mandate; {self.amount_yen:,} yen not requested"


def plan_debits(
    dues: Iterable[Due], digits: int, use_new_code: bool = True
) -> tuple[list[Planned], list[Skipped]]:
    """The debits to request (ordered by customer number) and the contracts left out with a due.

    A contract whose amount is 0 or less is neither requested nor warned about.
    """
    planned: list[Planned] = []
    skipped: list[Skipped] = []
    for due in dues:
        total = due.statement.total_yen if due.statement else None
        amount = debit_amount(total, (charge.total_yen for charge in due.carried))
        if amount <= 0:
            continue
        if due.mandate is None:
            skipped.append(Skipped(due.contract_id, due.label, amount, SkipReason.NO_MANDATE))
            continue
        record = DebitRecord(
            customer_number=customer_number(due.contract_id, digits),
            mandate=due.mandate,
            amount_yen=amount,
            new_code=new_code(due.mandate, due.last_requested, use_new_code).value,
        )
        planned.append(Planned(due.contract_id, record, due.statement, due.carried))
    planned.sort(key=lambda p: p.record.customer_number)
    skipped.sort(key=lambda s: s.label)
    return planned, skipped


def statements_of(planned: Sequence[Planned]) -> list[tuple[int, Charge, bool]]:
    """(contract id, statement, carried over?) for every statement the planned debits collect."""
    return [
        (p.contract_id, charge, carried)
        for p in planned
        for charge, carried in (
            *(((p.statement, False),) if p.statement else ()),
            *((c, True) for c in p.carried),
        )
    ]
