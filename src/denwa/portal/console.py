"""The operator's side of the web sign-ins: issuing passwords and lifting lock-outs.

``issue_web_password`` is an admin action for the contract list (wired into
the console's ``ContractAdmin``) and for the web sign-in list.  The passwords
it issues are shown once, on the page that follows, for the operator to hand
to the subscriber; only their hashes are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from denwa.portal import accounts

if TYPE_CHECKING:
    from denwa.console.admin import ModelAdminBase

ISSUED_TEMPLATE = "portal/console/issued.html"


class IssuePasswordForm(forms.Form):
    """Issue a web password: must the subscriber change it at the first sign-in?"""

    must_change = forms.BooleanField(
        label=_("The subscriber must change it at the first sign-in"),
        required=False,
        initial=True,
    )


def number_of(obj: Any) -> str:
    """The 050 number of a contract or of a web sign-in."""
    return str(getattr(obj, "number", None) or obj.contract.number)


@admin.action(description=_("Issue a web password (ご利用明細照会)"), permissions=["operate"])
def issue_web_password(
    model_admin: ModelAdminBase, request: HttpRequest, queryset: QuerySet[Any]
) -> TemplateResponse | None:
    """Ask for confirmation, issue a password to each selected line, show them once."""
    from denwa.console.admin import run_action  # the console imports this module

    issued: list[accounts.IssuedPassword] = []

    def perform(obj: Any, data: dict[str, Any], actor: str) -> object:
        done = accounts.issue_password(number_of(obj), actor, must_change=data["must_change"])
        issued.append(done)
        return done

    response = run_action(
        model_admin,
        request,
        queryset,
        name="issue_web_password",
        title=_("Issue a web password (ご利用明細照会)"),
        form_class=IssuePasswordForm,
        perform=perform,
    )
    if response is not None or not issued:
        return response
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Web passwords issued"),
        "opts": model_admin.opts,
        "issued": issued,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, ISSUED_TEMPLATE, context)
