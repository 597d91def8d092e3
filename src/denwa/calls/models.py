"""The call detail record: one row per call attempt, answered or not."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from denwa.core.numbering.classes import CallClass
from denwa.subscribers.models import Contract

CLASS_CHOICES = [(c.value, c.value) for c in CallClass]


class Disposition(models.TextChoices):
    """How a call attempt ended."""

    ANSWERED = "answered", _("answered")
    BUSY = "busy", _("busy")
    NO_ANSWER = "no_answer", _("no answer")
    CANCELLED = "cancelled", _("cancelled by the caller")
    REFUSED = "refused", _("refused by policy")
    FAILED = "failed", _("failed")
    NODE_FAILURE = "node_failure", _("ended by a node failure")


class Cdr(models.Model):
    """A call attempt and its rated charge.

    ``contract`` is our subscriber: the caller of an outbound call, the callee
    of an inbound one.  ``billing_month`` is the Asia/Tokyo month of the answer
    time.  Which closed month's statement carries a call follows from the close's
    watermark (``billing.MonthClose.max_cdr_id``), not from a mark on the row: a
    CDR is only ever inserted, never updated, so billing 10 M calls writes none of
    them (see ``denwa.billing.services``).
    """

    class Direction(models.TextChoices):
        OUT = "out", _("outbound")
        IN = "in", _("inbound")

    cdr_id = models.CharField(_("CDR id"), max_length=64, unique=True)
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="cdrs",
        null=True,
        blank=True,
        verbose_name=_("phone contract"),
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    caller = models.CharField(_("caller"), max_length=32)
    dialled = models.CharField(_("dialled"), max_length=64)
    callee = models.CharField(_("callee (normalised)"), max_length=32, blank=True)
    call_class = models.CharField(_("class"), max_length=20, choices=CLASS_CHOICES, blank=True)
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    disposition = models.CharField(_("disposition"), max_length=16, choices=Disposition.choices)
    sip_code = models.PositiveSmallIntegerField(_("SIP code"), null=True, blank=True)
    billed_seconds = models.PositiveIntegerField(_("billed seconds"), default=0)
    tariff_key = models.CharField(_("tariff"), max_length=32, blank=True)
    unit_seconds = models.PositiveIntegerField(_("unit (s)"), null=True, blank=True)
    yen_per_unit = models.PositiveIntegerField(_("yen per unit"), null=True, blank=True)
    units = models.PositiveIntegerField(_("units"), default=0)
    charge_yen = models.PositiveIntegerField(_("charge (yen, tax excl.)"), default=0)
    tax_exempt = models.BooleanField(_("tax exempt"), default=False)
    billing_month = models.CharField(_("month"), max_length=7, blank=True)
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)

    class Meta:
        verbose_name = _("call record")
        verbose_name_plural = _("call records")
        indexes = [
            models.Index(fields=["contract", "billing_month"], name="cdr_contract_month"),
            # The close finds a month's calls by month, late ones by id (the primary key).
            models.Index(fields=["billing_month"], name="cdr_month"),
        ]

    def __str__(self) -> str:
        return f"{self.cdr_id} {self.caller}→{self.dialled}"


class CallTotal(models.Model):
    """Running totals of answered outbound calls per contract, class and month.

    Kept by the CDR import in the transaction that stores the calls, and
    corrected by the close's re-rating, so the close reads a few rows per
    contract instead of summing every call.  ``billed_month`` is empty while the
    totals are open; the close of month M stamps the open rows up to M with M,
    and calls arriving later start a new open row (late lines).
    """

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="+", verbose_name=_("phone contract")
    )
    call_class = models.CharField(_("class"), max_length=20, choices=CLASS_CHOICES, blank=True)
    billing_month = models.CharField(_("month"), max_length=7)
    billed_month = models.CharField(_("billed on"), max_length=7, blank=True)
    calls = models.BigIntegerField(_("calls"), default=0)
    seconds = models.BigIntegerField(_("billed seconds"), default=0)
    charge_yen = models.BigIntegerField(_("charge (yen, tax excl.)"), default=0)

    class Meta:
        verbose_name = _("call total")
        verbose_name_plural = _("call totals")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "call_class", "billing_month", "billed_month"],
                name="call_total_key",
            )
        ]
        indexes = [models.Index(fields=["billed_month", "billing_month"], name="call_total_open")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.call_class} {self.billing_month}"


class SpoolOffset(models.Model):
    """How far the ingest has read one spool file (moved in the same transaction as its CDRs)."""

    path = models.CharField(_("spool file"), max_length=500, unique=True)
    offset = models.BigIntegerField(_("bytes ingested"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("CDR spool file")
        verbose_name_plural = _("CDR spool files")

    def __str__(self) -> str:
        return f"{self.path} @ {self.offset}"


class OpenCall(models.Model):
    """An answered call whose end has not been reported yet (from the SIP side's journal).

    If no end comes by ``max_end`` (the maximum call length) plus a grace period, the
    ingest closes it there: the dialog module ended it, or its node died.
    """

    cdr_id = models.CharField(_("CDR id"), max_length=64, unique=True)
    record = models.JSONField(_("answered record"))
    max_end = models.DateTimeField(_("latest possible end"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("call in progress")
        verbose_name_plural = _("calls in progress")

    def __str__(self) -> str:
        return self.cdr_id
