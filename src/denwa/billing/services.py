"""The monthly close (SPEC §4): set-based, all or nothing, never twice.

Closing month M, in one transaction that no CDR import can interleave with:
1. take the watermark: the highest CDR id now (``MonthClose.max_cdr_id``).  The calls
   M bills are the answered outbound ones up to it not billed by M-1: those of M, and
   late ones of earlier months above M-1's watermark.  CDRs are never marked;
2. re-rate those calls from the tariffs in force (only changed prices are written,
   and the running call totals are corrected by the same differences);
3. read the open running call totals up to M (``calls.CallTotal``, kept by the CDR
   import): a few rows per contract instead of every call.  A month that a tax-rate
   change splits is totalled from its calls instead;
4. compute each contract's fixed charges with the core, add call totals (late ones
   from closed months as late lines) and adjustments, tax once per rate;
5. store statements, lines and tax in bulk; stamp the totals and adjustments billed.
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
from django.db.models import Case, Max, Model, OuterRef, Q, Subquery, When
from django.utils import timezone

from denwa.billing.errors import EarlierMonthOpen, MonthNotOver, NoStatement
from denwa.billing.models import Adjustment, MonthClose, Statement, StatementLine, StatementTax
from denwa.calls.models import CallTotal as RunningTotal
from denwa.calls.models import Cdr
from denwa.core.billing.statement import Adjustment as AdjustmentItem
from denwa.core.billing.statement import CallTotal, StatementDraft, draft_statement
from denwa.core.contracts.charges import ContractTerms, monthly_charges
from denwa.core.numbering.classes import CallClass
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.rating.tariffs import TaxCategory
from denwa.core.rating.tax import ChargeLine
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
        _hold_call_imports()
        calls_billed = BilledCalls.through(month)
        rerate_unbilled_calls(calls_billed, data)
        calls = call_totals(calls_billed, data)
        adjustments = unbilled_adjustments(month)
        drafts = draft_statements(month, data, calls, adjustments)
        closed_at = timezone.now()
        store_statements(month, drafts, closed_at)
        RunningTotal.objects.filter(billed_month="", billing_month__lte=str(month)).update(
            billed_month=str(month)
        )
        for chunk in _chunks([a for items in adjustments.values() for a, _ in items]):
            Adjustment.objects.filter(pk__in=chunk).update(billed_month=str(month))
        total = sum(d.totals.total_yen for d in drafts.values())
        late = sum(t.count for totals in calls.values() for t in totals if t.late_from is not None)
        seconds = time.monotonic() - started
        MonthClose.objects.create(
            month=str(month),
            closed_by=actor,
            statements=len(drafts),
            total_yen=total,
            seconds_taken=seconds,
            max_cdr_id=calls_billed.watermark,
        )
    return CloseResult(month, False, len(drafts), total, late, seconds)


def _hold_call_imports() -> None:
    """Keep CDR imports out until the close commits, so no id below the watermark is missing.

    On PostgreSQL an import may have taken a CDR id and not committed yet: the lock
    waits for it and holds later ones back.  On SQLite the close's transaction
    already holds the only write lock (``transaction_mode`` IMMEDIATE).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE calls_cdr, calls_calltotal IN SHARE ROW EXCLUSIVE MODE")


@dataclass(frozen=True)
class BilledCalls:
    """The answered outbound calls the close of ``month`` bills, as SQL over ``calls_cdr``.

    ``watermark`` is the highest CDR id at the close, ``previous`` the watermark of
    the month before (0 before the first close).
    """

    month: Month
    watermark: int
    previous: int

    @classmethod
    def through(cls, month: Month) -> BilledCalls:
        """The calls the close of ``month`` bills, with the watermark taken now."""
        top = Cdr.objects.aggregate(top=Max("id"))["top"] or 0
        before = MonthClose.objects.filter(month=str(month.previous())).first()
        return cls(month, top, before.max_cdr_id if before else 0)

    def where(self, table: str = "calls_cdr") -> tuple[str, list[Any]]:
        """The SQL condition on ``table``'s rows and its parameters."""
        t = table
        sql = (
            f"{t}.direction = 'out' AND {t}.answered_at IS NOT NULL"
            f" AND {t}.contract_id IS NOT NULL AND {t}.id <= %s"
            f" AND ({t}.billing_month = %s OR ({t}.id > %s AND {t}.billing_month < %s))"
        )
        month = str(self.month)
        return sql, [self.watermark, month, self.previous, month]


