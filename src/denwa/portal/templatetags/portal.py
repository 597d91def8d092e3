"""Template filters of the portal: the words of ``denwa.portal.labels`` in templates."""

from __future__ import annotations

from django import template

from denwa.core.collection.status import DebitStatus
from denwa.portal import debits, labels

register = template.Library()


@register.filter
def class_label(code: str) -> str:
    """A call class in words."""
    return labels.class_label(code)


@register.filter
def yen(amount: int | None) -> str:
    """1,234円 / 1,234 yen."""
    return "" if amount is None else labels.yen_text(int(amount))


@register.filter
def duration(seconds: int) -> str:
    """3分05秒 / 3 min 05 s."""
    return labels.duration_text(int(seconds))


@register.filter
def month_label(month: str) -> str:
    """2026年11月 / Nov 2026."""
    return labels.month_text(month)


@register.filter
def debit_label(status: DebitStatus) -> str:
    """A statement's debit status in words."""
    return debits.debit_label(status)


@register.filter
def line_name(line: object) -> str:
    """A statement line's name."""
    return labels.line_label(getattr(line, "code", ""), getattr(line, "description", ""))[0]


@register.filter
def line_detail(line: object) -> str:
    """What a statement line's stored description adds to its name (English page)."""
    return labels.line_label(getattr(line, "code", ""), getattr(line, "description", ""))[1]


@register.filter
def tax_label(row: object) -> str:
    """A tax row's name (消費税 10% / tax exempt)."""
    return labels.tax_label(getattr(row, "tax_category", ""), getattr(row, "rate_percent", ""))


@register.filter
def inquiry_state(status: str) -> str:
    """An inquiry's status in the subscriber's words."""
    return labels.inquiry_state(status)


@register.filter
def short_month(month: str) -> str:
    """The chart's axis label: 11月 / Nov (the year when it is January)."""
    year, number = month.split("-")
    if labels.japanese():
        return f"{int(number)}月" if number != "01" else f"{year[2:]}年1月"
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    name = names[int(number) - 1]
    return name if number != "01" else f"{name} {year[2:]}"
