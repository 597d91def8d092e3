"""Support services: the personal-data provision record (SPEC §6), inquiries and replies."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from denwa.core.errors import InvalidInput
from denwa.subscribers.errors import ReasonRequired
from denwa.subscribers.models import Contract
from denwa.subscribers.services import find_contract
from denwa.support.models import DataProvision, Inquiry, InquiryReply


def record_provision(
    number: str,
    recipient: str,
    items: str,
    purpose: str,
    provided_at: datetime,
    actor: str,
    recipient_detail: str = "",
) -> DataProvision:
    """Record that a subscriber's data was given to NTT Com or a support contractor."""
    if recipient not in DataProvision.Recipient.values:
        allowed = ", ".join(DataProvision.Recipient.values)
        raise ReasonRequired(f"a provision to one of {allowed}")
    if not items.strip():
        raise ReasonRequired("a provision record (what was given)")
    if not purpose.strip():
        raise ReasonRequired("a provision record (why)")
    return DataProvision.objects.create(
        contract=find_contract(number),
        recipient=recipient,
        recipient_detail=recipient_detail,
        items=items,
        purpose=purpose,
        provided_at=provided_at,
        recorded_by=actor,
    )


@transaction.atomic
def reply_to_inquiry(inquiry: Inquiry, body: str, actor: str) -> InquiryReply:
    """An operator answers an inquiry; it is marked answered."""
    if not body.strip():
        raise ReasonRequired("a reply (its text)")
    reply = InquiryReply.objects.create(inquiry=inquiry, body=body, author=actor)
    inquiry.status = Inquiry.Status.ANSWERED
    inquiry.save(update_fields=["status"])
    return reply


def submit_inquiry(contract: Contract, subject: str, body: str) -> Inquiry:
    """A subscriber's question from the web page; it waits for an operator's reply."""
    if not subject.strip():
        raise InvalidInput("subject", "an inquiry needs a subject")
    if not body.strip():
        raise InvalidInput("body", "an inquiry needs a message")
    return Inquiry.objects.create(contract=contract, subject=subject.strip(), body=body.strip())
