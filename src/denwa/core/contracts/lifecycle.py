"""The contract lifecycle (SPEC §2) as a transition table.

applied → active → suspended (一時停止) → active;
active/suspended → stopped (提供停止) → active; any → terminated (契約解除).
"""

from __future__ import annotations

from enum import StrEnum

from denwa.core.errors import IllegalTransition


class State(StrEnum):
    """Where a phone contract is in its life."""

    APPLIED = "applied"
    ACTIVE = "active"
    SUSPENDED = "suspended"  # 一時停止, operator-approved, at most 6 months
    STOPPED = "stopped"  # 提供停止, for a violation; can neither call nor be called
    TERMINATED = "terminated"  # 契約解除; final


class Event(StrEnum):
    """What moves a contract from one state to another."""

    ACTIVATE = "activate"
    SUSPEND = "suspend"
    RESUME = "resume"
    STOP = "stop"
    TERMINATE = "terminate"


TRANSITIONS: dict[tuple[State, State], Event] = {
    (State.APPLIED, State.ACTIVE): Event.ACTIVATE,
    (State.ACTIVE, State.SUSPENDED): Event.SUSPEND,
    (State.SUSPENDED, State.ACTIVE): Event.RESUME,
    (State.ACTIVE, State.STOPPED): Event.STOP,
    (State.SUSPENDED, State.STOPPED): Event.STOP,
    (State.STOPPED, State.ACTIVE): Event.RESUME,
    (State.APPLIED, State.TERMINATED): Event.TERMINATE,
    (State.ACTIVE, State.TERMINATED): Event.TERMINATE,
    (State.SUSPENDED, State.TERMINATED): Event.TERMINATE,
    (State.STOPPED, State.TERMINATED): Event.TERMINATE,
}
"""(from, to) → the event that makes that move; anything absent is illegal."""

EVENTS_CHARGING_REACTIVATION = frozenset({Event.RESUME})
"""再開登録料 is charged for each resumption, from a suspension or a stop."""


def transition(current: State, target: State) -> Event:
    """The event that moves a contract from ``current`` to ``target``.

    Raises ``IllegalTransition`` (carrying both states) when the table has no
    such move.
    """
    event = TRANSITIONS.get((current, target))
    if event is None:
        raise IllegalTransition(current.value, target.value)
    return event


def apply(current: State, event: Event) -> State:
    """The state ``event`` leads to from ``current``, or ``IllegalTransition``."""
    for (from_state, to_state), table_event in TRANSITIONS.items():
        if from_state is current and table_event is event:
            return to_state
    raise IllegalTransition(current.value, _target_of(event), event.value)


def _target_of(event: Event) -> str:
    targets = {to for (_, to), e in TRANSITIONS.items() if e is event}
    return "/".join(sorted(t.value for t in targets))
