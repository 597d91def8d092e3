"""The contract lifecycle (SPEC §2): the transition table, written out by hand.

applied → active → suspended → active; active/suspended → stopped → active;
any → terminated.  Everything else is illegal.
"""

from __future__ import annotations

from itertools import product

import pytest

from denwa.core.contracts.lifecycle import (
    EVENTS_CHARGING_REACTIVATION,
    Event,
    State,
    apply,
    transition,
)
from denwa.core.errors import IllegalTransition

pytestmark = pytest.mark.unit

APPLIED, ACTIVE, SUSPENDED, STOPPED, TERMINATED = (
    State.APPLIED,
    State.ACTIVE,
    State.SUSPENDED,
    State.STOPPED,
    State.TERMINATED,
)

LEGAL: dict[tuple[State, State], Event] = {
    (APPLIED, ACTIVE): Event.ACTIVATE,
    (ACTIVE, SUSPENDED): Event.SUSPEND,
    (SUSPENDED, ACTIVE): Event.RESUME,
    (ACTIVE, STOPPED): Event.STOP,
    (SUSPENDED, STOPPED): Event.STOP,
    (STOPPED, ACTIVE): Event.RESUME,
    (APPLIED, TERMINATED): Event.TERMINATE,
    (ACTIVE, TERMINATED): Event.TERMINATE,
    (SUSPENDED, TERMINATED): Event.TERMINATE,
    (STOPPED, TERMINATED): Event.TERMINATE,
}
"""SPEC §2's moves.  Terminated is final: not even terminated → terminated."""

ILLEGAL = [pair for pair in product(State, State) if pair not in LEGAL]

TARGET_OF_EVENT = {
    Event.ACTIVATE: ACTIVE,
    Event.SUSPEND: SUSPENDED,
    Event.RESUME: ACTIVE,
    Event.STOP: STOPPED,
    Event.TERMINATE: TERMINATED,
}

LEGAL_BY_EVENT = {(current, event): target for (current, target), event in LEGAL.items()}
ILLEGAL_BY_EVENT = [pair for pair in product(State, Event) if pair not in LEGAL_BY_EVENT]


def _move_id(pair: tuple[State, State]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def _event_id(pair: tuple[State, Event]) -> str:
    return f"{pair[0].value}+{pair[1].value}"


def test_the_table_has_ten_legal_moves_and_fifteen_illegal_pairs() -> None:
    assert len(LEGAL) == 10
    assert len(ILLEGAL) == 15


@pytest.mark.parametrize(
    ("move", "event"), list(LEGAL.items()), ids=[_move_id(move) for move in LEGAL]
)
def test_a_legal_move_returns_its_event(move: tuple[State, State], event: Event) -> None:
    assert transition(*move) is event


@pytest.mark.parametrize("move", ILLEGAL, ids=[_move_id(move) for move in ILLEGAL])
def test_an_illegal_move_raises_with_both_states(move: tuple[State, State]) -> None:
    current, target = move
    with pytest.raises(IllegalTransition) as raised:
        transition(current, target)
    assert raised.value.from_state == current.value
    assert raised.value.to_state == target.value
    assert raised.value.code == "illegal_transition"


@pytest.mark.parametrize(
    ("start", "target"),
    list(LEGAL_BY_EVENT.items()),
    ids=[_event_id(pair) for pair in LEGAL_BY_EVENT],
)
def test_applying_a_legal_event_leads_to_its_state(
    start: tuple[State, Event], target: State
) -> None:
    assert apply(*start) is target


@pytest.mark.parametrize("start", ILLEGAL_BY_EVENT, ids=[_event_id(p) for p in ILLEGAL_BY_EVENT])
def test_applying_an_illegal_event_raises_with_the_state_and_the_event(
    start: tuple[State, Event],
) -> None:
    current, event = start
    with pytest.raises(IllegalTransition) as raised:
        apply(current, event)
    assert raised.value.from_state == current.value
    assert raised.value.to_state == TARGET_OF_EVENT[event].value
    assert raised.value.event == event.value


def test_a_terminated_contract_cannot_be_revived_by_any_event() -> None:
    for event in Event:
        with pytest.raises(IllegalTransition):
            apply(TERMINATED, event)


def test_resuming_from_a_suspension_or_a_stop_charges_the_reactivation_fee() -> None:
    assert transition(SUSPENDED, ACTIVE) in EVENTS_CHARGING_REACTIVATION
    assert transition(STOPPED, ACTIVE) in EVENTS_CHARGING_REACTIVATION
    assert transition(APPLIED, ACTIVE) not in EVENTS_CHARGING_REACTIVATION
