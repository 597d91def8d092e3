"""Subscriber operations: every state change goes through the core's transition table.

Each function is one operator action (from the console, the CLI or the ISP
event API): it checks with the core, records who/when/why, and either does
all of its work or none of it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from denwa.core.contracts.charges import Collection, ContractTerms, DateRange, check_suspension
from denwa.core.contracts.fees import BillingRules, Fee
from denwa.core.contracts.history import StateChange, terms_from_history
from denwa.core.contracts.lifecycle import State, transition
from denwa.core.errors import InvalidInput
from denwa.core.numbering import CallClass, analyse
from denwa.core.operator_data.bundle import OperatorData
from denwa.subscribers.errors import (
    EquipmentError,
    NumberNotOurs,
    NumberTaken,
    ReasonRequired,
    SubscriberError,
    UnknownIspAccount,
    UnknownSubscriber,
)
from denwa.subscribers.models import (
    Contract,
    ContractEvent,
    IspAccount,
    Rental,
    Suspension,
    TerminalAdapter,
)

DEFAULT_REALM = "denwa.local"


def sip_ha1(number: str, realm: str, password: str) -> str:
    """SIP digest HA1 = MD5(user:realm:password); the only form a SIP password is kept in."""
    return hashlib.md5(f"{number}:{realm}:{password}".encode()).hexdigest()


def find_contract(number: str, *, for_update: bool = False) -> Contract:
    """The contract holding ``number`` (locked when ``for_update``)."""
    query = Contract.objects.select_for_update() if for_update else Contract.objects
    try:
        return query.get(number=number)
    except Contract.DoesNotExist:
        raise UnknownSubscriber(number) from None


@dataclass(frozen=True)
class NewSubscriber:
    """A contract just added, and the SIP password to hand to the subscriber."""

    contract: Contract
    sip_password: str


@transaction.atomic
def add_subscriber(
    data: OperatorData,
    number: str,
    isp_account_id: str,
    start: date,
    actor: str,
    password: str | None = None,
    isp_name: str | None = None,
) -> NewSubscriber:
    """Open a contract on one of our 050 numbers, active from ``start``.

    The ISP account is created (active) if the ISP's system has not reported it
    yet; a cancelled or suspended one refuses.
    """
    analysis = analyse(number, data.ranges)
    if analysis.call_class is not CallClass.ONNET or analysis.number != number:
        raise NumberNotOurs(number, analysis.call_class.value)
    if Contract.objects.filter(number=number).exists():
        raise NumberTaken(number)
    account, _ = IspAccount.objects.get_or_create(
        account_id=isp_account_id, defaults={"name": isp_name or isp_account_id}
    )
    if account.status != IspAccount.Status.ACTIVE:
        raise SubscriberError(
            f"ISP account {isp_account_id} is {account.status}: "
            "a phone contract needs an active one"
        )
    sip_password = password or secrets.token_urlsafe(12)
    contract = Contract.objects.create(
        number=number,
        isp_account=account,
        state=State.APPLIED.value,
        applied_on=start,
        sip_realm=DEFAULT_REALM,
        sip_ha1=sip_ha1(number, DEFAULT_REALM, sip_password),
    )
    _move(contract, State.ACTIVE, start, "service start", actor)
    return NewSubscriber(contract, sip_password)


@transaction.atomic
def suspend(
    number: str, first: date, last: date, reason: str, actor: str, rules: BillingRules
) -> Suspension:
    """Approve a suspension (一時停止) from ``first`` to ``last`` inclusive, with a reason."""
    if not reason.strip():
        raise ReasonRequired("a suspension")
    period = DateRange(first, last)
    check_suspension(period, rules)
    contract = find_contract(number, for_update=True)
    _move(contract, State.SUSPENDED, first, reason, actor)
    return Suspension.objects.create(
        contract=contract, first_day=first, last_day=last, reason=reason, approved_by=actor
    )


@transaction.atomic
def resume(number: str, on: date, actor: str, reason: str = "resumed") -> ContractEvent:
    """Put a suspended or stopped line back in service from ``on`` (再開登録料 is charged)."""
    contract = find_contract(number, for_update=True)
    event = _move(contract, State.ACTIVE, on, reason, actor)
    Suspension.objects.filter(contract=contract, resumed_on__isnull=True).update(resumed_on=on)
    return event


@transaction.atomic
def stop(number: str, on: date, reason: str, actor: str) -> ContractEvent:
    """Stop service (提供停止) from ``on``: the line can neither call nor be called."""
    if not reason.strip():
        raise ReasonRequired("a stop")
    return _move(find_contract(number, for_update=True), State.STOPPED, on, reason, actor)


@transaction.atomic
def terminate(
    number: str,
    on: date,
    actor: str,
    reason: str = "",
    waive_early: bool = False,
) -> ContractEvent:
    """Terminate (契約解除) on ``on``; the early charge applies unless waived with a reason."""
    if waive_early and not reason.strip():
        raise ReasonRequired("waiving the early-termination charge")
    contract = find_contract(number, for_update=True)
    event = _move(contract, State.TERMINATED, on, reason or "terminated", actor)
    if waive_early:
        contract.early_charge_waived = True
        contract.waiver_reason = reason
        contract.save(update_fields=["early_charge_waived", "waiver_reason", "updated_at"])
    return event


ISP_EVENTS = {
    "cancelled": IspAccount.Status.CANCELLED,
    "suspended": IspAccount.Status.SUSPENDED,
}
"""What the ISP's system may report; either ends the phone contracts (SPEC §2)."""


