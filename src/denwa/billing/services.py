"""The monthly close (SPEC §4): set-based, all or nothing, never twice.

Closing month M, in one transaction:
1. re-rate the unbilled answered calls up to M from the tariffs in force (one UPDATE);
2. total them per contract, class, month and tax period (one GROUP BY);
3. compute each contract's fixed charges with the core, add call totals (late ones
   from closed months as late lines) and adjustments, tax once per rate;
4. store statements, lines and tax in bulk, and mark what they billed.
A statement, once stored, never changes (see ``billing.models``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from denwa.billing.errors import EarlierMonthOpen, MonthNotOver, NoStatement
from denwa.billing.models import Adjustment, MonthClose, Statement, StatementLine, StatementTax
from denwa.calls.models import Cdr
from denwa.core.billing.statement import Adjustment as AdjustmentItem
from denwa.core.billing.statement import CallTotal, StatementDraft, draft_statement
from denwa.core.contracts.charges import monthly_charges
from denwa.core.numbering.classes import CallClass
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.rating.tariffs import TaxCategory
from denwa.core.timeutil import TOKYO, Month
from denwa.operator_files.services import record_versions
from denwa.subscribers.models import Contract, ContractEvent, Rental
from denwa.subscribers.services import terms_for


@dataclass(frozen=True)
class CloseResult:
    """What a close did (or that the month was closed already)."""

    month: Month
    already_closed: bool
    statements: int
    total_yen: int
    late_calls: int
    seconds: float


def close_month(
    month: Month, data: OperatorData, actor: str, now: datetime | None = None
) -> CloseResult:
    """Close ``month``: one statement per contract with charges; again changes nothing."""
    started = time.monotonic()
    now = now or timezone.now()
    with transaction.atomic():
        done = MonthClose.objects.select_for_update().filter(month=str(month)).first()
        if done is not None:
            return CloseResult(month, True, done.statements, done.total_yen, 0, 0.0)
        if now < month.end():
            raise MonthNotOver(str(month))
        last_closed = MonthClose.objects.order_by("-month").values_list("month", flat=True).first()
        if last_closed is not None and last_closed != str(month.previous()):
            if last_closed > str(month):
                raise EarlierMonthOpen(str(month), f"nothing: {last_closed} is already closed")
            raise EarlierMonthOpen(str(month), str(Month.parse(last_closed).next()))
        record_versions(data, actor)
        max_cdr = Cdr.objects.aggregate(top=Max("id"))["top"] or 0
        rerate_unbilled_calls(month, max_cdr, data)
        calls = call_totals(month, max_cdr, data)
        adjustments = unbilled_adjustments(month)
        drafts = draft_statements(month, data, calls, adjustments)
        closed_at = timezone.now()
        store_statements(month, drafts, closed_at)
        _unbilled_calls(month, max_cdr).update(billed_month=str(month))
        Adjustment.objects.filter(
            pk__in=[a for items in adjustments.values() for a, _ in items]
        ).update(billed_month=str(month))
        total = sum(d.totals.total_yen for d in drafts.values())
        late = sum(t.count for totals in calls.values() for t in totals if t.late_from is not None)
        seconds = time.monotonic() - started
        MonthClose.objects.create(
            month=str(month),
            closed_by=actor,
            statements=len(drafts),
            total_yen=total,
            seconds_taken=seconds,
        )
    return CloseResult(month, False, len(drafts), total, late, seconds)


def _unbilled_calls(month: Month, max_cdr: int) -> Any:
    return Cdr.objects.filter(
        billed_month="",
        billing_month__lte=str(month),
        direction=Cdr.Direction.OUT,
        answered_at__isnull=False,
        contract__isnull=False,
        id__lte=max_cdr,
    )


def rerate_unbilled_calls(month: Month, max_cdr: int, data: OperatorData) -> int:
    """Price every unbilled answered call up to ``month`` again, in one UPDATE.

    Each call keeps the tariff row (class or destination prefix) it was rated
    by; the version in force on its answer time gives unit and price.
    """
    rows = []
    for versions in (*data.tariffs.by_class.values(), *data.tariffs.international.values()):
        ordered = sorted(versions.versions, key=lambda t: t.valid_from)
        for tariff, after in zip(ordered, [*ordered[1:], None], strict=True):
            valid_to = after.valid_from if after else date(9999, 12, 31)
            rows.append(
                (
                    tariff.key,
                    _tokyo_midnight(tariff.valid_from),
                    _tokyo_midnight(valid_to),
                    tariff.unit_seconds,
                    tariff.yen_per_unit,
                )
            )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS denwa_rerate_tariff")
        cursor.execute(
            "CREATE TEMP TABLE denwa_rerate_tariff (tkey varchar(32), valid_from timestamp"
            " with time zone, valid_to timestamp with time zone, unit integer, yen integer)"
            if connection.vendor == "postgresql"
            else "CREATE TEMP TABLE denwa_rerate_tariff (tkey text, valid_from text,"
            " valid_to text, unit integer, yen integer)"
        )
        cursor.executemany(
            "INSERT INTO denwa_rerate_tariff VALUES (%s, %s, %s, %s, %s)",
            [(k, _db_time(f), _db_time(t), u, y) for k, f, t, u, y in rows],
        )
        cursor.execute(
            """
            UPDATE calls_cdr SET
                unit_seconds = t.unit,
                yen_per_unit = t.yen,
                units = (calls_cdr.billed_seconds + t.unit - 1) / t.unit,
                charge_yen = ((calls_cdr.billed_seconds + t.unit - 1) / t.unit) * t.yen
            FROM denwa_rerate_tariff t
            WHERE calls_cdr.tariff_key = t.tkey
              AND calls_cdr.answered_at >= t.valid_from
              AND calls_cdr.answered_at < t.valid_to
              AND calls_cdr.billed_month = ''
              AND calls_cdr.billing_month <= %s
              AND calls_cdr.direction = 'out'
              AND calls_cdr.id <= %s
            """,
            [str(month), max_cdr],
        )
        updated = cursor.rowcount
        cursor.execute("DROP TABLE denwa_rerate_tariff")
    return int(updated)


def call_totals(month: Month, max_cdr: int, data: OperatorData) -> dict[int, list[CallTotal]]:
    """Unbilled answered calls up to ``month``, totalled per contract, class, month, tax period."""
    boundaries = sorted(rate.valid_from for rate in data.taxes.rates)
    period_case = " ".join(
        f"WHEN answered_at >= %s THEN {index}" for index in reversed(range(len(boundaries)))
    )
    sql = f"""
        SELECT contract_id, call_class, billing_month,
               CASE {period_case} ELSE -1 END AS tax_period,
               COUNT(*), SUM(billed_seconds), SUM(charge_yen)
        FROM calls_cdr
        WHERE billed_month = '' AND billing_month <= %s AND direction = 'out'
          AND answered_at IS NOT NULL AND contract_id IS NOT NULL AND id <= %s
        GROUP BY contract_id, call_class, billing_month, tax_period
    """
    params: list[Any] = [_db_time(_tokyo_midnight(b)) for b in reversed(boundaries)]
    totals: dict[int, list[CallTotal]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, str(month), max_cdr])
        for contract_id, klass, billing_month, period, count, seconds, amount in cursor.fetchall():
            call_month = Month.parse(billing_month)
            tax_date = call_month.first_day
            if period >= 0:
                tax_date = max(tax_date, boundaries[period])
            totals[contract_id].append(
                CallTotal(
                    call_class=CallClass(klass),
                    tax_date=tax_date,
                    count=int(count),
                    seconds=int(seconds or 0),
                    amount_yen=int(amount or 0),
                    late_from=call_month if call_month < month else None,
                )
            )
    return totals


def unbilled_adjustments(month: Month) -> dict[int, list[tuple[int, AdjustmentItem]]]:
    """Adjustments recorded for ``month`` or before that no statement has carried yet."""
    found: dict[int, list[tuple[int, AdjustmentItem]]] = defaultdict(list)
    for adj in Adjustment.objects.filter(billed_month="", effective__lte=month.last_day).order_by(
        "effective", "id"
    ):
        found[adj.contract_id].append(
            (
                adj.pk,
                AdjustmentItem(
                    amount_yen=adj.amount_yen,
                    reason=adj.reason,
                    tax_date=adj.effective,
                    tax_category=TaxCategory.EXEMPT if adj.tax_exempt else TaxCategory.STANDARD,
                ),
            )
        )
    return found


def draft_statements(
    month: Month,
    data: OperatorData,
    calls: dict[int, list[CallTotal]],
    adjustments: dict[int, list[tuple[int, AdjustmentItem]]],
) -> dict[int, StatementDraft]:
    """Every contract's statement for ``month``: those in service then, and any with late items."""
    in_month = Q(start_date__lte=month.last_day) & (
        Q(end_date__isnull=True) | Q(end_date__gte=month.first_day)
    )
    pending = set(calls) | set(adjustments)
    contracts = list(
        Contract.objects.filter(in_month | Q(pk__in=pending)).exclude(start_date__isnull=True)
    )
    ids = [c.pk for c in contracts]
    events: dict[int, list[ContractEvent]] = defaultdict(list)
    for event in ContractEvent.objects.filter(contract_id__in=ids).order_by("effective", "id"):
        events[event.contract_id].append(event)
    rentals: dict[int, list[Rental]] = defaultdict(list)
    for rental in Rental.objects.filter(contract_id__in=ids).order_by("first_day"):
        rentals[rental.contract_id].append(rental)
    drafts = {}
    for contract in contracts:
        terms = terms_for(contract, events[contract.pk], rentals[contract.pk], data)
        fixed = monthly_charges(terms, month, data.fees, data.rules)
        draft = draft_statement(
            month,
            fixed,
            calls.get(contract.pk, ()),
            [item for _, item in adjustments.get(contract.pk, ())],
            data.taxes,
        )
        if draft.lines:
            drafts[contract.pk] = draft
    return drafts