def carrying_month() -> Case:
    """SQL for a CDR row: the closed month whose statement carries the call (NULL if none).

    The first closed month not before the call's month whose watermark covers it;
    only answered outbound calls of a subscriber are carried by a statement.
    """
    closes = MonthClose.objects.filter(
        month__gte=OuterRef("billing_month"), max_cdr_id__gte=OuterRef("pk")
    ).order_by("month")
    carried = Q(direction=Cdr.Direction.OUT, answered_at__isnull=False, contract__isnull=False)
    return Case(When(carried, then=Subquery(closes.values("month")[:1])), default=None)


def rerate_unbilled_calls(calls: BilledCalls, data: OperatorData) -> int:
    """Price the calls the close bills again; returns how many prices changed.

    Each call keeps the tariff row (class or destination prefix) it was rated
    by; the version in force on its answer time gives unit and price.  The calls
    whose price changes are collected first (one pass over the calls), then only
    they are written, and their differences are added to the running totals.
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
    postgres = connection.vendor == "postgresql"
    billed, params = calls.where("c")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS denwa_rerate_tariff")
        cursor.execute("DROP TABLE IF EXISTS denwa_rerated")
        cursor.execute(
            "CREATE TEMP TABLE denwa_rerate_tariff (tkey varchar(32), valid_from timestamp"
            " with time zone, valid_to timestamp with time zone, unit integer, yen integer)"
            if postgres
            else "CREATE TEMP TABLE denwa_rerate_tariff (tkey text, valid_from text,"
            " valid_to text, unit integer, yen integer)"
        )
        cursor.executemany(
            "INSERT INTO denwa_rerate_tariff VALUES (%s, %s, %s, %s, %s)",
            [(k, _db_time(f), _db_time(t), u, y) for k, f, t, u, y in rows],
        )
        # An index, so each call finds its tariff rows without scanning them all.
        cursor.execute("CREATE INDEX denwa_rerate_tariff_key ON denwa_rerate_tariff (tkey)")
        differs = "IS DISTINCT FROM" if postgres else "IS NOT"
        units = "((c.billed_seconds + t.unit - 1) / t.unit)"
        cursor.execute(
            f"""
            CREATE TEMP TABLE denwa_rerated AS
            SELECT c.id, c.contract_id, c.call_class, c.billing_month,
                   t.unit AS unit, t.yen AS yen, {units} AS units,
                   {units} * t.yen AS charge, {units} * t.yen - c.charge_yen AS delta
            FROM calls_cdr c JOIN denwa_rerate_tariff t
              ON c.tariff_key = t.tkey
             AND c.answered_at >= t.valid_from AND c.answered_at < t.valid_to
            WHERE {billed}
              AND (c.unit_seconds {differs} t.unit
                   OR c.yen_per_unit {differs} t.yen
                   OR c.units {differs} {units}
                   OR c.charge_yen {differs} {units} * t.yen)
            """,
            params,
        )
        cursor.execute("SELECT COUNT(*) FROM denwa_rerated")
        (changed,) = cursor.fetchone()
        if changed:
            cursor.execute(
                """
                UPDATE calls_cdr SET unit_seconds = r.unit, yen_per_unit = r.yen,
                       units = r.units, charge_yen = r.charge
                FROM denwa_rerated r WHERE calls_cdr.id = r.id
                """
            )
            cursor.execute(
                """
                UPDATE calls_calltotal SET charge_yen = calls_calltotal.charge_yen + d.delta
                FROM (SELECT contract_id, call_class, billing_month, SUM(delta) AS delta
                      FROM denwa_rerated GROUP BY contract_id, call_class, billing_month) d
                WHERE calls_calltotal.billed_month = ''
                  AND calls_calltotal.contract_id = d.contract_id
                  AND calls_calltotal.call_class = d.call_class
                  AND calls_calltotal.billing_month = d.billing_month
                """
            )
        cursor.execute("DROP TABLE denwa_rerate_tariff")
        cursor.execute("DROP TABLE denwa_rerated")
    return int(changed)


def call_totals(calls: BilledCalls, data: OperatorData) -> dict[int, list[CallTotal]]:
    """The calls the close bills, totalled per contract, class, month and tax period.

    From the open running totals; a month that a tax-rate change splits (a rate
    in force from a day other than the 1st) is totalled from its calls.
    """
    boundaries = sorted(rate.valid_from for rate in data.taxes.rates)
    month = calls.month
    split = sorted(
        {str(Month.of(b)) for b in boundaries if b.day != 1 and str(Month.of(b)) <= str(month)}
    )
    totals: dict[int, list[CallTotal]] = defaultdict(list)
    made = _TotalMaker(month, boundaries)
    open_totals = RunningTotal.objects.filter(billed_month="", billing_month__lte=str(month))
    if split:
        open_totals = open_totals.exclude(billing_month__in=split)
    for contract_id, klass, billing_month, count, seconds, amount in open_totals.values_list(
        "contract_id", "call_class", "billing_month", "calls", "seconds", "charge_yen"
    ).iterator(chunk_size=10_000):
        if count:
            totals[contract_id].append(made(klass, billing_month, -2, count, seconds, amount))
    if split:
        _totals_from_calls(calls, split, boundaries, made, totals)
    return totals


class _TotalMaker:
    """Core ``CallTotal`` values; each distinct (month, tax period) and class parsed once."""

    def __init__(self, month: Month, boundaries: list[date]) -> None:
        self.month = month
        self.boundaries = boundaries
        self.dates: dict[tuple[str, int], tuple[date, Month | None]] = {}
        self.classes: dict[str, CallClass] = {}

    def __call__(
        self, klass: str, billing_month: str, period: int, count: int, seconds: Any, amount: Any
    ) -> CallTotal:
        """``period``: index of the tax rate in force, or -2 for the one on the month's 1st."""
        dated = self.dates.get((billing_month, period))
        if dated is None:
            call_month = Month.parse(billing_month)
            tax_date = call_month.first_day
            if period >= 0:
                tax_date = max(tax_date, self.boundaries[period])
            dated = (tax_date, call_month if call_month < self.month else None)
            self.dates[billing_month, period] = dated
        call_class = self.classes.get(klass)
        if call_class is None:
            call_class = self.classes[klass] = CallClass(klass)
        return CallTotal(
            call_class=call_class,
            tax_date=dated[0],
            count=int(count),
            seconds=int(seconds or 0),
            amount_yen=int(amount or 0),
            late_from=dated[1],
        )


