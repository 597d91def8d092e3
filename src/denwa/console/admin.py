"""The operator console: every denwa model in the Django admin, fit for ISP staff.

Rules the console keeps:

- A contract's state, TA rentals, suspensions, adjustments, provisions and
  replies change only through the service functions, by the actions below
  (each an intermediate form page: the standard "action with a form" pattern).
  Editable fields are the few that are plain settings (barring, spend cap, an
  ISP account's name, TA inventory data, bank mandates, an inquiry's status),
  and saving them writes only the fields the form changed.
- What the close, the CDR import and the services write as records —
  statements and their lines and taxes, month closes, CDRs, contract events,
  operator data versions, suspensions, rentals, adjustments, provisions,
  replies — is read-only here.
- An action runs once per selected object, each in its own transaction: an
  object the service refuses gets the service's message and is left as it
  was; the others go ahead.  The actor recorded is ``console:<username>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.forms import Form, ModelForm
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from denwa.billing.adjustments import record_adjustment
from denwa.billing.models import Adjustment, MonthClose, Statement, StatementLine, StatementTax
from denwa.billing.services import carrying_month
from denwa.calls.models import CallTotal, Cdr, OpenCall, SpoolOffset
from denwa.console import forms
from denwa.console.operator_data import operator_data
from denwa.core.errors import DenwaError
from denwa.operator_files.models import DataFileVersion
from denwa.portal.console import issue_web_password
from denwa.subscribers import services as subscribers
from denwa.subscribers.errors import EquipmentError
from denwa.subscribers.models import (
    Contract,
    ContractEvent,
    IspAccount,
    Rental,
    Suspension,
    TerminalAdapter,
)
from denwa.support import services as support
from denwa.support.models import DataProvision, Inquiry, InquiryReply

if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[Any]
    TabularInlineBase = admin.TabularInline[Any, Any]
else:  # the admin classes are not subscriptable at run time
    ModelAdminBase = admin.ModelAdmin
    TabularInlineBase = admin.TabularInline

ACTION_TEMPLATE = "console/action_form.html"

Performer = Callable[[Any, dict[str, Any], str], object]
"""What an action does to one object: (object, the form's cleaned data, actor)."""


def actor_of(request: HttpRequest) -> str:
    """Who the services record for a console action."""
    return f"console:{request.user.get_username()}"


def service_action(
    name: str,
    title: Any,
    form_class: type[Form],
    perform: Performer,
    form_kwargs: Callable[[], dict[str, Any]] | None = None,
) -> Callable[[ModelAdminBase, HttpRequest, QuerySet[Any]], TemplateResponse | None]:
    """An admin action that asks ``form_class`` and calls a service for each selected object."""

    def action(
        model_admin: ModelAdminBase, request: HttpRequest, queryset: QuerySet[Any]
    ) -> TemplateResponse | None:
        return run_action(
            model_admin,
            request,
            queryset,
            name=name,
            title=title,
            form_class=form_class,
            perform=perform,
            form_kwargs=form_kwargs() if form_kwargs else None,
        )

    action.__name__ = name
    return admin.action(description=title, permissions=["operate"])(action)


def run_action(
    model_admin: ModelAdminBase,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    name: str,
    title: Any,
    form_class: type[Form],
    perform: Performer,
    form_kwargs: dict[str, Any] | None = None,
) -> TemplateResponse | None:
    """Show the action's form for the selected objects; once it is valid, apply it to each.

    Returns the form page, or ``None`` (the admin then redirects back to the
    list, where the messages tell what was done and what was refused).
    """
    kwargs = form_kwargs or {}
    if "apply" in request.POST:
        form = form_class(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            actor = actor_of(request)
            apply_each(request, queryset, title, lambda obj: perform(obj, data, actor))
            return None
    else:
        form = form_class(**kwargs)
    objects = list(queryset)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "objects": objects,
        "form": form,
        "action": name,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": model_admin.media + form.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, ACTION_TEMPLATE, context)


def apply_each(
    request: HttpRequest,
    queryset: QuerySet[Any],
    title: Any,
    perform: Callable[[Any], object],
) -> None:
    """Apply ``perform`` to each object in its own transaction; report per object."""
    done: list[str] = []
    for obj in queryset:
        try:
            with transaction.atomic():
                perform(obj)
        except DenwaError as error:
            messages.error(
                request,
                _("%(object)s: not done — %(message)s") % {"object": obj, "message": error.message},
            )
        else:
            done.append(str(obj))
    if done:
        messages.success(
            request,
            _("%(action)s: done for %(objects)s") % {"action": title, "objects": ", ".join(done)},
        )


def related(path: str, description: Any) -> Callable[[Any], str]:
    """A list column showing a related object's field (``contract__number``), translated label."""

    @admin.display(description=description, ordering=path)
    def column(obj: Any) -> str:
        value = obj
        for name in path.split("__"):
            value = getattr(value, name, None)
        return "" if value is None else str(value)

    column.__name__ = path
    return column


NUMBER = related("contract__number", _("050 number"))
"""The column most lists lead with: the contract's 050 number."""


# --- shared admin behaviour ------------------------------------------------------------------


class ConsoleAdmin(ModelAdminBase):
    """Base of the console's model admins.

    ``operate`` is the permission the service actions require: the user's
    change permission on the model, whatever the admin allows to be edited.
    Saving a change writes only the fields the form changed, so a concurrent
    service action (a state change, say) is never overwritten with a stale value.
    """

    list_per_page = 50

    def has_operate_permission(self, request: HttpRequest) -> bool:
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def save_model(
        self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool
    ) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        if not form.changed_data:
            return
        auto_now = [
            field.name for field in obj._meta.concrete_fields if getattr(field, "auto_now", False)
        ]
        obj.save(update_fields=[*form.changed_data, *auto_now])


class ReadOnlyAdmin(ConsoleAdmin):
    """Records: listed, searched and shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NoDeleteAdmin(ConsoleAdmin):
    """Rows other records depend on: they end by a service action, never by deletion."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(TabularInlineBase):
    """A record shown on its parent's page, read-only (every field it shows)."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for name in self.fields or () if isinstance(name, str)]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- subscribers -----------------------------------------------------------------------------


class ContractInline(ReadOnlyInline):
    model = Contract
    fields = ["number", "state", "start_date", "end_date"]
    show_change_link = True


@admin.register(IspAccount)
class IspAccountAdmin(NoDeleteAdmin):
    list_display = ["account_id", "name", "name_kana", "status", "status_changed_at", "lines"]
    list_filter = ["status"]
    search_fields = ["account_id", "name", "name_kana"]
    readonly_fields = ["status", "status_changed_at"]
    inlines = [ContractInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        annotated: QuerySet[Any] = (
            super().get_queryset(request).annotate(line_count=Count("contracts"))
        )
        return annotated

    @admin.display(description=_("phone contracts"), ordering="line_count")
    def lines(self, obj: IspAccount) -> int:
        return int(getattr(obj, "line_count", 0))


class ContractEventInline(ReadOnlyInline):
    model = ContractEvent
    fields = ["effective", "event", "from_state", "to_state", "reason", "actor", "created_at"]
    verbose_name_plural = _("history")


class SuspensionInline(ReadOnlyInline):
    model = Suspension
    fields = ["first_day", "last_day", "reason", "approved_by", "approved_at", "resumed_on"]


class RentalInline(ReadOnlyInline):
    model = Rental
    fields = ["ta_display", "first_day", "last_day", "collected", "collection_fee_yen"]

    @admin.display(description=_("TA"))
    def ta_display(self, obj: Rental) -> str:
        return str(obj.ta)


class AdjustmentInline(ReadOnlyInline):
    model = Adjustment
    fields = [
        "effective",
        "amount_yen",
        "tax_exempt",
        "reason",
        "created_by",
        "created_at",
        "billed_month",
    ]


class DataProvisionInline(ReadOnlyInline):
    model = DataProvision
    fields = ["provided_at", "recipient", "recipient_detail", "items", "purpose", "recorded_by"]


CONTRACT_SETTINGS = ["international_barred", "daily_spend_cap_yen"]
"""The only contract fields edited directly: everything else moves through the services."""


@admin.register(Contract)
class ContractAdmin(NoDeleteAdmin):
    list_display = [
        "number",
        "isp_account_id_display",
        "subscriber_name",
        "state",
        "start_date",
        "end_date",
        "current_ta",
        "international_barred",
    ]
    list_filter = ["state", "isp_account__status", "international_barred", "early_charge_waived"]
    search_fields = [
        "number",
        "isp_account__account_id",
        "isp_account__name",
        "isp_account__name_kana",
        "rentals__ta__serial",
        "rentals__ta__mac",
    ]
    search_help_text = _("050 number, ISP account, name or kana, TA serial or MAC")
    date_hierarchy = "start_date"
    ordering = ["number"]
    list_select_related = ["isp_account"]
    fieldsets = [
        (None, {"fields": ["number", "isp_account", "state"]}),
        (_("dates"), {"fields": ["applied_on", "start_date", "end_date"]}),
        (_("calls"), {"fields": ["international_barred", "daily_spend_cap_yen", "sip_realm"]}),
        (_("termination"), {"fields": ["early_charge_waived", "waiver_reason"]}),
        (_("record"), {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = [
        "number",
        "isp_account",
        "state",
        "applied_on",
        "start_date",
        "end_date",
        "sip_realm",
        "early_charge_waived",
        "waiver_reason",
        "created_at",
        "updated_at",
    ]
    inlines = [
        ContractEventInline,
        SuspensionInline,
        RentalInline,
        AdjustmentInline,
        DataProvisionInline,
    ]
    actions = [
        "approve_suspension",
        "resume_service",
        "stop_service",
        "terminate_contract",
        "assign_ta",
        "record_adjustment",
        "record_provision",
        issue_web_password,
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a contract is opened by `denwa subscriber add` (add_subscriber)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        open_rental = Rental.objects.filter(contract=OuterRef("pk"), last_day__isnull=True)
        annotated: QuerySet[Any] = (
            super()
            .get_queryset(request)
            .annotate(current_ta_serial=Subquery(open_rental.values("ta__serial")[:1]))
        )
        return annotated

    @admin.display(description=_("ISP account"), ordering="isp_account__account_id")
    def isp_account_id_display(self, obj: Contract) -> str:
        return obj.isp_account.account_id

    @admin.display(description=_("name"), ordering="isp_account__name")
    def subscriber_name(self, obj: Contract) -> str:
        return obj.isp_account.name

    @admin.display(description=_("TA"), ordering="current_ta_serial")
    def current_ta(self, obj: Contract) -> str:
        return str(getattr(obj, "current_ta_serial", None) or "")

    # The actions: each goes through a service; none sets a field itself.

    approve_suspension = service_action(
        "approve_suspension",
        _("Approve a suspension (一時停止)"),
        forms.SuspensionForm,
        lambda contract, data, actor: subscribers.suspend(
            contract.number,
            data["first_day"],
            data["last_day"],
            data["reason"],
            actor,
            operator_data().rules,
        ),
        form_kwargs=lambda: {"max_months": operator_data().rules.max_suspension_months},
    )
    resume_service = service_action(
        "resume_service",
        _("Resume service"),
        forms.ResumeForm,
        lambda contract, data, actor: subscribers.resume(
            contract.number,
            data["on"],
            actor,
            **({"reason": data["reason"]} if data["reason"] else {}),
        ),
    )
    stop_service = service_action(
        "stop_service",
        _("Stop service (提供停止)"),
        forms.StopForm,
        lambda contract, data, actor: subscribers.stop(
            contract.number, data["on"], data["reason"], actor
        ),
    )
    terminate_contract = service_action(
        "terminate_contract",
        _("Terminate the contract (契約解除)"),
        forms.TerminationForm,
        lambda contract, data, actor: subscribers.terminate(
            contract.number,
            data["on"],
            actor,
            reason=data["reason"],
            waive_early=data["waive_early"],
        ),
    )
    assign_ta = service_action(
        "assign_ta",
        _("Assign a TA"),
        forms.AssignTaForm,
        lambda contract, data, actor: subscribers.assign_ta(
            contract.number, data["serial"], data["on"], actor
        ),
    )
    record_adjustment = service_action(
        "record_adjustment",
        _("Record an adjustment"),
        forms.AdjustmentForm,
        lambda contract, data, actor: record_adjustment(
            contract.number,
            data["amount_yen"],
            data["reason"],
            data["effective"],
            actor,
            tax_exempt=data["tax_exempt"],
        ),
    )
    record_provision = service_action(
        "record_provision",
        _("Record a personal-data provision"),
        forms.ProvisionForm,
        lambda contract, data, actor: support.record_provision(
            contract.number,
            data["recipient"],
            data["items"],
            data["purpose"],
            data["provided_at"],
            actor,
            recipient_detail=data["recipient_detail"],
        ),
    )


@admin.register(ContractEvent)
class ContractEventAdmin(ReadOnlyAdmin):
    list_display = [
        NUMBER,
        "event",
        "from_state",
        "to_state",
        "effective",
        "reason",
        "actor",
        "created_at",
    ]
    list_filter = ["event", "to_state"]
    search_fields = ["contract__number", "actor", "reason"]
    date_hierarchy = "effective"
    list_select_related = ["contract"]


@admin.register(Suspension)
class SuspensionAdmin(ReadOnlyAdmin):
    list_display = [
        NUMBER,
        "first_day",
        "last_day",
        "reason",
        "approved_by",
        "resumed_on",
    ]
    search_fields = ["contract__number", "reason", "approved_by"]
    date_hierarchy = "first_day"
    list_select_related = ["contract"]


# --- TAs ----------------------------------------------------------------------------------------


def _return_arguments(data: dict[str, Any]) -> dict[str, Any]:
    return {"on": data["on"]}


def _collection_arguments(data: dict[str, Any]) -> dict[str, Any]:
    return {"on": data["on"], "collected": True, "fee_yen": data["fee_yen"]}


class TaActionsAdmin(ConsoleAdmin):
    """Return and collection actions, shared by the TA and the rental lists."""

    def ta_serial(self, obj: Any) -> str:
        """The serial of the TA to take back for this row."""
        raise NotImplementedError

    def _ta_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        name: str,
        title: Any,
        form_class: type[Form],
        arguments: Callable[[dict[str, Any]], dict[str, Any]],
        form_kwargs: dict[str, Any] | None = None,
    ) -> TemplateResponse | None:
        def perform(obj: Any, data: dict[str, Any], actor: str) -> object:
            return subscribers.return_ta(self.ta_serial(obj), actor=actor, **arguments(data))

        return run_action(
            self,
            request,
            queryset,
            name=name,
            title=title,
            form_class=form_class,
            perform=perform,
            form_kwargs=form_kwargs,
        )

    @admin.action(description=_("Record the TA's return"), permissions=["operate"])
    def return_ta(self, request: HttpRequest, queryset: QuerySet[Any]) -> TemplateResponse | None:
        return self._ta_action(
            request,
            queryset,
            "return_ta",
            _("Record the TA's return"),
            forms.ReturnTaForm,
            _return_arguments,
        )

    @admin.action(description=_("Record a TA collection (with fee)"), permissions=["operate"])
    def collect_ta(self, request: HttpRequest, queryset: QuerySet[Any]) -> TemplateResponse | None:
        return self._ta_action(
            request,
            queryset,
            "collect_ta",
            _("Record a TA collection (with fee)"),
            forms.CollectionForm,
            _collection_arguments,
            {"fees": operator_data().fees},
        )


class TaRentalInline(ReadOnlyInline):
    model = Rental
    fields = ["contract_display", "first_day", "last_day", "collected", "collection_fee_yen"]

    @admin.display(description=_("phone contract"))
    def contract_display(self, obj: Rental) -> str:
        return str(obj.contract)


@admin.register(TerminalAdapter)
class TerminalAdapterAdmin(TaActionsAdmin):
    list_display = ["serial", "mac", "model", "status", "rented_to", "provisioned_port"]
    list_filter = ["status", "model"]
    search_fields = ["serial", "mac", "model", "rentals__contract__number"]
    search_help_text = _("serial number, MAC address, model or 050 number")
    readonly_fields = ["status"]
    ordering = ["serial"]
    inlines = [TaRentalInline]
    actions = ["return_ta", "collect_ta"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        open_rental = Rental.objects.filter(ta=OuterRef("pk"), last_day__isnull=True)
        annotated: QuerySet[Any] = (
            super()
            .get_queryset(request)
            .annotate(rented_to_number=Subquery(open_rental.values("contract__number")[:1]))
        )
        return annotated

    @admin.display(description=_("rented to"), ordering="rented_to_number")
    def rented_to(self, obj: TerminalAdapter) -> str:
        return str(getattr(obj, "rented_to_number", None) or "")

    def ta_serial(self, obj: TerminalAdapter) -> str:
        return obj.serial


class OpenRentalFilter(admin.SimpleListFilter):
    title = _("rental")
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("current")), ("no", _("ended"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(last_day__isnull=self.value() == "yes")
        return queryset


@admin.register(Rental)
class RentalAdmin(ReadOnlyAdmin, TaActionsAdmin):
    list_display = [
        related("ta__serial", _("serial number")),
        related("ta__mac", _("MAC address")),
        NUMBER,
        "first_day",
        "last_day",
        "collected",
        "collection_fee_yen",
    ]
    list_filter = [OpenRentalFilter, "collected"]
    search_fields = ["ta__serial", "ta__mac", "contract__number"]
    date_hierarchy = "first_day"
    list_select_related = ["ta", "contract"]
    actions = ["return_ta", "collect_ta"]

    def ta_serial(self, obj: Rental) -> str:
        # Only this rental may be ended: once it has, its TA may be rented to someone else.
        if not Rental.objects.select_for_update().filter(pk=obj.pk, last_day__isnull=True).exists():
            raise EquipmentError(f"this rental of TA {obj.ta.serial} has already ended")
        return obj.ta.serial


# Bank mandates, debit runs, debit status per statement and the stop list:
# denwa/collection/admin.py (mandates are entered through the collection checks).


# --- call records -------------------------------------------------------------------------------


@admin.register(Cdr)
class CdrAdmin(ReadOnlyAdmin):
    list_display = [
        "cdr_id",
        "started_at",
        "direction",
        "caller",
        "dialled",
        "call_class",
        "disposition",
        "sip_code",
        "billed_seconds",
        "charge_yen",
        "billing_month",
        "billed_on",
    ]
    list_filter = [
        "disposition",
        "call_class",
        "direction",
        ("billing_month", admin.AllValuesFieldListFilter),
    ]
    search_fields = ["=cdr_id", "caller", "dialled", "callee", "contract__number"]
    search_help_text = _("CDR id (exact), caller, dialled or normalised number")
    ordering = ["-started_at"]
    # Millions of rows: no full count, and the month filter instead of a date hierarchy.
    show_full_result_count = False
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        annotated: QuerySet[Any] = (
            super().get_queryset(request).annotate(billed_on=carrying_month())
        )
        return annotated

    @admin.display(description=_("billed on"), ordering="billed_on")
    def billed_on(self, obj: Cdr) -> str:
        return getattr(obj, "billed_on", None) or "-"


@admin.register(CallTotal)
class CallTotalAdmin(ReadOnlyAdmin):
    """Running totals of answered calls, as the close will bill them (empty "billed on": open)."""

    list_display = [
        "contract",
        "billing_month",
        "call_class",
        "calls",
        "seconds",
        "charge_yen",
        "billed_month",
    ]
    list_filter = [
        "call_class",
        ("billing_month", admin.AllValuesFieldListFilter),
        ("billed_month", admin.AllValuesFieldListFilter),
    ]
    search_fields = ["contract__number"]
    list_select_related = ["contract"]
    ordering = ["-billing_month", "contract__number", "call_class"]
    show_full_result_count = False


@admin.register(OpenCall)
class OpenCallAdmin(ReadOnlyAdmin):
    """Answered calls whose end has not been reported yet."""

    list_display = ["cdr_id", "max_end", "created_at"]
    search_fields = ["=cdr_id"]
    ordering = ["max_end"]


@admin.register(SpoolOffset)
class SpoolOffsetAdmin(ReadOnlyAdmin):
    """How far the CDR ingest has read each SIP spool file."""

    list_display = ["path", "offset", "updated_at"]
    search_fields = ["path"]
    ordering = ["path"]


# --- billing -------------------------------------------------------------------------------------


class StatementLineInline(ReadOnlyInline):
    model = StatementLine
    fields = [
        "position",
        "code",
        "description",
        "quantity",
        "call_class",
        "call_seconds",
        "amount_yen",
        "tax_category",
    ]


class StatementTaxInline(ReadOnlyInline):
    model = StatementTax
    fields = ["tax_category", "rate", "subtotal_yen", "tax_yen"]


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = [
        NUMBER,
        "month",
        "subtotal_yen",
        "tax_yen",
        "total_yen",
        "closed_at",
    ]
    list_filter = [("month", admin.AllValuesFieldListFilter)]
    search_fields = ["contract__number", "=month"]
    search_help_text = _("050 number or month (YYYY-MM)")
    list_select_related = ["contract"]
    inlines = [StatementLineInline, StatementTaxInline]


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnlyAdmin):
    list_display = [
        related("statement__contract__number", _("050 number")),
        related("statement__month", _("month")),
        "position",
        "code",
        "description",
        "amount_yen",
        "tax_category",
    ]
    list_filter = ["code", "tax_category", ("statement__month", admin.AllValuesFieldListFilter)]
    search_fields = ["statement__contract__number", "code", "description"]
    list_select_related = ["statement__contract"]


@admin.register(StatementTax)
class StatementTaxAdmin(ReadOnlyAdmin):
    list_display = [
        related("statement__contract__number", _("050 number")),
        related("statement__month", _("month")),
        "tax_category",
        "rate",
        "subtotal_yen",
        "tax_yen",
    ]
    list_filter = ["tax_category", ("statement__month", admin.AllValuesFieldListFilter)]
    search_fields = ["statement__contract__number"]
    list_select_related = ["statement__contract"]


@admin.register(MonthClose)
class MonthCloseAdmin(ReadOnlyAdmin):
    list_display = ["month", "statements", "total_yen", "closed_at", "closed_by", "seconds_taken"]
    search_fields = ["=month"]


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyAdmin):
    list_display = [
        NUMBER,
        "amount_yen",
        "tax_exempt",
        "reason",
        "effective",
        "created_by",
        "billed_month",
    ]
    list_filter = ["tax_exempt", ("billed_month", admin.AllValuesFieldListFilter)]
    search_fields = ["contract__number", "reason", "created_by"]
    date_hierarchy = "effective"
    list_select_related = ["contract"]


# --- support --------------------------------------------------------------------------------------


class InquiryReplyInline(ReadOnlyInline):
    model = InquiryReply
    fields = ["created_at", "author", "body"]


@admin.register(Inquiry)
class InquiryAdmin(NoDeleteAdmin):
    list_display = ["subject", NUMBER, "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["contract__number", "subject", "body"]
    date_hierarchy = "created_at"
    list_select_related = ["contract"]
    fields = ["contract", "subject", "body", "status", "created_at"]
    readonly_fields = ["contract", "subject", "body", "created_at"]
    inlines = [InquiryReplyInline]
    actions = ["reply"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # subscribers ask through the portal

    reply = service_action(
        "reply",
        _("Reply"),
        forms.ReplyForm,
        lambda inquiry, data, actor: support.reply_to_inquiry(inquiry, data["body"], actor),
    )


@admin.register(InquiryReply)
class InquiryReplyAdmin(ReadOnlyAdmin):
    list_display = [
        related("inquiry__subject", _("subject")),
        related("inquiry__contract__number", _("050 number")),
        "author",
        "created_at",
    ]
    search_fields = ["inquiry__contract__number", "body", "author"]
    list_select_related = ["inquiry__contract"]


@admin.register(DataProvision)
class DataProvisionAdmin(ReadOnlyAdmin):
    list_display = [
        NUMBER,
        "recipient",
        "recipient_detail",
        "items",
        "purpose",
        "provided_at",
        "recorded_by",
    ]
    list_filter = ["recipient"]
    search_fields = ["contract__number", "recipient_detail", "items", "purpose", "recorded_by"]
    date_hierarchy = "provided_at"
    list_select_related = ["contract"]


# --- operator data -----------------------------------------------------------------------------


@admin.register(DataFileVersion)
class DataFileVersionAdmin(ReadOnlyAdmin):
    list_display = ["name", "short_sha", "origin", "loaded_at", "loaded_by"]
    list_filter = ["name"]
    search_fields = ["name", "sha256", "origin"]
    date_hierarchy = "loaded_at"

    @admin.display(description=_("SHA-256"), ordering="sha256")
    def short_sha(self, obj: DataFileVersion) -> str:
        return obj.sha256[:12]