@dataclass(frozen=True)
class IspEventResult:
    """What an ISP event changed: the account's status and the contracts it terminated."""

    account_id: str
    status: str
    changed: bool
    terminated: tuple[str, ...]


@transaction.atomic
def apply_isp_event(account_id: str, kind: str, on: date, actor: str) -> IspEventResult:
    """The ISP account was cancelled or suspended: terminate its phone contracts.

    The same event twice changes nothing the second time.
    """
    if kind not in ISP_EVENTS:
        raise InvalidInput("event", f"must be one of {', '.join(ISP_EVENTS)}, not {kind!r}")
    try:
        account = IspAccount.objects.select_for_update().get(account_id=account_id)
    except IspAccount.DoesNotExist:
        raise UnknownIspAccount(account_id) from None
    status = ISP_EVENTS[kind]
    changed = account.status != status
    if changed:
        account.status = status
        account.status_changed_at = timezone.now()
        account.save(update_fields=["status", "status_changed_at"])
    terminated = []
    reason = f"ISP contract {kind} (KCT-Net {kind}): automatic termination"
    for contract in account.contracts.select_for_update().exclude(state=State.TERMINATED.value):
        last = _last_effective(contract)
        _move(contract, State.TERMINATED, max(on, last) if last else on, reason, actor)
        terminated.append(contract.number)
    return IspEventResult(account_id, status, changed or bool(terminated), tuple(terminated))


@transaction.atomic
def assign_ta(number: str, serial: str, on: date, actor: str) -> Rental:
    """Hand a TA from stock to a contract (rental from ``on``)."""
    contract = find_contract(number, for_update=True)
    if contract.state == State.TERMINATED.value:
        raise EquipmentError(f"{number} is terminated: no TA can be rented to it")
    try:
        ta = TerminalAdapter.objects.select_for_update().get(serial=serial)
    except TerminalAdapter.DoesNotExist:
        raise EquipmentError(f"no TA with serial {serial}") from None
    if ta.status != TerminalAdapter.Status.IN_STOCK:
        raise EquipmentError(f"TA {serial} is {ta.status}, not in stock")
    if contract.rentals.filter(last_day__isnull=True).exists():
        raise EquipmentError(f"{number} already has a TA; return it first")
    ta.status = TerminalAdapter.Status.RENTED
    ta.save(update_fields=["status"])
    return Rental.objects.create(ta=ta, contract=contract, first_day=on)


@transaction.atomic
def return_ta(
    serial: str, on: date, actor: str, collected: bool = False, fee_yen: int | None = None
) -> Rental:
    """The TA came back (returned by the subscriber, or collected by the ISP for a fee)."""
    try:
        rental = Rental.objects.select_for_update().get(ta__serial=serial, last_day__isnull=True)
    except Rental.DoesNotExist:
        raise EquipmentError(f"TA {serial} is not rented out") from None
    if on < rental.first_day:
        raise EquipmentError(f"TA {serial} was rented from {rental.first_day}, after {on}")
    if fee_yen is not None and fee_yen < 0:
        raise EquipmentError("a collection fee cannot be negative")
    rental.last_day = on
    rental.collected = collected
    rental.collection_fee_yen = fee_yen if collected else None
    rental.save()
    TerminalAdapter.objects.filter(pk=rental.ta_id).update(status=TerminalAdapter.Status.IN_STOCK)
    return rental


def contract_terms(contract: Contract, data: OperatorData) -> ContractTerms:
    """The contract's history as the terms its monthly charges depend on."""
    return terms_for(
        contract,
        list(contract.events.all()),
        list(contract.rentals.all()),
        data,
    )


def terms_for(
    contract: Contract,
    events: Iterable[ContractEvent],
    rentals: Iterable[Rental],
    data: OperatorData,
) -> ContractTerms:
    """Build terms from already-fetched events and rentals (the close fetches them in bulk)."""
    changes = [StateChange(e.effective, State(e.to_state)) for e in events]
    rental_list = list(rentals)
    periods = [DateRange(r.first_day, r.last_day) for r in rental_list]
    collections = [
        Collection(
            r.last_day,
            r.collection_fee_yen
            if r.collection_fee_yen is not None
            else data.fees.amount(Fee.TA_COLLECTION, r.last_day),
        )
        for r in rental_list
        if r.collected and r.last_day is not None
    ]
    return terms_from_history(
        changes,
        rentals=periods,
        collections=collections,
        early_charge_waived=contract.early_charge_waived,
        waiver_reason=contract.waiver_reason,
    )


def _move(
    contract: Contract, target: State, effective: date, reason: str, actor: str
) -> ContractEvent:
    current = State(contract.state)
    event = transition(current, target)
    last = _last_effective(contract)
    if last is not None and effective < last:
        raise InvalidInput("date", f"{effective} is before the contract's last change on {last}")
    record = ContractEvent.objects.create(
        contract=contract,
        event=event.value,
        from_state=current.value,
        to_state=target.value,
        effective=effective,
        reason=reason,
        actor=actor,
    )
    contract.state = target.value
    if target is State.ACTIVE and contract.start_date is None:
        contract.start_date = effective
    if target is State.TERMINATED:
        contract.end_date = effective
    contract.save(update_fields=["state", "start_date", "end_date", "updated_at"])
    return record


def _last_effective(contract: Contract) -> date | None:
    return contract.events.order_by("-effective", "-id").values_list("effective", flat=True).first()
