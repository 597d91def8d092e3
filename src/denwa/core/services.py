"""Use cases the entry points call: one function per question an operator asks.

Each takes the operator data snapshot and plain values, and returns plain
results; the CLI, the web side and the SIP routing turn those into output.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from denwa.core.contracts.charges import ContractTerms, monthly_charges
from denwa.core.contracts.lifecycle import State
from denwa.core.errors import InvalidInput
from denwa.core.numbering.classes import CallClass, Direction
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.policy.decision import Admit, CallRequest, Decision, Subscriber, decide
from denwa.core.rating.calls import RatedCall, price
from denwa.core.rating.tax import ChargeLine, StatementTotals, statement_totals
from denwa.core.timeutil import Month

ENQUIRY_CALLER = Subscriber(number="", state=State.ACTIVE, international_barred=False)
"""An active, unbarred subscriber: the caller a "how would this number go?" question assumes."""


def classify_number(
    data: OperatorData,
    number: str,
    on: date,
    direction: Direction = Direction.OUT,
    our_number: str | None = None,
) -> Decision:
    """How a call with ``number`` would be treated, for an active unbarred subscriber.

    Outbound, ``number`` is dialled; inbound, it is the calling party and
    ``our_number`` (default: the first number of our first block) is called.
    """
    if direction is Direction.OUT:
        request = CallRequest(Direction.OUT, number, on, caller=ENQUIRY_CALLER)
    else:
        request = CallRequest(
            Direction.IN, our_number or first_own_number(data), on, remote_number=number
        )
    return decide(request, data)


def first_own_number(data: OperatorData) -> str:
    """The lowest number of our lowest own block (for examples and enquiries)."""
    own = sorted(e.prefix for e in data.ranges.entries.values() if e.call_class is CallClass.ONNET)
    if not own:
        raise InvalidInput("own_ranges", "the operator data has no own 050 block")
    return own[0].ljust(11, "0")


@dataclass(frozen=True)
class CallQuote:
    """A call's price, with the decision that admitted it."""

    decision: Admit
    rated: RatedCall


def quote_call(data: OperatorData, number: str, seconds: Decimal, on: date) -> CallQuote:
    """The tax-exclusive charge of an answered call of ``seconds`` to ``number`` on ``on``."""
    decision = classify_number(data, number, on)
    if not isinstance(decision, Admit):
        raise InvalidInput(
            "number",
            f"{number} cannot be called ({decision.reason.value}: {decision.text.reason_en})",
        )
    assert decision.tariff is not None
    assert decision.call_class is not None
    return CallQuote(decision, price(decision.call_class, seconds, decision.tariff))


@dataclass(frozen=True)
class MonthCharges:
    """A contract's fixed charges for one month, with tax."""

    month: Month
    lines: list[ChargeLine]
    totals: StatementTotals
    tax_rate: Decimal


def month_charges(data: OperatorData, terms: ContractTerms, month: Month) -> MonthCharges:
    """The fixed charges of ``terms`` for ``month`` and their tax, as a statement would show."""
    lines = monthly_charges(terms, month, data.fees, data.rules)
    return MonthCharges(
        month=month,
        lines=lines,
        totals=statement_totals(lines, data.taxes),
        tax_rate=data.taxes.rate_on(month.first_day),
    )
