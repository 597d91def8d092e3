"""Recording adjustments: corrections go on the next statement, never into a closed one."""

from __future__ import annotations

from datetime import date

from denwa.billing.models import Adjustment
from denwa.core.errors import InvalidInput
from denwa.subscribers.errors import ReasonRequired
from denwa.subscribers.services import find_contract


def record_adjustment(
    number: str,
    amount_yen: int,
    reason: str,
    effective: date,
    actor: str,
    tax_exempt: bool = False,
) -> Adjustment:
    """Record a correction of ``amount_yen`` (negative: a credit), tax-exclusive, with a reason.

    It is carried by the first statement closed for a month on or after ``effective``.
    """
    if not reason.strip():
        raise ReasonRequired("an adjustment")
    if amount_yen == 0:
        raise InvalidInput("amount_yen", "an adjustment of 0 yen changes nothing")
    contract = find_contract(number)
    return Adjustment.objects.create(
        contract=contract,
        amount_yen=amount_yen,
        reason=reason,
        effective=effective,
        created_by=actor,
        tax_exempt=tax_exempt,
    )
