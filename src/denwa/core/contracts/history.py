"""From a contract's state history to the terms its charges depend on.

The database keeps every state change (who, when, why); the charges need
periods: the start, the end, suspensions and stops.  This module is that
translation, so the monthly close and the support desk agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from denwa.core.contracts.charges import Collection, ContractTerms, DateRange
from denwa.core.contracts.lifecycle import State, transition
from denwa.core.errors import InvalidInput


@dataclass(frozen=True)
class StateChange:
    """The contract entered ``state`` on ``effective`` (the first day in that state)."""

    effective: date
    state: State


def terms_from_history(
    changes: Sequence[StateChange],
    rentals: Iterable[DateRange] | None = None,
    collections: Iterable[Collection] = (),
    early_charge_waived: bool = False,
    waiver_reason: str = "",
) -> ContractTerms:
    """Build ``ContractTerms`` from state changes in order (applied first, if recorded).

    Every move is checked against the lifecycle table; a history that was never
    active has no terms (``InvalidInput``).
    """
    start: date | None = None
    end: date | None = None
    suspensions: list[DateRange] = []
    stops: list[DateRange] = []
    current = State.APPLIED
    opened: date | None = None  # first day of the running suspension or stop
    for change in changes:
        if change.state is current:
            continue
        transition(current, change.state)
        if current in (State.SUSPENDED, State.STOPPED) and opened is not None:
            period = DateRange(opened, change.effective - timedelta(days=1))
            (suspensions if current is State.SUSPENDED else stops).append(period)
        if change.state is State.ACTIVE and start is None:
            start = change.effective
        if change.state in (State.SUSPENDED, State.STOPPED):
            opened = change.effective
        if change.state is State.TERMINATED:
            end = change.effective
        current = change.state
    if start is None:
        raise InvalidInput("history", "the contract was never active")
    if current in (State.SUSPENDED, State.STOPPED) and opened is not None:
        (suspensions if current is State.SUSPENDED else stops).append(DateRange(opened, None))
    return ContractTerms(
        start=start,
        end=end,
        suspensions=tuple(suspensions),
        stops=tuple(stops),
        rentals=tuple(rentals) if rentals is not None else None,
        collections=tuple(collections),
        early_charge_waived=early_charge_waived,
        waiver_reason=waiver_reason,
    )
