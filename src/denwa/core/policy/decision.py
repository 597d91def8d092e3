"""The call policy: one decision for every call attempt (SPEC §1, §2).

``decide`` takes a call request and answers *admit* (class, normalised number,
route, tariff, privacy) or *refuse* (SIP code, reason, announcement).  It runs
as a sequence of small named checks; the first that refuses wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Protocol

from denwa.core.contracts.lifecycle import State
from denwa.core.errors import NoTariff
from denwa.core.numbering.analysis import NumberAnalysis, analyse
from denwa.core.numbering.classes import CallClass, Direction, Privacy, Problem
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.policy.phs import PhsCarrier
from denwa.core.policy.refusals import RefusalReason, RefusalText
from denwa.core.rating.tariffs import Tariff


class Route(StrEnum):
    """Where an admitted call goes."""

    SUBSCRIBER = "subscriber"  # one of our registered TAs
    INTERCONNECT = "interconnect"  # the VoIP backbone gateways


@dataclass(frozen=True)
class Subscriber:
    """What the policy needs to know of one of our subscribers."""

    number: str
    state: State
    international_barred: bool = False


class Directory(Protocol):
    """Looks up our subscribers by 050 number (an in-memory snapshot in the call path)."""

    def find(self, number: str) -> Subscriber | None:
        """The subscriber holding ``number``, or None."""
        ...


@dataclass(frozen=True)
class CallRequest:
    """One call attempt as the policy sees it.

    Outbound: ``caller`` is our subscriber and ``dialled`` what they dialled.
    Inbound: ``dialled`` is our number, ``remote_number`` the calling party as
    the interconnect gave it (None when withheld) and ``caller_services`` the
    services the interconnect says the caller has (e.g. ``zenkoku_call``).
    """

    direction: Direction
    dialled: str
    on: date
    caller: Subscriber | None = None
    remote_number: str | None = None
    caller_services: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Admit:
    """The call may go ahead."""

    call_class: CallClass | None  # None: an inbound caller withheld their number
    number: str | None  # normalised: the callee outbound, the caller inbound
    route: Route
    tariff: Tariff | None  # None inbound: the callee pays nothing
    privacy: Privacy | None
    analysis: NumberAnalysis | None
    admitted: bool = True


@dataclass(frozen=True)
class Refuse:
    """The call is refused with ``text`` (SIP code, reason, announcement)."""

    reason: RefusalReason
    text: RefusalText
    call_class: CallClass | None
    number: str | None
    privacy: Privacy | None
    analysis: NumberAnalysis | None
    admitted: bool = False

    @property
    def sip_code(self) -> int:
        """The SIP response code to send."""
        return self.text.sip_code


Decision = Admit | Refuse


CALLER_STATE_REFUSALS: dict[State, RefusalReason] = {
    State.APPLIED: RefusalReason.CALLER_NOT_ACTIVE,
    State.SUSPENDED: RefusalReason.CALLER_SUSPENDED,
    State.STOPPED: RefusalReason.CALLER_STOPPED,
    State.TERMINATED: RefusalReason.CALLER_TERMINATED,
}
"""Only an active contract may call."""

CALLEE_STATE_REFUSALS: dict[State, RefusalReason] = {
    State.APPLIED: RefusalReason.CALLEE_NOT_ACTIVE,
    State.SUSPENDED: RefusalReason.CALLEE_SUSPENDED,
    State.STOPPED: RefusalReason.CALLEE_STOPPED,
    State.TERMINATED: RefusalReason.CALLEE_TERMINATED,
}
"""Only an active contract may be called."""

CLASS_REFUSALS: dict[CallClass, RefusalReason] = {
    CallClass.SPECIAL_3DIGIT: RefusalReason.SPECIAL_3DIGIT,
    CallClass.NON_GEOGRAPHIC: RefusalReason.NON_GEOGRAPHIC,
    CallClass.CARRIER_PREFIX: RefusalReason.CARRIER_PREFIX,
    CallClass.NO_AGREEMENT: RefusalReason.NO_AGREEMENT,
}
"""Classes outside the service (seed: 提供対象外), in both directions."""

PROBLEM_REFUSALS: dict[Problem, RefusalReason] = {
    Problem.EMPTY: RefusalReason.EMPTY,
    Problem.NOT_DIGITS: RefusalReason.NOT_DIGITS,
    Problem.INCOMPLETE: RefusalReason.INCOMPLETE,
    Problem.TOO_LONG: RefusalReason.TOO_LONG,
    Problem.LOCAL_DIALLING: RefusalReason.LOCAL_DIALLING,
    Problem.UNASSIGNED: RefusalReason.UNASSIGNED,
    Problem.UNKNOWN_COUNTRY: RefusalReason.UNKNOWN_COUNTRY,
}


class _Refused(Exception):
    """Internal: a check refused the call."""

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


def decide(
    request: CallRequest, data: OperatorData, directory: Directory | None = None
) -> Decision:
    """Admit or refuse one call attempt.

    ``directory`` finds our subscribers (the callee of an on-net or inbound
    call); without one, the callee's state is not checked (as when a support
    desk asks only how a number would be treated).
    """
    analysis: NumberAnalysis | None = None
    try:
        if request.direction is Direction.OUT:
            analysis = analyse(request.dialled, data.ranges)
            return _decide_outbound(request, analysis, data, directory)
        if request.remote_number is not None:
            analysis = analyse(request.remote_number, data.ranges)
        return _decide_inbound(request, analysis, data, directory)
    except _Refused as refused:
        return Refuse(
            reason=refused.reason,
            text=data.refusals[refused.reason],
            call_class=analysis.call_class if analysis else None,
            number=analysis.number if analysis else None,
            privacy=analysis.privacy if analysis else None,
            analysis=analysis,
        )


def _decide_outbound(
    request: CallRequest, analysis: NumberAnalysis, data: OperatorData, directory: Directory | None
) -> Decision:
    if request.caller is not None:
        _require_active(request.caller, CALLER_STATE_REFUSALS)
    _require_in_service(analysis)
    _require_phs_direction(
        analysis, data, lambda carrier: carrier.outbound, RefusalReason.PHS_OUTBOUND
    )
    _require_not_barred(request.caller, analysis)
    tariff = _tariff(analysis, data, request.on)
    assert analysis.number is not None  # every class in service has a number
    route = Route.INTERCONNECT
    if analysis.call_class is CallClass.ONNET:
        _require_reachable_callee(analysis.number, directory)
        route = Route.SUBSCRIBER
    return Admit(analysis.call_class, analysis.number, route, tariff, analysis.privacy, analysis)


def _decide_inbound(
    request: CallRequest,
    caller: NumberAnalysis | None,
    data: OperatorData,
    directory: Directory | None,
) -> Decision:
    callee = analyse(request.dialled, data.ranges)
    if callee.call_class is not CallClass.ONNET or callee.number is None:
        raise _Refused(RefusalReason.NOT_OUR_NUMBER)
    _require_reachable_callee(callee.number, directory)
    if caller is None:  # withheld caller ID: nothing to check
        return Admit(None, None, Route.SUBSCRIBER, None, None, None)
    if caller.call_class is CallClass.INVALID:
        raise _Refused(RefusalReason.CALLER_ID_INVALID)
    _require_in_service(caller)
    services = request.caller_services | data.phs_services_of(caller.number)
    _require_phs_direction(
        caller,
        data,
        lambda carrier: carrier.inbound.admits(services),
        RefusalReason.PHS_INBOUND,
    )
    return Admit(caller.call_class, caller.number, Route.SUBSCRIBER, None, None, caller)


def _require_active(subscriber: Subscriber, refusals: dict[State, RefusalReason]) -> None:
    reason = refusals.get(subscriber.state)
    if reason is not None:
        raise _Refused(reason)


def _require_in_service(analysis: NumberAnalysis) -> None:
    if analysis.is_emergency:
        raise _Refused(RefusalReason.EMERGENCY)
    if analysis.problem is not None:
        raise _Refused(PROBLEM_REFUSALS[analysis.problem])
    reason = CLASS_REFUSALS.get(analysis.call_class)
    if reason is not None:
        raise _Refused(reason)


def _require_phs_direction(
    analysis: NumberAnalysis,
    data: OperatorData,
    allowed: Callable[[PhsCarrier], bool],
    refusal: RefusalReason,
) -> None:
    if analysis.call_class is not CallClass.PHS:
        return
    entry = analysis.range_entry
    carrier = data.phs_carriers.get(entry.carrier or "") if entry else None
    if carrier is None or not allowed(carrier):
        raise _Refused(refusal)


def _require_not_barred(caller: Subscriber | None, analysis: NumberAnalysis) -> None:
    if (
        caller is not None
        and caller.international_barred
        and analysis.call_class is CallClass.INTERNATIONAL
    ):
        raise _Refused(RefusalReason.INTERNATIONAL_BARRED)


def _tariff(analysis: NumberAnalysis, data: OperatorData, on: date) -> Tariff:
    assert analysis.number is not None
    try:
        return data.tariffs.for_call(analysis.call_class, analysis.number, on)
    except NoTariff:
        raise _Refused(RefusalReason.NO_TARIFF) from None


def _require_reachable_callee(number: str, directory: Directory | None) -> None:
    if directory is None:
        return
    callee = directory.find(number)
    if callee is None:
        raise _Refused(RefusalReason.CALLEE_UNKNOWN)
    _require_active(callee, CALLEE_STATE_REFUSALS)
