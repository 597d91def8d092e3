"""Alerts, the maintenance switch, held calls, international calls per day (SPEC §2, §7).

Counters and blocks are not here: they live in the SIP nodes' shared memory
(Kamailio's htable), where the call path reads them without a database; the
console reads and lifts them through Kamailio's RPC (``denwa.protection.kamailio``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from denwa.calls.models import OpenCall
from denwa.subscribers.models import Contract


class Alert(models.Model):
    """Something the operator should look at: who, what, when, and until when if it blocks."""

    class Kind(models.TextChoices):
        INCOMPLETE_CALLS = "incomplete_calls", _("many incomplete calls (不完了呼)")
        AUTH_FAILURES = "auth_failures", _("failed authentications (password guessing)")
        FLOOD = "flood", _("request flood from one address")
        HELD_CALL = "held_call", _("call on hold too long")
        LONG_CALL = "long_call", _("call open too long")
        INTERNATIONAL_ANOMALY = "international_anomaly", _("international minutes far above usual")
        INTERNATIONAL_SPEND_CAP = "international_spend_cap", _("international spending cap reached")
        OVERLOAD = "overload", _("calls refused by an overload limit")
        SPOOL_DISK = "spool_disk", _("the spool's disk is nearly full")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    key = models.CharField(_("key"), max_length=200, unique=True)
    number = models.CharField(_("050 number"), max_length=32, blank=True)
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("phone contract"),
    )
    source = models.CharField(_("source address"), max_length=64, blank=True)
    raised_at = models.DateTimeField(_("raised at"))
    until = models.DateTimeField(_("blocked until"), null=True, blank=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    block_key = models.CharField(_("block"), max_length=100, blank=True)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.CharField(_("lifted by"), max_length=150, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=150, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["raised_at"], name="alert_raised"),
            models.Index(fields=["kind", "raised_at"], name="alert_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number or self.source}"


class MaintenanceChange(models.Model):
    """One move of the maintenance switch (提供中止); the latest is in force."""

    on = models.BooleanField(_("new calls refused (maintenance on)"))
    message = models.CharField(
        _("announcement (Japanese)"),
        max_length=200,
        blank=True,
        help_text=_("What callers are told; empty: the text of protection_refusals.csv"),
    )
    retry_after_seconds = models.PositiveIntegerField(
        _("Retry-After (seconds)"),
        null=True,
        blank=True,
        help_text=_("When callers may try again; empty: the value of protection_refusals.csv"),
    )
    changed_by = models.CharField(_("by"), max_length=150)
    changed_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("maintenance switch")
        verbose_name_plural = _("maintenance switch")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{'on' if self.on else 'off'} {self.changed_at:%Y-%m-%d %H:%M}"


class HeldCall(models.Model):
    """A call put on hold (re-INVITE with sendonly/inactive), from the SIP side's events."""

    call_id = models.CharField(_("call"), max_length=200)
    number = models.CharField(_("050 number"), max_length=32)
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("phone contract"),
    )
    held_at = models.DateTimeField(_("on hold since"))
    resumed_at = models.DateTimeField(_("off hold at"), null=True, blank=True)

    class Meta:
        verbose_name = _("call on hold")
        verbose_name_plural = _("calls on hold")
        ordering = ["-held_at"]
        constraints = [
            models.UniqueConstraint(fields=["call_id", "held_at"], name="one_hold_per_time"),
        ]
        indexes = [models.Index(fields=["resumed_at", "held_at"], name="held_open")]

    def __str__(self) -> str:
        return f"{self.number} {self.call_id}"


class InternationalDay(models.Model):
    """A contract's answered international calls of one Asia/Tokyo day (running totals).

    Kept from the rated CDRs as they arrive (``ingest.count_international_calls``);
    today's rows give the spend the call path checks the daily cap against, the
    earlier ones each subscriber's own history.
    """

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="+", verbose_name=_("phone contract")
    )
    day = models.DateField(_("day"))
    calls = models.PositiveIntegerField(_("calls"), default=0)
    seconds = models.PositiveIntegerField(_("billed seconds"), default=0)
    charge_yen = models.PositiveIntegerField(_("charge (yen, tax excl.)"), default=0)

    class Meta:
        verbose_name = _("international calls of a day")
        verbose_name_plural = _("international calls per day")
        ordering = ["-day", "contract"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "day"], name="one_international_day"),
        ]
        indexes = [models.Index(fields=["day"], name="international_day")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.day}"


class Watermark(models.Model):
    """How far a protection pass has read a growing table (the CDRs, by id)."""

    name = models.CharField(max_length=50, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.value}"


class LongCall(OpenCall):
    """The answered calls in progress, for the console's "calls open too long" list."""

    class Meta:
        proxy = True
        verbose_name = _("call in progress (long calls)")
        verbose_name_plural = _("calls in progress (long calls)")


class SipBlock(models.Model):
    """Blocks and counters of the running SIP node (read through Kamailio's RPC; no table)."""

    class Meta:
        managed = False
        db_table = "protection_sip_block_no_table"
        verbose_name = _("SIP block and counter")
        verbose_name_plural = _("SIP blocks and counters")
        default_permissions = ("view", "change")
