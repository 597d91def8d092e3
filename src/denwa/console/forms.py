"""The intermediate forms of the console's actions.

A form only parses what the operator typed (dates, amounts, text).  Whether
the action is allowed — a reason given, a suspension short enough, a
transition the lifecycle permits — is decided by the service the action
calls, so the console shows the same refusal the CLI and the API give.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from denwa.core.contracts.fees import Fee, FeeSchedule
from denwa.core.errors import DenwaError
from denwa.core.timeutil import tokyo_today
from denwa.support.models import DataProvision


class DateInput(forms.DateInput):
    """The browser's date picker; the value travels as YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker (Asia/Tokyo)."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def _date(label: Any, help_text: Any = "") -> forms.DateField:
    return forms.DateField(
        label=label, help_text=help_text, initial=tokyo_today, widget=DateInput()
    )


def _text(label: Any, help_text: Any = "", *, required: bool = False) -> forms.CharField:
    # Not required by the form: the service refuses a missing reason with its own message.
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class ActionForm(forms.Form):
    """Base of the action forms (no extra behaviour; keeps them recognisable)."""


class SuspensionForm(ActionForm):
    """Approve a suspension (一時停止): its first and last day and the reason."""

    first_day = _date(_("First day"))
    last_day = _date(_("Last day"), _("Inclusive; the line resumes the next day"))
    reason = _text(_("Reason"), _("Required: why the suspension is approved"))

    def __init__(self, *args: Any, max_months: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if max_months is not None:
            self.fields["last_day"].help_text = _(
                "Inclusive; it must end before the same day %(months)d months after "
                "the first day; the line resumes the next day"
            ) % {"months": max_months}


class ResumeForm(ActionForm):
    """Resume a suspended or stopped line (再開登録料 is charged)."""

    on = _date(_("Resume on"))
    reason = forms.CharField(label=_("Note"), required=False, max_length=500)


class StopForm(ActionForm):
    """Stop service (提供停止): from when and why."""

    on = _date(_("Stop from"))
    reason = _text(_("Reason"), _("Required: the violation or interference"))


class TerminationForm(ActionForm):
    """Terminate (契約解除), with or without the early-termination charge."""

    on = _date(_("Termination date"))
    reason = _text(_("Reason"), _("Required when the early-termination charge is waived"))
    waive_early = forms.BooleanField(label=_("Waive the early-termination charge"), required=False)


class AssignTaForm(ActionForm):
    """Rent a TA from stock to the contract."""

    serial = forms.CharField(label=_("TA serial number"), max_length=64)
    on = _date(_("Rented from"))


class AdjustmentForm(ActionForm):
    """A correction carried by the next statement closed for the contract."""

    amount_yen = forms.IntegerField(
        label=_("Amount (yen)"), help_text=_("Tax exclusive; negative for a credit")
    )
    reason = _text(_("Reason"), _("Required"))
    effective = _date(
        _("Effective date"), _("Its tax date; billed on the first statement closed after it")
    )
    tax_exempt = forms.BooleanField(label=_("Tax exempt"), required=False)


class ProvisionForm(ActionForm):
    """A record that personal data was given to a third party (SPEC §6)."""

    recipient = forms.ChoiceField(label=_("To whom"), choices=DataProvision.Recipient.choices)
    recipient_detail = forms.CharField(
        label=_("Recipient (name)"),
        required=False,
        max_length=200,
        help_text=_("E.g. the contractor's company or the NTT Com desk"),
    )
    items = forms.CharField(
        label=_("What"), required=False, max_length=300, help_text=_("The data given")
    )
    purpose = forms.CharField(
        label=_("Why"), required=False, max_length=300, help_text=_("The support case")
    )
    provided_at = forms.DateTimeField(label=_("When"), initial=timezone.now, widget=DateTimeInput())


class ReturnTaForm(ActionForm):
    """The subscriber returned the TA."""

    on = _date(_("Returned on"))


class CollectionForm(ActionForm):
    """The ISP collected the TA, for a fee."""

    on = _date(_("Collected on"))
    fee_yen = forms.IntegerField(
        label=_("Collection fee (yen)"),
        required=False,
        help_text=_("Tax exclusive; blank: the operator's fee in force on that day"),
    )

    def __init__(self, *args: Any, fees: FeeSchedule | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if fees is not None and not self.is_bound:
            with suppress(DenwaError):  # no fee in force today: the operator types one
                self.fields["fee_yen"].initial = fees.amount(Fee.TA_COLLECTION, tokyo_today())


class ReplyForm(ActionForm):
    """An operator's answer to an inquiry."""

    body = forms.CharField(
        label=_("Reply"), required=False, widget=forms.Textarea(attrs={"rows": 8, "cols": 70})
    )
