"""Debit runs (the request file of a month, as sent), debits per contract, the statements each
collects, and the stop list.

A run and its debits are written once by the export; the import fills in the
bank's result once.  Which statements a debit collects (this month's and the
unpaid ones carried over) is kept per statement, so every statement's debit
status can be told (``services.debit_status``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from denwa.billing.models import Statement
from denwa.core.collection.results import RESULT_CODES
from denwa.subscribers.models import Contract

RESULT_CHOICES = [
    (row.code, f"{row.code} {row.name_ja} ({row.name_en})") for row in RESULT_CODES.values()
]


class DebitRun(models.Model):
    """One month's 口座振替 request file as it was sent, and the bank's result once imported."""

    month = models.CharField(_("month"), max_length=7, unique=True)
    debit_date = models.DateField(_("debit date"))
    debits = models.PositiveIntegerField(_("debits"))
    total_yen = models.BigIntegerField(_("total (yen)"))
    content = models.BinaryField(_("request file"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    settings = models.JSONField(_("collection settings used"))
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    exported_at = models.DateTimeField(_("exported at"), auto_now_add=True)
    exported_by = models.CharField(_("exported by"), max_length=150)
    result_content = models.BinaryField(_("result file"), null=True, blank=True)
    result_sha256 = models.CharField(_("result SHA-256"), max_length=64, blank=True)
    result_imported_at = models.DateTimeField(_("result imported at"), null=True, blank=True)
    result_imported_by = models.CharField(_("result imported by"), max_length=150, blank=True)
    paid = models.PositiveIntegerField(_("paid debits"), default=0)
    paid_yen = models.BigIntegerField(_("paid (yen)"), default=0)
    unpaid = models.PositiveIntegerField(_("unpaid debits"), default=0)
    unpaid_yen = models.BigIntegerField(_("unpaid (yen)"), default=0)

    class Meta:
        verbose_name = _("debit run")
        verbose_name_plural = _("debit runs")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month} ({self.debit_date})"


class DebitRequest(models.Model):
    """One data record of a run: a contract's debit as requested, and the bank's result."""

    run = models.ForeignKey(
        DebitRun, on_delete=models.PROTECT, related_name="requests", verbose_name=_("debit run")
    )
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="debit_requests",
        verbose_name=_("phone contract"),
    )
    record_number = models.PositiveIntegerField(_("record number"))
    customer_number = models.CharField(_("customer number"), max_length=20)
    amount_yen = models.BigIntegerField(_("amount (yen)"))
    bank_code = models.CharField(_("bank code"), max_length=4)
    bank_name = models.CharField(_("bank name (kana)"), max_length=15, blank=True)
    branch_code = models.CharField(_("branch code"), max_length=3)
    branch_name = models.CharField(_("branch name (kana)"), max_length=15, blank=True)
    account_type = models.CharField(_("account type"), max_length=1)
    account_number = models.CharField(_("account number"), max_length=7)
    holder_kana = models.CharField(_("account holder (kana)"), max_length=30)
    new_code = models.CharField(_("new code"), max_length=1)
    result_code = models.CharField(
        _("result code"), max_length=1, choices=RESULT_CHOICES, blank=True
    )
    result_at = models.DateTimeField(_("result imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("debit")
        verbose_name_plural = _("debits")
        ordering = ["run", "record_number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "contract"], name="one_debit_per_run"),
            models.UniqueConstraint(
                fields=["run", "customer_number"], name="one_customer_number_per_run"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run.month} {self.customer_number}"


class DebitItem(models.Model):
    """A statement a debit collects: the month's own, or an unpaid one carried over."""

    request = models.ForeignKey(
        DebitRequest, on_delete=models.PROTECT, related_name="items", verbose_name=_("debit")
    )
    statement = models.ForeignKey(
        Statement,
        on_delete=models.PROTECT,
        related_name="debit_items",
        verbose_name=_("statement"),
    )
    amount_yen = models.BigIntegerField(_("amount (yen)"))
    carried = models.BooleanField(_("carried over"))

    class Meta:
        verbose_name = _("statement in a debit")
        verbose_name_plural = _("statements in debits")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "statement"], name="statement_once_per_debit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.statement} → {self.request}"


class StopListEntry(models.Model):
    """A contract whose debits failed the configured number of times in a row (SPEC §4)."""

    class Action(models.TextChoices):
        LISTED = "listed", _("listed for the operator")
        STOPPED = "stopped", _("stopped (提供停止)")
        STOP_REFUSED = "stop_refused", _("listed: the automatic stop was refused")

    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="stop_list_entries",
        verbose_name=_("phone contract"),
    )
    run = models.ForeignKey(
        DebitRun,
        on_delete=models.PROTECT,
        related_name="stop_list_entries",
        verbose_name=_("debit run"),
    )
    failures = models.PositiveSmallIntegerField(_("failures in a row"))
    last_code = models.CharField(_("last result code"), max_length=1, choices=RESULT_CHOICES)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    note = models.TextField(_("note"), blank=True)
    listed_at = models.DateTimeField(_("listed at"), auto_now_add=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_by = models.CharField(_("cleared by"), max_length=150, blank=True)
    clear_reason = models.TextField(_("why cleared"), blank=True)

    class Meta:
        verbose_name = _("stop list entry")
        verbose_name_plural = _("stop list")
        ordering = ["-listed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_stop_list_entry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract} ({self.failures})"


class StatementDebit(Statement):
    """A statement seen from collection: the console's list of debit status per statement."""

    class Meta:
        proxy = True
        verbose_name = _("debit status of a statement")
        verbose_name_plural = _("debit status per statement")
