"""The operator console's collection pages: debit mandates, debit runs and their debits, each
statement's debit status, and the stop list (SPEC §4).

Mandates are entered here: the form converts the holder's name to half-width
kana and checks every field through ``collection.services.check_mandate``; an
error is shown beside its field.  Runs, debits and statuses are read-only
records (the export and the import write them); the stop list's actions go
through the collection services.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django import forms as django_forms
from django.contrib import admin
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from denwa.collection import services as collection
from denwa.collection.models import (
    DebitItem,
    DebitRequest,
    DebitRun,
    StatementDebit,
    StopListEntry,
)
from denwa.console import forms
from denwa.console.admin import (
    NUMBER,
    ConsoleAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    related,
    service_action,
)
from denwa.core.collection.errors import InvalidField
from denwa.core.collection.results import PAID
from denwa.core.collection.status import Attempt, DebitState
from denwa.core.collection.status import debit_status as status_of
from denwa.subscribers.models import BankMandate

MANDATE_FIELDS = [
    "bank_code",
    "bank_name",
    "branch_code",
    "branch_name",
    "account_type",
    "account_number",
    "holder_kana",
]


class BankMandateForm(ModelForm):  # type: ignore[type-arg]
    """A mandate as the operator types it; saved as it goes into the bank's file."""

    class Meta:
        model = BankMandate
        fields = ["contract", *MANDATE_FIELDS]
        help_texts = {
            "holder_kana": _("Kana as on the passbook; converted to half-width (ﾔﾏﾀﾞ ﾀﾛｳ)"),
            "bank_name": _("Blank: taken from the bank code list when it is installed"),
            "branch_name": _("Blank: taken from the bank code list when it is installed"),
            "account_number": _("Up to 7 digits; zero-filled"),
        }

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if any(name in self.errors for name in MANDATE_FIELDS):
            return data
        try:
            mandate = collection.check_mandate(
                collection.collection_settings(),
                **{name: str(data.get(name) or "") for name in MANDATE_FIELDS},
            )
        except InvalidField as error:
            self.add_error(error.field if error.field in self.fields else None, error.problem)
            return data
        data.update(asdict(mandate))
        return data


@admin.register(BankMandate)
class BankMandateAdmin(ConsoleAdmin):
    form = BankMandateForm
    list_display = [
        NUMBER,
        "bank_code",
        "bank_name",
        "branch_code",
        "branch_name",
        "account_type",
        "account_number",
        "holder_kana",
        "updated_at",
    ]
    list_filter = ["account_type"]
    search_fields = ["contract__number", "holder_kana", "bank_code", "account_number"]
    autocomplete_fields = ["contract"]
    list_select_related = ["contract"]

    def save_model(
        self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool
    ) -> None:
        # Every account field, as checked and converted (a name may come from the code list).
        if change:
            obj.save(update_fields=[*MANDATE_FIELDS, "updated_at"])
        else:
            obj.save()


# --- runs and debits ----------------------------------------------------------------------------


class DebitRequestInline(ReadOnlyInline):
    model = DebitRequest
    fields = [
        "record_number",
        "contract",
        "customer_number",
        "amount_yen",
        "new_code",
        "result_code",
        "result_at",
    ]


@admin.register(DebitRun)
class DebitRunAdmin(ReadOnlyAdmin):
    """Each month's request file as sent to the bank, and its result."""

    list_display = [
        "month",
        "debit_date",
        "debits",
        "total_yen",
        "exported_at",
        "exported_by",
        "result_imported_at",
        "paid",
        "paid_yen",
        "unpaid",
        "unpaid_yen",
    ]
    search_fields = ["=month"]
    exclude = ["content", "result_content"]
    inlines = [DebitRequestInline]


@admin.register(DebitRequest)
class DebitRequestAdmin(ReadOnlyAdmin):
    list_display = [
        related("run__month", _("month")),
        related("run__debit_date", _("debit date")),
        NUMBER,
        "customer_number",
        "amount_yen",
        "new_code",
        "result_code",
        "result_at",
    ]
    list_filter = ["result_code", ("run__month", admin.AllValuesFieldListFilter)]
    search_fields = ["contract__number", "=customer_number"]
    list_select_related = ["run", "contract"]


@admin.register(DebitItem)
class DebitItemAdmin(ReadOnlyAdmin):
    list_display = [
        related("statement__contract__number", _("050 number")),
        related("statement__month", _("month")),
        related("request__run__month", _("debit run")),
        "amount_yen",
        "carried",
        related("request__result_code", _("result code")),
    ]
    list_filter = ["carried", ("request__run__month", admin.AllValuesFieldListFilter)]
    search_fields = ["statement__contract__number"]
    list_select_related = ["statement__contract", "request__run"]


class DebitItemInline(ReadOnlyInline):
    """On a statement's page: the debits that asked for it."""

    model = DebitItem
    fields = ["run_month", "debit_date", "amount_yen", "carried", "result"]
    verbose_name_plural = _("direct debits")

    @admin.display(description=_("debit run"))
    def run_month(self, obj: DebitItem) -> str:
        return obj.request.run.month

    @admin.display(description=_("debit date"))
    def debit_date(self, obj: DebitItem) -> str:
        return str(obj.request.run.debit_date)

    @admin.display(description=_("result code"))
    def result(self, obj: DebitItem) -> str:
        return obj.request.get_result_code_display() or "-"


