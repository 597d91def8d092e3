"""How codes read on the page and in the CSV files, in the language of the request.

Tables, not if-chains: a call class is named by the core's ``CLASS_LABELS``
(Japanese, English); a statement line by its code; a debit status by its key.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from denwa.core.billing.statement import (
    ADJUSTMENT_LINE,
    CALLS_LINE_PREFIX,
    LATE_CALLS_LINE_PREFIX,
)
from denwa.core.contracts.fees import EARLY_TERMINATION, Fee
from denwa.core.numbering.classes import CLASS_LABELS, CallClass

LINE_LABELS: dict[str, Any] = {
    Fee.INITIAL_REGISTRATION.value: gettext_lazy("Initial registration fee"),
    Fee.REACTIVATION.value: gettext_lazy("Reactivation fee"),
    Fee.BASIC.value: gettext_lazy("Basic monthly fee"),
    Fee.TA_RENTAL.value: gettext_lazy("TA rental fee"),
    Fee.TA_COLLECTION.value: gettext_lazy("TA collection fee"),
    EARLY_TERMINATION: gettext_lazy("Termination within the minimum period"),
    ADJUSTMENT_LINE: gettext_lazy("Adjustment"),
}
"""Statement line codes with a fixed name (call lines are named after their class)."""
DETAILED_LINES = frozenset({EARLY_TERMINATION, ADJUSTMENT_LINE})
"""Lines whose stored description says more than their name (the reason, the months)."""
TAX_LABELS: dict[str, Any] = {
    "standard": gettext_lazy("Consumption tax %(rate)s%%"),
    "exempt": gettext_lazy("Tax exempt (international calls)"),
}
INQUIRY_STATES: dict[str, Any] = {
    "open": gettext_lazy("waiting for a reply"),
    "answered": gettext_lazy("answered by the support desk"),
    "closed": gettext_lazy("closed"),
}
"""An inquiry's status as the subscriber reads it (the console has the operator's words)."""
LATE_MONTH = re.compile(r"(\d{4}-\d{2})")


def japanese() -> bool:
    """True when the request's language is Japanese (the default)."""
    return (get_language() or "ja").startswith("ja")


def class_label(code: str) -> str:
    """A call class in words, e.g. ``mobile`` → 国内の携帯電話 / Mobile phones."""
    try:
        names = CLASS_LABELS[CallClass(code)]
    except ValueError:
        return code
    return names[0] if japanese() else names[1]


def line_label(code: str, description: str) -> tuple[str, str]:
    """(name, detail) of a statement line.

    In Japanese the stored description is the bill as it was closed; in English
    the name comes from the code, with the stored description as the detail
    when it tells more (an adjustment's reason, the months of an early charge).
    """
    if japanese():
        return description, ""
    late = code.startswith(LATE_CALLS_LINE_PREFIX)
    if late or code.startswith(CALLS_LINE_PREFIX):
        klass = class_label(code.split(":", 1)[1])
        found = LATE_MONTH.search(description)
        if late:
            month = found.group(1) if found else ""
            return _("Calls: %(class)s (%(month)s, arrived after its close)") % {
                "class": klass,
                "month": month,
            }, ""
        return _("Calls: %(class)s") % {"class": klass}, ""
    name = LINE_LABELS.get(code)
    if name is None:
        return description, ""
    return str(name), description if code in DETAILED_LINES else ""


def inquiry_state(status: str) -> str:
    """An inquiry's status in the subscriber's words."""
    label = INQUIRY_STATES.get(status)
    return status if label is None else str(label)


def tax_label(category: str, rate: str) -> str:
    """A tax row: ``消費税 10%`` or the exempt subtotal."""
    template = TAX_LABELS.get(category, TAX_LABELS["standard"])
    return str(template) % {"rate": rate}


def duration_text(seconds: int) -> str:
    """A call's length for people: 3分05秒 / 3 min 05 s (hours when it is that long)."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)02d min %(s)02d s") % {"h": hours, "m": minutes, "s": secs}
    return _("%(m)d min %(s)02d s") % {"m": minutes, "s": secs}


def yen_text(amount: int) -> str:
    """An amount of money: 1,234円 / ¥1,234."""
    return _("%(amount)s yen") % {"amount": f"{amount:,}"}


def month_text(month: str) -> str:
    """``2026-11`` → 2026年11月 / Nov 2026."""
    year, number = month.split("-")
    if japanese():
        return f"{int(year)}年{int(number)}月"
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{names[int(number) - 1]} {year}"
