"""ISP accounts, phone contracts, their state history, TAs and rentals, debit mandates."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from denwa.core.contracts.lifecycle import Event, State

STATE_CHOICES = [
    (State.APPLIED.value, _("applied")),
    (State.ACTIVE.value, _("active")),
    (State.SUSPENDED.value, _("suspended (一時停止)")),
    (State.STOPPED.value, _("stopped (提供停止)")),
    (State.TERMINATED.value, _("terminated (契約解除)")),
]
EVENT_CHOICES = [(event.value, event.value) for event in Event]


class IspAccount(models.Model):
    """The KCT-Net internet contract a phone contract requires."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        SUSPENDED = "suspended", _("suspended")
        CANCELLED = "cancelled", _("cancelled")

    account_id = models.CharField(_("ISP account"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_kana = models.CharField(_("name (kana)"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("ISP account")
        verbose_name_plural = _("ISP accounts")

    def __str__(self) -> str:
        return f"{self.account_id} {self.name}"


class Contract(models.Model):
    """One 050 phone contract (one provisioned line)."""

    number = models.CharField(_("050 number"), max_length=11, unique=True)
    isp_account = models.ForeignKey(
        IspAccount,
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("ISP account"),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=STATE_CHOICES, default=State.APPLIED.value
    )
    applied_on = models.DateField(_("applied on"))
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("termination date"), null=True, blank=True)
    sip_realm = models.CharField(_("SIP realm"), max_length=64, default="denwa.local")
    sip_ha1 = models.CharField(_("SIP digest HA1"), max_length=64)
    international_barred = models.BooleanField(_("international calls barred"), default=False)
    daily_spend_cap_yen = models.PositiveIntegerField(
        _("daily international spend cap (yen)"), null=True, blank=True
    )
    early_charge_waived = models.BooleanField(_("early-termination charge waived"), default=False)
    waiver_reason = models.CharField(_("waiver reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("phone contract")
        verbose_name_plural = _("phone contracts")
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return self.number


class ContractEvent(models.Model):
    """One state change of a contract: who, when, why (the contract's history)."""

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="events", verbose_name=_("phone contract")
    )
    event = models.CharField(_("event"), max_length=16, choices=EVENT_CHOICES)
    from_state = models.CharField(_("from"), max_length=16, choices=STATE_CHOICES)
    to_state = models.CharField(_("to"), max_length=16, choices=STATE_CHOICES)
    effective = models.DateField(_("effective from"))
    reason = models.TextField(_("reason"), blank=True)
    actor = models.CharField(_("by"), max_length=150)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract event")
        verbose_name_plural = _("contract events")
        ordering = ["effective", "id"]

    def __str__(self) -> str:
        return f"{self.contract} {self.from_state}→{self.to_state} {self.effective}"


class Suspension(models.Model):
    """An operator-approved suspension (一時停止): at most the configured months."""

    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="suspensions",
        verbose_name=_("phone contract"),
    )
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    reason = models.TextField(_("reason"))
    approved_by = models.CharField(_("approved by"), max_length=150)
    approved_at = models.DateTimeField(_("approved at"), auto_now_add=True)
    resumed_on = models.DateField(_("resumed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("suspension")
        verbose_name_plural = _("suspensions")
        ordering = ["first_day"]

    def __str__(self) -> str:
        return f"{self.contract} {self.first_day}〜{self.last_day}"


class TerminalAdapter(models.Model):
    """A telephony adapter (TA) in the ISP's inventory; two ports, one provisioned."""

    class Status(models.TextChoices):
        IN_STOCK = "in_stock", _("in stock")
        RENTED = "rented", _("rented")
        RETIRED = "retired", _("retired")

    model = models.CharField(_("model"), max_length=64)
    serial = models.CharField(_("serial number"), max_length=64, unique=True)
    mac = models.CharField(_("MAC address"), max_length=17, unique=True)
    ports = models.PositiveSmallIntegerField(_("analogue ports"), default=2)
    provisioned_port = models.PositiveSmallIntegerField(_("provisioned port (TEL)"), default=1)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.IN_STOCK
    )

    class Meta:
        verbose_name = _("TA")
        verbose_name_plural = _("TAs")

    def __str__(self) -> str:
        return f"{self.model} {self.serial} ({self.mac})"


class Rental(models.Model):
    """A TA rented to a contract, from the day it is handed out to its return or collection."""

    ta = models.ForeignKey(
        TerminalAdapter, on_delete=models.PROTECT, related_name="rentals", verbose_name=_("TA")
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="rentals", verbose_name=_("phone contract")
    )
    first_day = models.DateField(_("rented from"))
    last_day = models.DateField(_("returned on"), null=True, blank=True)
    collected = models.BooleanField(_("collected by the ISP"), default=False)
    collection_fee_yen = models.PositiveIntegerField(
        _("collection fee (yen)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("TA rental")
        verbose_name_plural = _("TA rentals")
        constraints = [
            models.UniqueConstraint(
                fields=["ta"], condition=Q(last_day__isnull=True), name="one_open_rental_per_ta"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ta} → {self.contract}"


class BankMandate(models.Model):
    """口座振替 mandate: the account the monthly total is debited from (SPEC §4).

    Stored as it goes into the Zengin data record: digits zero-filled, names in
    half-width kana (``denwa.collection.services.check_mandate`` converts and checks them).
    """

    class AccountType(models.TextChoices):
        ORDINARY = "1", _("ordinary (普通)")
        CURRENT = "2", _("current (当座)")
        OTHER = "9", _("other")

    contract = models.OneToOneField(
        Contract, on_delete=models.PROTECT, related_name="mandate", verbose_name=_("phone contract")
    )
    bank_code = models.CharField(_("bank code"), max_length=4)
    bank_name = models.CharField(_("bank name (kana)"), max_length=15, blank=True)
    branch_code = models.CharField(_("branch code"), max_length=3)
    branch_name = models.CharField(_("branch name (kana)"), max_length=15, blank=True)
    account_type = models.CharField(
        _("account type"), max_length=1, choices=AccountType.choices, default=AccountType.ORDINARY
    )
    account_number = models.CharField(_("account number"), max_length=7)
    holder_kana = models.CharField(_("account holder (kana)"), max_length=30)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("bank debit mandate")
        verbose_name_plural = _("bank debit mandates")

    def __str__(self) -> str:
        return f"{self.contract} {self.bank_code}-{self.branch_code}"
