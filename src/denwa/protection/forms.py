"""The forms of the protection console's actions (they parse; the services decide)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from denwa.console.forms import ActionForm
from denwa.protection.models import MaintenanceChange


class AcknowledgeForm(ActionForm):
    """The operator has seen the alert, and may note what was done."""

    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class LiftForm(ActionForm):
    """Lift the alert's block before its end (no fields: the page asks for confirmation)."""


class MaintenanceForm(forms.ModelForm):  # type: ignore[type-arg]
    """Switch maintenance on (with what callers are told) or off."""

    class Meta:
        model = MaintenanceChange
        fields = ("on", "message", "retry_after_seconds")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "on" in self.fields:  # not on the read-only page of a past change
            self.fields["on"].help_text = _(
                "Ticked: new calls are refused with 503 and the announcement; calls in progress go "
                "on. Not ticked: calls are admitted again."
            )
