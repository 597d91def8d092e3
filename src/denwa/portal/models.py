"""A subscriber's web credentials and the record of sign-in attempts.

The web password is separate from the SIP password (the TA's): it is kept only
as a Django password hash.  The operator issues the first one; the subscriber
must change it at the first sign-in.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from denwa.subscribers.models import Contract


class WebAccount(models.Model):
    """The sign-in of one phone contract to ご利用明細照会 (the 050 number is the user name)."""

    contract = models.OneToOneField(
        Contract,
        on_delete=models.PROTECT,
        related_name="web_account",
        verbose_name=_("phone contract"),
    )
    password = models.CharField(_("password (hashed)"), max_length=128)
    must_change = models.BooleanField(_("must change the password"), default=True)
    password_set_at = models.DateTimeField(_("password set"))
    password_set_by = models.CharField(_("password set by"), max_length=150)
    failed_attempts = models.PositiveIntegerField(_("wrong passwords in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    last_sign_in = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("web sign-in")
        verbose_name_plural = _("web sign-ins")
        ordering = ["contract__number"]

    def __str__(self) -> str:
        return self.contract.number


class SignInAttempt(models.Model):
    """One try at signing in, kept for the lock-outs and for the operator to see."""

    class Outcome(models.TextChoices):
        SIGNED_IN = "signed_in", _("signed in")
        WRONG_PASSWORD = "wrong_password", _("wrong password")
        UNKNOWN_NUMBER = "unknown_number", _("no web sign-in for this number")
        LOCKED = "locked", _("refused: number locked")
        THROTTLED = "throttled", _("refused: too many failures from this address")

    number = models.CharField(_("050 number (as typed)"), max_length=32)
    source = models.GenericIPAddressField(_("from address"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("sign-in attempt")
        verbose_name_plural = _("sign-in attempts")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["source", "at"], name="signin_source_at"),
            models.Index(fields=["number", "at"], name="signin_number_at"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.outcome} {self.at:%Y-%m-%d %H:%M}"