def _totals_from_calls(
    calls: BilledCalls,
    months: list[str],
    boundaries: list[date],
    made: _TotalMaker,
    totals: dict[int, list[CallTotal]],
) -> None:
    """Total the billed calls of ``months`` from the CDRs, split by the tax rate in force."""
    period_case = " ".join(
        f"WHEN answered_at >= %s THEN {index}" for index in reversed(range(len(boundaries)))
    )
    billed, params = calls.where()
    in_months = ", ".join(["%s"] * len(months))
    sql = f"""
        SELECT contract_id, call_class, billing_month,
               CASE {period_case} ELSE -1 END AS tax_period,
               COUNT(*), SUM(billed_seconds), SUM(charge_yen)
        FROM calls_cdr
        WHERE {billed} AND billing_month IN ({in_months})
        GROUP BY contract_id, call_class, billing_month, tax_period
    """
    cases: list[Any] = [_db_time(_tokyo_midnight(b)) for b in reversed(boundaries)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cases, *params, *months])
        for contract_id, klass, billing_month, period, count, seconds, amount in cursor.fetchall():
            totals[contract_id].append(made(klass, billing_month, period, count, seconds, amount))


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
    started = Contract.objects.exclude(start_date__isnull=True).only(
        "id", "early_charge_waived", "waiver_reason"
    )
    current = started.filter(in_month)
    contracts = {contract.pk: contract for contract in current}
    others = sorted((set(calls) | set(adjustments)) - contracts.keys())
    for chunk in _chunks(others):
        contracts.update((contract.pk, contract) for contract in started.filter(pk__in=chunk))
    # Events and rentals of the contracts in service by a subquery; of the others by their ids.
    event_sets = [ContractEvent.objects.filter(contract__in=current.values("pk"))]
    rental_sets = [Rental.objects.filter(contract__in=current.values("pk"))]
    for chunk in _chunks(others):
        event_sets.append(ContractEvent.objects.filter(contract_id__in=chunk))
        rental_sets.append(Rental.objects.filter(contract_id__in=chunk))
    events: dict[int, list[ContractEvent]] = defaultdict(list)
    for event_set in event_sets:
        for event in event_set.only("contract_id", "to_state", "effective").order_by(
            "effective", "id"
        ):
            events[event.contract_id].append(event)
    rentals: dict[int, list[Rental]] = defaultdict(list)
    for rental_set in rental_sets:
        for rental in rental_set.only(
            "contract_id", "first_day", "last_day", "collected", "collection_fee_yen"
        ).order_by("first_day", "id"):
            rentals[rental.contract_id].append(rental)
    fixed_by_terms: dict[ContractTerms, list[ChargeLine]] = {}
    drafts = {}
    for pk in sorted(contracts):
        terms = terms_for(contracts[pk], events[pk], rentals[pk], data)
        fixed = fixed_by_terms.get(terms)
        if fixed is None:  # the core is pure: contracts with the same terms share their charges
            fixed = monthly_charges(terms, month, data.fees, data.rules)
            fixed_by_terms[terms] = fixed
        draft = draft_statement(
            month,
            fixed,
            calls.get(pk, ()),
            [item for _, item in adjustments.get(pk, ())],
            data.taxes,
        )
        if draft.lines:
            drafts[pk] = draft
    return drafts