def store_statements(month: Month, drafts: dict[int, StatementDraft], closed_at: datetime) -> None:
    """Write statements, their lines and their tax in bulk."""
    statements = Statement.objects.bulk_create(
        [
            Statement(
                contract_id=contract_id,
                month=str(month),
                subtotal_yen=draft.totals.subtotal_yen,
                tax_yen=draft.totals.tax_yen,
                total_yen=draft.totals.total_yen,
                closed_at=closed_at,
            )
            for contract_id, draft in drafts.items()
        ],
        batch_size=5000,
    )
    lines: list[StatementLine] = []
    taxes: list[StatementTax] = []
    for statement, draft in zip(statements, drafts.values(), strict=True):
        for position, line in enumerate(draft.lines, start=1):
            lines.append(
                StatementLine(
                    statement=statement,
                    position=position,
                    code=line.code,
                    description=line.description,
                    amount_yen=line.amount_yen,
                    tax_category=line.tax_category.value,
                    quantity=line.quantity,
                    call_class=line.call_class,
                    call_seconds=line.seconds,
                )
            )
        for group in draft.totals.groups:
            taxes.append(
                StatementTax(
                    statement=statement,
                    tax_category=group.tax_category.value,
                    rate=group.rate,
                    subtotal_yen=group.subtotal_yen,
                    tax_yen=group.tax_yen,
                )
            )
    StatementLine.objects.bulk_create(lines, batch_size=5000)
    StatementTax.objects.bulk_create(taxes, batch_size=5000)


