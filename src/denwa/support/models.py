"""Inquiries, replies and the personal-data provision record."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from denwa.subscribers.models import Contract


class Inquiry(models.Model):
    """A subscriber's question (お問い合わせ)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")

    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="inquiries",
        verbose_name=_("phone contract"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.contract} {self.subject}"


class InquiryReply(models.Model):
    """An operator's answer to an inquiry."""

    inquiry = models.ForeignKey(
        Inquiry, on_delete=models.PROTECT, related_name="replies", verbose_name=_("inquiry")
    )
    body = models.TextField(_("reply"))
    author = models.CharField(_("by"), max_length=150)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["created_at"]


class DataProvision(models.Model):
    """Personal data given to a third party for support (SPEC §6): kept, shown to the subscriber."""

    class Recipient(models.TextChoices):
        NTT_COM = "ntt_com", _("NTT Communications")
        SUPPORT_CONTRACTOR = "support_contractor", _("support contractor")

    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="provisions",
        verbose_name=_("phone contract"),
    )
    recipient = models.CharField(_("to whom"), max_length=32, choices=Recipient.choices)
    recipient_detail = models.CharField(_("recipient (name)"), max_length=200, blank=True)
    items = models.CharField(_("what"), max_length=300)
    purpose = models.CharField(_("why"), max_length=300)
    provided_at = models.DateTimeField(_("when"))
    recorded_by = models.CharField(_("by whom"), max_length=150)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("personal-data provision")
        verbose_name_plural = _("personal-data provisions")
        ordering = ["-provided_at"]

    def __str__(self) -> str:
        return f"{self.contract} → {self.get_recipient_display()} {self.provided_at:%Y-%m-%d}"
