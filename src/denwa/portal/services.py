"""What a signed-in subscriber sees: this month so far, statements, calls, inquiries, records.

Every function takes the subscriber's own ``Contract`` and reads only rows of
that contract: an id that belongs to someone else is ``NotFound`` (the page
answers 404), exactly like an id that does not exist.

Statements are read as the close stored them; their totals come from
``denwa.billing.services.show_statement``, the service ``denwa bill show``
prints, so the page and the command always agree.  Calls are read by the
contract and the Asia/Tokyo month of their answer (``Cdr.billing_month``),
through the (contract, billing_month) index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from denwa.billing.models import MonthClose, Statement
from denwa.billing.services import show_statement
from denwa.calls.models import Cdr
from denwa.console.operator_data import operator_data
from denwa.core.collection.status import DebitStatus
from denwa.core.errors import InvalidInput
from denwa.core.numbering.classes import CallClass
from denwa.core.timeutil import TOKYO, Month, billing_date
from denwa.portal import debits
from denwa.portal.chart import BarChart, bar_chart
from denwa.portal.conf import portal_settings
from denwa.portal.errors import BadFilter, NotFound
from denwa.portal.formats import mask_number
from denwa.subscribers.models import Contract
from denwa.support.models import DataProvision, Inquiry


def charged_classes() -> tuple[CallClass, ...]:
    """The classes a call can be answered and rated in: those the tariffs price (the call
    detail's class filter), in the order of ``CallClass``."""
    tariffs = operator_data().tariffs
    return tuple(
        c
        for c in CallClass
        if c in tariffs.by_class or (c is CallClass.INTERNATIONAL and tariffs.international)
    )


CALL_FIELDS = (
    "id", "callee", "dialled", "call_class", "started_at", "answered_at", "ended_at",
    "billed_seconds", "unit_seconds", "yen_per_unit", "units", "charge_yen", "tax_exempt",
    "billing_month",
)  # fmt: skip
"""What the page of one call reads of its CDR."""
CHART_MONTHS = 12
FILTER_MONTHS = 24
"""How many months back the call detail's month filter offers."""


# --- shared shapes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassTotal:
    """Answered outbound calls of one class: how many, how long, what they cost (tax excl.)."""

    call_class: str
    count: int
    seconds: int
    amount_yen: int


@dataclass(frozen=True)
class MonthSoFar:
    """Calls of a month not yet billed: the current month, or one whose close is pending."""

    month: str
    classes: tuple[ClassTotal, ...]
    count: int
    seconds: int
    amount_yen: int
    month_over: bool  # the month has ended and waits for its close


@dataclass(frozen=True)
class StatementSummary:
    """One closed statement in the list."""

    id: int
    month: str
    subtotal_yen: int
    tax_yen: int
    total_yen: int
    closed_at: datetime
    debit: DebitStatus  # from the collection app: paid, unpaid, carried over …


@dataclass(frozen=True)
class Overview:
    """The first page after signing in."""

    number: str
    state: str
    as_of: datetime
    so_far: tuple[MonthSoFar, ...]
    latest: StatementSummary | None
    chart: BarChart


def _months_back(last: Month, count: int) -> list[Month]:
    months = [last]
    while len(months) < count:
        months.append(months[-1].previous())
    return months


def _answered_out(contract: Contract, month: str) -> QuerySet[Cdr]:
    """The contract's answered outbound calls of ``month`` (the ones a statement charges)."""
    return Cdr.objects.filter(
        contract=contract,
        billing_month=month,
        direction=Cdr.Direction.OUT,
        answered_at__isnull=False,
    )


# --- overview ------------------------------------------------------------------------------------


def overview(contract: Contract, now: datetime | None = None) -> Overview:
    """This month's calls so far (and last month's while its close is pending), the latest
    statement, and the totals of the last 12 months for the chart."""
    now = now or timezone.now()
    current = Month.of(billing_date(now))
    start = Month.of(contract.start_date) if contract.start_date else current
    candidates = [m for m in (current.previous(), current) if m >= start]
    closed = set(
        MonthClose.objects.filter(month__in=[str(m) for m in candidates]).values_list(
            "month", flat=True
        )
    )
    so_far = tuple(
        month_so_far(contract, month, month_over=month < current)
        for month in candidates
        if str(month) not in closed
    )
    summaries = statements_of(contract, limit=CHART_MONTHS)
    return Overview(
        number=contract.number,
        state=contract.state,
        as_of=now,
        so_far=tuple(reversed(so_far)),
        latest=summaries[0] if summaries else None,
        chart=twelve_months(summaries, current.previous()),
    )


def month_so_far(contract: Contract, month: Month, *, month_over: bool = False) -> MonthSoFar:
    """The answered outbound calls of ``month`` per class, as rated so far (not yet billed)."""
    rows = (
        _answered_out(contract, str(month))
        .values("call_class")
        .annotate(count=Count("id"), seconds=Sum("billed_seconds"), amount=Sum("charge_yen"))
        .order_by()
    )
    order = {c.value: i for i, c in enumerate(CallClass)}
    classes = tuple(
        sorted(
            (
                ClassTotal(
                    row["call_class"],
                    int(row["count"]),
                    int(row["seconds"] or 0),
                    int(row["amount"] or 0),
                )
                for row in rows
            ),
            key=lambda t: (order.get(t.call_class, len(order)), t.call_class),
        )
    )
    return MonthSoFar(
        month=str(month),
        classes=classes,
        count=sum(t.count for t in classes),
        seconds=sum(t.seconds for t in classes),
        amount_yen=sum(t.amount_yen for t in classes),
        month_over=month_over,
    )


def twelve_months(summaries: list[StatementSummary], fallback_last: Month) -> BarChart:
    """Bars of the statement totals of the 12 months up to the latest statement."""
    totals = {s.month: s.total_yen for s in summaries}
    last = Month.parse(summaries[0].month) if summaries else fallback_last
    months = list(reversed(_months_back(last, CHART_MONTHS)))
    return bar_chart([(str(m), totals.get(str(m))) for m in months])


# --- statements ----------------------------------------------------------------------------------


def statements_of(contract: Contract, limit: int | None = None) -> list[StatementSummary]:
    """The contract's closed statements, newest first, each with its debit status."""
    query = Statement.objects.filter(contract=contract).order_by("-month")
    statements = list(query[:limit] if limit else query)
    status = debits.statuses(statements)
    return [
        StatementSummary(
            id=s.pk,
            month=s.month,
            subtotal_yen=s.subtotal_yen,
            tax_yen=s.tax_yen,
            total_yen=s.total_yen,
            closed_at=s.closed_at,
            debit=status[s.pk],
        )
        for s in statements
    ]


@dataclass(frozen=True)
class StatementLineView:
    """A line as the page shows it."""

    code: str
    description: str
    quantity: int
    call_class: str
    seconds: int
    amount_yen: int
    tax_category: str
    late: bool


@dataclass(frozen=True)
class TaxRow:
    """Tax of one rate: the subtotal it is computed on and the tax (rate None: exempt)."""

    tax_category: str
    rate_percent: str
    subtotal_yen: int
    tax_yen: int


@dataclass(frozen=True)
class StatementDetail:
    """A closed statement with every line, the tax per rate and the total."""

    summary: StatementSummary
    number: str
    fixed: tuple[StatementLineView, ...]
    calls: tuple[StatementLineView, ...]
    late: tuple[StatementLineView, ...]
    adjustments: tuple[StatementLineView, ...]
    taxes: tuple[TaxRow, ...]
    subtotal_yen: int
    tax_yen: int
    total_yen: int

    @property
    def lines(self) -> tuple[StatementLineView, ...]:
        """Every line in the order of the page (and of the CSV)."""
        return (*self.fixed, *self.calls, *self.late, *self.adjustments)


def _own_statement(contract: Contract, statement_id: int) -> Statement:
    statement: Statement | None = Statement.objects.filter(
        pk=statement_id, contract=contract
    ).first()
    if statement is None:
        raise NotFound("statement", statement_id)
    return statement


def statement_detail(contract: Contract, statement_id: int) -> StatementDetail:
    """One of the contract's statements, line by line (``NotFound`` if it is not theirs)."""
    statement = _own_statement(contract, statement_id)
    shown = show_statement(contract.number, Month.parse(statement.month))
    lines = [
        StatementLineView(
            code=line.code,
            description=line.description,
            quantity=line.quantity,
            call_class=line.call_class,
            seconds=line.call_seconds,
            amount_yen=line.amount_yen,
            tax_category=line.tax_category,
            late=line.code.startswith("late_calls:"),
        )
        for line in statement.lines.order_by("position")
    ]
    taxes = tuple(
        TaxRow(t.tax_category, _percent(t.rate), t.subtotal_yen, t.tax_yen)
        for t in sorted(statement.taxes.all(), key=lambda t: (t.rate is None, t.rate or Decimal(0)))
    )
    return StatementDetail(
        summary=StatementSummary(
            id=statement.pk,
            month=statement.month,
            subtotal_yen=shown.subtotal_yen,
            tax_yen=sum(shown.tax_yen.values()),
            total_yen=shown.total_yen,
            closed_at=shown.closed_at,
            debit=debits.statuses([statement])[statement.pk],
        ),
        number=contract.number,
        fixed=tuple(x for x in lines if not x.call_class and x.code != "adjustment"),
        calls=tuple(x for x in lines if x.call_class and not x.late),
        late=tuple(x for x in lines if x.late),
        adjustments=tuple(x for x in lines if x.code == "adjustment"),
        taxes=taxes,
        subtotal_yen=shown.subtotal_yen,
        tax_yen=sum(shown.tax_yen.values()),
        total_yen=shown.total_yen,
    )


def _percent(rate: Decimal | None) -> str:
    return "" if rate is None else format((rate * 100).normalize(), "f")


# --- calls ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallFilter:
    """The call detail's choices: a month, optionally a class, a page; hide the last digits?"""

    month: str
    call_class: str
    page: int
    mask: bool


@dataclass(frozen=True)
class CallRow:
    """One answered outbound call as listed."""

    id: int
    answered_at: datetime
    number: str
    call_class: str
    seconds: int
    charge_yen: int


@dataclass(frozen=True)
class CallPage:
    """A page of the call detail and the totals of everything the filter selects."""

    filter: CallFilter
    rows: tuple[CallRow, ...]
    pages: int
    count: int
    seconds: int
    amount_yen: int
    months: tuple[str, ...]
    classes: tuple[str, ...]
    billed: bool  # the month is closed: its calls are on a statement


def parse_call_filter(
    contract: Contract, month: str | None, call_class: str | None, page: str | None, mask: bool
) -> CallFilter:
    """The filter from the page's query; a value the page does not offer is ``BadFilter``."""
    chosen = month or str(_filter_months(contract)[0])
    try:
        Month.parse(chosen)
    except InvalidInput:
        raise BadFilter("month", chosen, "not a month YYYY-MM") from None
    klass = call_class or ""
    if klass and klass not in {c.value for c in charged_classes()}:
        raise BadFilter("class", klass, "not a call class of the call detail")
    try:
        number = int(page or "1")
    except ValueError:
        raise BadFilter("page", page or "", "not a page number") from None
    if number < 1:
        raise BadFilter("page", str(page), "pages start at 1")
    return CallFilter(chosen, klass, number, mask)


def _filter_months(contract: Contract, today: date | None = None) -> list[Month]:
    current = Month.of(today or billing_date(timezone.now()))
    start = Month.of(contract.start_date) if contract.start_date else current
    last = min(current, Month.of(contract.end_date)) if contract.end_date else current
    return [m for m in _months_back(last, FILTER_MONTHS) if m >= start] or [last]


def _calls(contract: Contract, chosen: CallFilter) -> QuerySet[Cdr]:
    query = _answered_out(contract, chosen.month)
    return query.filter(call_class=chosen.call_class) if chosen.call_class else query


def call_page(
    contract: Contract,
    month: str | None,
    call_class: str | None,
    page: str | None,
    mask: bool = False,
) -> CallPage:
    """A page of the contract's answered outbound calls of a month, oldest first."""
    chosen = parse_call_filter(contract, month, call_class, page, mask)
    calls = _calls(contract, chosen)
    totals = calls.aggregate(
        count=Count("id"), seconds=Sum("billed_seconds"), amount=Sum("charge_yen")
    )
    count = int(totals["count"] or 0)
    per_page = portal_settings().calls_per_page
    pages = max(1, math.ceil(count / per_page))
    number = min(chosen.page, pages)
    chosen = CallFilter(chosen.month, chosen.call_class, number, chosen.mask)
    first = (number - 1) * per_page
    rows = tuple(
        CallRow(
            id=pk,
            answered_at=cast(datetime, answered).astimezone(TOKYO),  # answered: filtered
            number=mask_number(callee or dialled, mask),
            call_class=klass,
            seconds=seconds,
            charge_yen=charge,
        )
        for pk, answered, callee, dialled, klass, seconds, charge in calls.order_by(
            "answered_at", "id"
        ).values_list(
            "id",
            "answered_at",
            "callee",
            "dialled",
            "call_class",
            "billed_seconds",
            "charge_yen",
        )[first : first + per_page]
    )
    return CallPage(
        filter=chosen,
        rows=rows,
        pages=pages,
        count=count,
        seconds=int(totals["seconds"] or 0),
        amount_yen=int(totals["amount"] or 0),
        months=tuple(str(m) for m in _filter_months(contract)),
        classes=tuple(c.value for c in charged_classes()),
        billed=MonthClose.objects.filter(month=chosen.month).exists(),
    )


def call_rows(contract: Contract, chosen: CallFilter) -> Any:
    """Every call the filter selects (for the CSV), oldest first, as value tuples."""
    return (
        _calls(contract, chosen)
        .order_by("answered_at", "id")
        .values_list(
            "answered_at", "callee", "dialled", "call_class", "billed_seconds", "charge_yen"
        )
        .iterator(chunk_size=2000)
    )


@dataclass(frozen=True)
class CallDetail:
    """One call with everything its charge comes from."""

    id: int
    number: str
    call_class: str
    started_at: datetime
    answered_at: datetime
    ended_at: datetime | None
    seconds: int
    unit_seconds: int | None
    yen_per_unit: int | None
    units: int
    charge_yen: int
    tax_exempt: bool
    month: str
    mask: bool


def call_detail(contract: Contract, cdr_id: int, mask: bool = False) -> CallDetail:
    """One of the contract's answered outbound calls (``NotFound`` if it is not theirs)."""
    cdr = (
        Cdr.objects.filter(
            pk=cdr_id, contract=contract, direction=Cdr.Direction.OUT, answered_at__isnull=False
        )
        .only(*CALL_FIELDS)
        .first()
    )
    if cdr is None or cdr.answered_at is None:
        raise NotFound("call", cdr_id)
    return CallDetail(
        id=cdr.pk,
        number=mask_number(cdr.callee or cdr.dialled, mask),
        call_class=cdr.call_class,
        started_at=cdr.started_at.astimezone(TOKYO),
        answered_at=cdr.answered_at.astimezone(TOKYO),
        ended_at=cdr.ended_at.astimezone(TOKYO) if cdr.ended_at else None,
        seconds=cdr.billed_seconds,
        unit_seconds=cdr.unit_seconds,
        yen_per_unit=cdr.yen_per_unit,
        units=cdr.units,
        charge_yen=cdr.charge_yen,
        tax_exempt=cdr.tax_exempt,
        month=cdr.billing_month,
        mask=mask,
    )


# --- support and personal data -----------------------------------------------------------------


def inquiries_of(contract: Contract) -> list[Inquiry]:
    """The subscriber's inquiries, newest first, with their replies."""
    return list(
        Inquiry.objects.filter(contract=contract)
        .annotate(reply_count=Count("replies"))
        .order_by("-created_at", "-id")
    )


def inquiry_of(contract: Contract, inquiry_id: int) -> Inquiry:
    """One of the subscriber's inquiries (``NotFound`` if it is not theirs)."""
    inquiry = (
        Inquiry.objects.filter(pk=inquiry_id, contract=contract).prefetch_related("replies").first()
    )
    if inquiry is None:
        raise NotFound("inquiry", inquiry_id)
    return inquiry


def provisions_of(contract: Contract) -> list[DataProvision]:
    """Every record of the subscriber's data given to a third party (SPEC §6), newest first."""
    return list(DataProvision.objects.filter(contract=contract).order_by("-provided_at", "-id"))