@dataclass(frozen=True)
class StatementView:
    """A closed statement as the CLI and the portal show it."""

    number: str
    month: str
    lines: Sequence[dict[str, Any]]
    calls: dict[str, dict[str, int]]
    tax_yen: dict[str, int]
    subtotal_yen: int
    total_yen: int
    closed_at: datetime


def show_statement(number: str, month: Month) -> StatementView:
    """The closed statement of ``number`` for ``month``."""
    statement = (
        Statement.objects.select_related("contract")
        .filter(contract__number=number, month=str(month))
        .first()
    )
    if statement is None:
        raise NoStatement(number, str(month))
    lines = list(statement.lines.order_by("position"))
    calls: dict[str, dict[str, int]] = {}
    for line in lines:
        if line.call_class:
            total = calls.setdefault(line.call_class, {"count": 0, "seconds": 0, "amount_yen": 0})
            total["count"] += line.quantity
            total["seconds"] += line.call_seconds
            total["amount_yen"] += line.amount_yen
    tax_yen = {_rate_key(t.rate): t.tax_yen for t in statement.taxes.all()}
    return StatementView(
        number=number,
        month=str(month),
        lines=[
            {
                "code": line.code,
                "description": line.description,
                "amount_yen": line.amount_yen,
                "tax_category": line.tax_category,
                "quantity": line.quantity,
            }
            for line in lines
        ],
        calls=calls,
        tax_yen=tax_yen,
        subtotal_yen=statement.subtotal_yen,
        total_yen=statement.total_yen,
        closed_at=statement.closed_at,
    )


def _rate_key(rate: Decimal | None) -> str:
    return "exempt" if rate is None else format(rate.normalize(), "f")


def _tokyo_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TOKYO)


def _db_time(moment: datetime) -> Any:
    """A time as the database compares it (SQLite keeps UTC text)."""
    if connection.vendor == "sqlite":
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return moment
