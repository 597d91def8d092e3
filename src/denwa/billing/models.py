"""Month closes, statements with their lines and tax, adjustments."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from denwa.subscribers.models import Contract


class ClosedStatementError(Exception):
    """A closed statement (or one of its lines) was about to change."""

    code = "statement_closed"


class _ImmutableQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise ClosedStatementError("a closed statement never changes; record an adjustment")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ClosedStatementError("a closed statement is never deleted")


class _Immutable(models.Model):
    """Rows written once by the close and never changed again."""

    objects = _ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and type(self).objects.filter(pk=self.pk).exists():
            raise ClosedStatementError("a closed statement never changes; record an adjustment")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ClosedStatementError("a closed statement is never deleted")


class MonthClose(models.Model):
    """A closed month: closing it again changes nothing.

    ``max_cdr_id`` is the close's watermark: the highest CDR id that existed when
    the month closed (CDR ids only grow, and no CDR is inserted while a close runs).
    The statements of month M carry the answered calls with ``id <= max_cdr_id(M)``
    not carried by an earlier close: those of M, and the late ones of earlier months
    with ids above the previous close's watermark.
    """

    month = models.CharField(_("month"), max_length=7, unique=True)
    closed_at = models.DateTimeField(_("closed at"), auto_now_add=True)
    closed_by = models.CharField(_("closed by"), max_length=150)
    statements = models.PositiveIntegerField(_("statements"))
    total_yen = models.BigIntegerField(_("total (yen)"))
    seconds_taken = models.FloatField(_("seconds taken"), default=0)
    max_cdr_id = models.BigIntegerField(_("last CDR billed (id)"), default=0)

    class Meta:
        verbose_name = _("month close")
        verbose_name_plural = _("month closes")
        ordering = ["-month"]

    def __str__(self) -> str:
        return self.month


class Statement(_Immutable):
    """One contract's bill for one month; the portal shows it (no invoices are issued)."""

    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="statements",
        verbose_name=_("phone contract"),
    )
    month = models.CharField(_("month"), max_length=7)
    subtotal_yen = models.BigIntegerField(_("subtotal (yen)"))
    tax_yen = models.BigIntegerField(_("consumption tax (yen)"))
    total_yen = models.BigIntegerField(_("total (yen)"))
    closed_at = models.DateTimeField(_("closed at"))

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-month", "contract__number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="one_statement_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.month}"


class StatementLine(_Immutable):
    """A charge on a statement: a fixed fee, a class's calls, late calls, an adjustment."""

    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="lines", verbose_name=_("statement")
    )
    position = models.PositiveSmallIntegerField()
    code = models.CharField(_("code"), max_length=40)
    description = models.CharField(_("description"), max_length=200)
    amount_yen = models.BigIntegerField(_("amount (yen)"))
    tax_category = models.CharField(_("tax"), max_length=10)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    call_class = models.CharField(_("class"), max_length=20, blank=True)
    call_seconds = models.BigIntegerField(_("seconds"), default=0)

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement", "position"]

    def __str__(self) -> str:
        return f"{self.code} {self.amount_yen}"


class StatementTax(_Immutable):
    """Tax of one rate on a statement (computed once on that rate's subtotal)."""

    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="taxes", verbose_name=_("statement")
    )
    tax_category = models.CharField(_("tax"), max_length=10)
    rate = models.DecimalField(_("rate"), max_digits=5, decimal_places=4, null=True)
    subtotal_yen = models.BigIntegerField(_("subtotal (yen)"))
    tax_yen = models.BigIntegerField(_("tax (yen)"))

    class Meta:
        verbose_name = _("statement tax")
        verbose_name_plural = _("statement taxes")


class Adjustment(models.Model):
    """A correction an operator records; it goes on the next statement closed for the contract."""

    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="adjustments",
        verbose_name=_("phone contract"),
    )
    amount_yen = models.IntegerField(_("amount (yen, tax excl.; negative = credit)"))
    tax_exempt = models.BooleanField(_("tax exempt"), default=False)
    reason = models.CharField(_("reason"), max_length=200)
    effective = models.DateField(_("effective (tax date)"))
    created_by = models.CharField(_("recorded by"), max_length=150)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    billed_month = models.CharField(_("billed on"), max_length=7, blank=True)

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")

    def __str__(self) -> str:
        return f"{self.contract} {self.amount_yen} {self.reason}"
