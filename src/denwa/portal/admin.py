"""The web sign-ins in the operator console: who has one, who is locked, every attempt."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from denwa.console.admin import NUMBER, ConsoleAdmin, ReadOnlyAdmin, actor_of, apply_each
from denwa.portal import accounts
from denwa.portal.console import issue_web_password
from denwa.portal.models import SignInAttempt, WebAccount


@admin.register(WebAccount)
class WebAccountAdmin(ConsoleAdmin):
    """Read-only rows; the password and the lock change only through the actions."""

    list_display = [
        NUMBER,
        "must_change",
        "password_set_at",
        "password_set_by",
        "failed_attempts",
        "locked_until",
        "last_sign_in",
    ]
    list_filter = ["must_change"]
    search_fields = ["contract__number"]
    list_select_related = ["contract"]
    exclude = ["password"]
    readonly_fields = [
        "contract",
        "must_change",
        "password_set_at",
        "password_set_by",
        "failed_attempts",
        "locked_until",
        "last_sign_in",
    ]
    actions = [issue_web_password, "unlock"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued from the contract list (or `denwa portal password`)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Lift the lock-out"), permissions=["operate"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        actor = actor_of(request)
        apply_each(
            request,
            queryset.select_related("contract"),
            _("Lift the lock-out"),
            lambda account: accounts.unlock(account.contract.number, actor),
        )


@admin.register(SignInAttempt)
class SignInAttemptAdmin(ReadOnlyAdmin):
    """Every sign-in attempt to the subscriber pages (kept for the lock-outs and for audits)."""

    list_display = ["at", "number", "source", "outcome"]
    list_filter = ["outcome"]
    search_fields = ["number", "source"]
    date_hierarchy = "at"
    show_full_result_count = False