def store_statements(month: Month, drafts: dict[int, StatementDraft], closed_at: datetime) -> None:
    """Write statements, their lines and their tax in bulk (plain multi-row inserts).

    The values are those ``bulk_create`` would write: the close time and tax rates
    go through their model fields' database preparation.
    """
    closed = Statement._meta.get_field("closed_at").get_db_prep_save(closed_at, connection)
    _insert(
        Statement,
        ("contract_id", "month", "subtotal_yen", "tax_yen", "total_yen", "closed_at"),
        [
            (
                contract_id,
                str(month),
                draft.totals.subtotal_yen,
                draft.totals.tax_yen,
                draft.totals.total_yen,
                closed,
            )
            for contract_id, draft in drafts.items()
        ],
    )
    statement_ids = dict(
        Statement.objects.filter(month=str(month)).values_list("contract_id", "id")
    )
    rate_field = StatementTax._meta.get_field("rate")
    rates: dict[Decimal | None, Any] = {}
    lines: list[tuple[Any, ...]] = []
    taxes: list[tuple[Any, ...]] = []
    for contract_id, draft in drafts.items():
        statement_id = statement_ids[contract_id]
        for position, line in enumerate(draft.lines, start=1):
            lines.append(
                (
                    statement_id,
                    position,
                    line.code,
                    line.description,
                    line.amount_yen,
                    line.tax_category.value,
                    line.quantity,
                    line.call_class,
                    line.seconds,
                )
            )
        for group in draft.totals.groups:
            if group.rate not in rates:
                rates[group.rate] = rate_field.get_db_prep_save(group.rate, connection)
            taxes.append(
                (
                    statement_id,
                    group.tax_category.value,
                    rates[group.rate],
                    group.subtotal_yen,
                    group.tax_yen,
                )
            )
    _insert(
        StatementLine,
        (
            "statement_id",
            "position",
            "code",
            "description",
            "amount_yen",
            "tax_category",
            "quantity",
            "call_class",
            "call_seconds",
        ),
        lines,
    )
    _insert(
        StatementTax, ("statement_id", "tax_category", "rate", "subtotal_yen", "tax_yen"), taxes
    )


def _insert(model: type[Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values already prepared for the database) into ``model``'s table."""
    quote = connection.ops.quote_name
    column_of = {f.attname: str(f.column) for f in model._meta.concrete_fields}
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(column_of[name]) for name in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # one prepared statement, run per row in C
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {one}", rows)
            return
        size = 1000  # PostgreSQL: multi-row VALUES, well under its 65535 parameters
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))}",
                [value for row in batch for value in row],
            )


def _chunks(ids: Sequence[int], size: int = 900) -> list[Sequence[int]]:
    """``ids`` in slices small enough for any database's parameter limit."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]


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
