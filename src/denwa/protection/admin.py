"""The protection pages of the operator console (SPEC §2 提供中止, §7).

- *Alerts*: what the SIP side and the protection watch raised; actions:
  acknowledge, stop the line (提供停止, the subscribers' stop), lift the block.
- *Maintenance switch*: its history; "add" moves the switch.
- *Calls on hold*, *calls in progress (long calls)*: flagged past the limits.
- *International calls per day*: what each line's calls cost today and before.
- *SIP blocks and counters*: read from the running node through Kamailio's RPC,
  each block with its end and a lift button.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from denwa.console import forms as console_forms
from denwa.console.admin import (
    NUMBER,
    ConsoleAdmin,
    ReadOnlyAdmin,
    actor_of,
    service_action,
)
from denwa.core.errors import DenwaError
from denwa.protection import forms, services
from denwa.protection.models import (
    Alert,
    HeldCall,
    InternationalDay,
    LongCall,
    MaintenanceChange,
    SipBlock,
)
from denwa.protection.snapshot import protection_policy

SIP_STATUS_TEMPLATE = "protection/sip_status.html"


def duration(seconds: float) -> str:
    """``H:MM:SS``."""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class OverLimitFilter(admin.SimpleListFilter):
    """Rows past the policy's limit (hold or call length)."""

    title = _("length")
    parameter_name = "over"
    field = ""
    limit_setting = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("over the limit"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() != "yes":
            return queryset
        seconds = getattr(protection_policy().rules, self.limit_setting)
        return queryset.filter(**{f"{self.field}__lt": timezone.now() - timedelta(seconds=seconds)})


# --- alerts -------------------------------------------------------------------------------------


class OpenAlertFilter(admin.SimpleListFilter):
    title = _("acknowledged")
    parameter_name = "seen"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("not yet")), ("yes", _("acknowledged"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(acknowledged_at__isnull=self.value() == "no")
        return queryset


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = [
        "raised_at",
        "kind",
        "number",
        "source",
        "count",
        "until",
        "lifted_at",
        "acknowledged_at",
        "summary",
    ]
    list_filter = ["kind", OpenAlertFilter]
    search_fields = ["number", "source", "=block_key"]
    search_help_text = _("050 number, source address or block (line:…, source:…)")
    date_hierarchy = "raised_at"
    list_select_related = ["contract"]
    actions = ["acknowledge", "stop_line", "lift_block"]

    @admin.display(description=_("detail"))
    def summary(self, alert: Alert) -> str:
        return ", ".join(f"{key} {value}" for key, value in alert.detail.items())

    acknowledge = service_action(
        "acknowledge",
        _("Acknowledge"),
        forms.AcknowledgeForm,
        lambda alert, data, actor: services.acknowledge(alert, actor, data["note"]),
    )
    stop_line = service_action(
        "stop_line",
        _("Stop this line (提供停止)"),
        console_forms.StopForm,
        lambda alert, data, actor: services.stop_line(alert, data["on"], data["reason"], actor),
    )
    lift_block = service_action(
        "lift_block",
        _("Lift the block"),
        forms.LiftForm,
        lambda alert, data, actor: services.lift_block(alert.block_key, actor),
    )


# --- the maintenance switch ---------------------------------------------------------------------


@admin.register(MaintenanceChange)
class MaintenanceChangeAdmin(ConsoleAdmin):
    """The switch's history; "add" moves it (through the service, which publishes it)."""

    form = forms.MaintenanceForm
    list_display = ["changed_at", "on", "message", "retry_after_seconds", "changed_by"]
    list_filter = ["on"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool
    ) -> None:
        data = form.cleaned_data
        saved = services.set_maintenance(
            data["on"], actor_of(request), data["message"], data["retry_after_seconds"]
        )
        obj.pk, obj.changed_by, obj.changed_at = saved.pk, saved.changed_by, saved.changed_at

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except DenwaError as error:  # the service refused: nothing was saved
            messages.error(request, error.message)
            return HttpResponseRedirect(request.path)


# --- calls on hold, long calls --------------------------------------------------------------------


class HeldOverLimit(OverLimitFilter):
    field = "held_at"
    limit_setting = "hold_alert_seconds"


class StillHeldFilter(admin.SimpleListFilter):
    title = _("on hold")
    parameter_name = "held"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("still on hold")), ("no", _("ended"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(resumed_at__isnull=self.value() == "yes")
        return queryset


@admin.register(HeldCall)
class HeldCallAdmin(ReadOnlyAdmin):
    list_display = ["number", "held_at", "resumed_at", "held_for", "call_id"]
    list_filter = [StillHeldFilter, HeldOverLimit]
    search_fields = ["number", "=call_id"]
    date_hierarchy = "held_at"

    @admin.display(description=_("on hold for"))
    def held_for(self, held: HeldCall) -> str:
        return duration(((held.resumed_at or timezone.now()) - held.held_at).total_seconds())


class LongOverLimit(OverLimitFilter):
    field = "created_at"
    limit_setting = "long_call_alert_seconds"


@admin.register(LongCall)
class LongCallAdmin(ReadOnlyAdmin):
    """Answered calls whose end has not come yet, longest first."""

    list_display = ["cdr_id", "caller", "callee", "answered", "open_for", "max_end"]
    list_filter = [LongOverLimit]
    search_fields = ["=cdr_id"]
    ordering = ["created_at"]

    @staticmethod
    def _answered(call: LongCall) -> datetime:
        try:
            return datetime.fromisoformat(str(call.record.get("answer")))
        except ValueError:
            return call.created_at

    @admin.display(description=_("caller"))
    def caller(self, call: LongCall) -> str:
        return str(call.record.get("caller", ""))

    @admin.display(description=_("callee"))
    def callee(self, call: LongCall) -> str:
        return str(call.record.get("callee", ""))

    @admin.display(description=_("answered"))
    def answered(self, call: LongCall) -> datetime:
        return self._answered(call)

    @admin.display(description=_("open for"))
    def open_for(self, call: LongCall) -> str:
        return duration((timezone.now() - self._answered(call)).total_seconds())


# --- international calls per day ----------------------------------------------------------------


@admin.register(InternationalDay)
class InternationalDayAdmin(ReadOnlyAdmin):
    list_display = [NUMBER, "day", "calls", "minutes", "charge_yen", "cap_yen"]
    search_fields = ["contract__number"]
    date_hierarchy = "day"
    list_select_related = ["contract"]

    @admin.display(description=_("minutes"), ordering="seconds")
    def minutes(self, day: InternationalDay) -> int:
        return day.seconds // 60

    @admin.display(description=_("daily cap (yen)"))
    def cap_yen(self, day: InternationalDay) -> int:
        cap = day.contract.daily_spend_cap_yen
        return cap if cap is not None else protection_policy().rules.international_daily_cap_yen


# --- SIP blocks and counters (Kamailio's RPC) -----------------------------------------------


@admin.register(SipBlock)
class SipBlockAdmin(ConsoleAdmin):
    """The running node's blocks (with their end, and a lift button) and refusal counters."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        lift = self.admin_site.admin_view(self.lift_view)
        return [path("lift/", lift, name="protection_sipblock_lift"), *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": self.opts.verbose_name_plural,
            "opts": self.opts,
            "maintenance": services.maintenance(),
            "can_lift": self.has_change_permission(request),
        }
        try:
            status = services.sip_status()
        except DenwaError as error:
            context["unavailable"] = error.message
        else:
            now = time.time()
            context["blocks"] = [
                (block, duration(block.seconds_left(now))) for block in status.blocks
            ]
            context["refused"] = status.refused
        request.current_app = self.admin_site.name
        return TemplateResponse(request, SIP_STATUS_TEMPLATE, context)

    def lift_view(self, request: HttpRequest) -> HttpResponse:
        back = HttpResponseRedirect(reverse("admin:protection_sipblock_changelist"))
        if request.method != "POST" or not self.has_change_permission(request):
            return back
        key = request.POST.get("key", "")
        try:
            services.lift_block(key, actor_of(request))
        except DenwaError as error:
            messages.error(
                request,
                _("%(key)s: not lifted — %(message)s") % {"key": key, "message": error.message},
            )
        else:
            messages.success(request, _("%(key)s: block lifted") % {"key": key})
        return back