# --- debit status per statement ------------------------------------------------------------------

STATE_FILTERS: dict[DebitState, Q] = {
    DebitState.NOT_REQUESTED: Q(debit_date__isnull=True, total_yen__gt=0),
    DebitState.NOTHING_DUE: Q(debit_date__isnull=True, total_yen__lte=0),
    DebitState.REQUESTED: Q(debit_date__isnull=False, debit_code="", debit_carried=False),
    DebitState.CARRIED_OVER: Q(debit_date__isnull=False, debit_code="", debit_carried=True),
    DebitState.PAID: Q(debit_code=PAID),
    DebitState.UNPAID: Q(debit_date__isnull=False) & ~Q(debit_code__in=["", PAID]),
}
"""Each debit state as a filter on the annotations of ``StatementDebitAdmin``."""

STATE_NAMES = {
    DebitState.NOT_REQUESTED: pgettext_lazy("debit status", "not yet requested"),
    DebitState.NOTHING_DUE: pgettext_lazy("debit status", "nothing to collect"),
    DebitState.REQUESTED: pgettext_lazy("debit status", "debit requested"),
    DebitState.CARRIED_OVER: pgettext_lazy("debit status", "carried over to the next debit"),
    DebitState.PAID: pgettext_lazy("debit status", "paid"),
    DebitState.UNPAID: pgettext_lazy("debit status", "unpaid"),
}


class DebitStateFilter(admin.SimpleListFilter):
    title = _("debit status")
    parameter_name = "debit"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(state.value, STATE_NAMES[state]) for state in DebitState]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value in {state.value for state in DebitState}:
            return queryset.filter(STATE_FILTERS[DebitState(value)])
        return queryset


@admin.register(StatementDebit)
class StatementDebitAdmin(ReadOnlyAdmin):
    """Every closed statement with where its collection stands."""

    list_display = [NUMBER, "month", "total_yen", "debit_status", "debit_code", "debit_date"]
    list_filter = [DebitStateFilter, ("month", admin.AllValuesFieldListFilter)]
    search_fields = ["contract__number", "=month"]
    search_help_text = _("050 number or month (YYYY-MM)")
    list_select_related = ["contract"]
    inlines = [DebitItemInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        latest = DebitItem.objects.filter(statement=OuterRef("pk")).order_by(
            "-request__run__month", "-id"
        )
        annotated: QuerySet[Any] = (
            super()
            .get_queryset(request)
            .annotate(
                debit_code=Subquery(latest.values("request__result_code")[:1]),
                debit_date=Subquery(latest.values("request__run__debit_date")[:1]),
                debit_carried=Subquery(latest.values("carried")[:1]),
            )
        )
        return annotated

    @admin.display(description=_("debit status"))
    def debit_status(self, obj: Any) -> str:
        when = getattr(obj, "debit_date", None)
        attempt = None
        if when is not None:
            attempt = Attempt(when, bool(obj.debit_carried), obj.debit_code or None)
        return status_of(obj.total_yen, attempt).label(get_language() or "ja")

    @admin.display(description=_("result code"), ordering="debit_code")
    def debit_code(self, obj: Any) -> str:
        return str(getattr(obj, "debit_code", None) or "")

    @admin.display(description=_("debit date"), ordering="debit_date")
    def debit_date(self, obj: Any) -> str:
        when = getattr(obj, "debit_date", None)
        return "" if when is None else str(when)


# --- the stop list -------------------------------------------------------------------------------


class ClearForm(forms.ActionForm):
    """Take a contract off the stop list."""

    reason = django_forms.CharField(
        label=_("Reason"),
        required=False,
        help_text=_("Required: why (paid otherwise, new mandate…)"),
        widget=django_forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class OpenEntryFilter(admin.SimpleListFilter):
    title = _("on the list")
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("listed")), ("no", _("cleared"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(cleared_at__isnull=self.value() == "yes")
        return queryset


@admin.register(StopListEntry)
class StopListEntryAdmin(ReadOnlyAdmin):
    """Contracts whose debits failed the configured number of times in a row."""

    list_display = [
        NUMBER,
        "failures",
        "last_code",
        "action",
        related("run__month", _("debit run")),
        "listed_at",
        "cleared_at",
        "cleared_by",
    ]
    list_filter = [OpenEntryFilter, "action", "last_code"]
    search_fields = ["contract__number"]
    list_select_related = ["contract", "run"]
    actions = ["stop_contract", "clear_entry"]

    stop_contract = service_action(
        "stop_contract",
        _("Stop service (提供停止)"),
        forms.StopForm,
        lambda entry, data, actor: collection.stop_listed_contract(
            entry, data["on"], data["reason"], actor
        ),
    )
    clear_entry = service_action(
        "clear_entry",
        _("Clear from the stop list"),
        ClearForm,
        lambda entry, data, actor: collection.clear_stop_list_entry(entry, data["reason"], actor),
    )
