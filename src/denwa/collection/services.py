"""Collection by bank direct debit (SPEC §4): mandates, the monthly export, the result import,
each statement's debit status, and the stop list.

- ``export_debits``: a closed month's Zengin request file; the run, its debits
  and the statements each collects are stored with the exact bytes, so
  exporting the month again gives the identical file.
- ``import_results``: the bank's result file, checked completely (layout,
  totals, every record against its request) before anything is applied, then
  applied in one transaction; repeated failures put the contract on the stop
  list or stop it, per the settings.
- ``debit_status`` / ``debit_statuses``: what the console and the subscriber's
  page show next to a statement.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from functools import cache

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from denwa.billing.models import MonthClose, Statement
from denwa.collection.banks import installed_directory
from denwa.collection.errors import (
    ExportedWithAnotherDate,
    ExportOutOfOrder,
    MandateUnusable,
    MonthNotClosed,
    ResultPending,
    StopListEntryClosed,
)
from denwa.collection.models import DebitItem, DebitRequest, DebitRun, StopListEntry
from denwa.core.collection.bankdays import debit_date
from denwa.core.collection.config import CollectionSettings, load_collection_settings
from denwa.core.collection.errors import InvalidField, ZenginFileError
from denwa.core.collection.files import (
    Requested,
    ResultFile,
    match_results,
    read_result_file,
    request_file,
)
from denwa.core.collection.layout import HEADER
from denwa.core.collection.mandate import Mandate, validate_mandate
from denwa.core.collection.plan import Charge, Due, Planned, plan_debits, statements_of
from denwa.core.collection.results import (
    RESULT_CODES,
    FailurePolicy,
    consecutive_failures,
    reaches_threshold,
)
from denwa.core.collection.status import Attempt, DebitStatus
from denwa.core.collection.status import debit_status as status_of
from denwa.core.errors import DenwaError
from denwa.core.timeutil import Month, tokyo_today
from denwa.subscribers import services as subscribers
from denwa.subscribers.models import BankMandate, Contract, ContractEvent

UNPAID_CODES = [code for code, row in RESULT_CODES.items() if not row.paid]
ID_SLICE = 900
"""Ids per ``IN (…)``: well under any database's parameter limit."""


@cache
def _settings_in(directory: str | None) -> CollectionSettings:
    return load_collection_settings(directory)


def collection_settings() -> CollectionSettings:
    """The settings in force for this process (``collection.csv`` of ``DENWA_DATA``, cached)."""
    return _settings_in(getattr(django_settings, "DENWA_DATA", None))


# --- mandates ------------------------------------------------------------------------------------


def check_mandate(settings: CollectionSettings, **fields: str) -> Mandate:
    """The mandate's fields checked and converted (``InvalidField`` names the field).

    Bank and branch codes are checked against the zengin-code list when it is
    installed and ``check_bank_codes`` is on; names left empty are taken from it.
    """
    directory = installed_directory() if settings.check_bank_codes else None
    return validate_mandate(**fields, directory=directory, symbols=settings.kana_symbols)


@transaction.atomic
def save_mandate(number: str, settings: CollectionSettings, **fields: str) -> BankMandate:
    """Give the contract on ``number`` a debit mandate, or replace its mandate."""
    contract = subscribers.find_contract(number, for_update=True)
    mandate = check_mandate(settings, **fields)
    saved, _ = BankMandate.objects.update_or_create(contract=contract, defaults=asdict(mandate))
    return saved


# --- export --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    """A month's request file and what is in it (or that it had been exported already)."""

    month: Month
    debit_date: date
    content: bytes
    debits: int
    total_yen: int
    warnings: tuple[str, ...]
    already_exported: bool


def export_debits(
    month: Month, settings: CollectionSettings, actor: str, debit_day: int | None = None
) -> ExportResult:
    """The Zengin 口座振替 request file for closed ``month``.

    One data record per contract whose statement total plus carried-over
    unpaid amounts is above 0 and that has a mandate; those without a mandate
    are warnings.  The debit date is ``debit_day`` (default: the setting) of
    the next month, moved to a bank business day.  Exporting a month again
    returns the file exactly as it was first made.  Refused: a month not
    closed, a month out of order, and any month while the previous run's
    result has not been imported.
    """
    when = debit_date(month, debit_day or settings.debit_day)
    with transaction.atomic():
        run = DebitRun.objects.select_for_update().filter(month=str(month)).first()
        if run is not None:
            if debit_day is not None and run.debit_date != when:
                raise ExportedWithAnotherDate(str(month), run.debit_date, when)
            return _exported(run, already=True)
        if not MonthClose.objects.filter(month=str(month)).exists():
            raise MonthNotClosed(str(month))
        _check_order(month)
        planned, skipped = plan_debits(
            _dues(month), settings.customer_number_digits, settings.new_code
        )
        planned = [_checked(p, settings) for p in planned]
        content = request_file(settings, when, [p.record for p in planned])
        run = DebitRun.objects.create(
            month=str(month),
            debit_date=when,
            debits=len(planned),
            total_yen=sum(p.record.amount_yen for p in planned),
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            settings=settings.as_record(),
            warnings=[s.message for s in skipped],
            exported_by=actor,
        )
        _store_debits(run, planned)
    return _exported(run, already=False)


def _exported(run: DebitRun, already: bool) -> ExportResult:
    return ExportResult(
        month=Month.parse(run.month),
        debit_date=run.debit_date,
        content=bytes(run.content),
        debits=run.debits,
        total_yen=run.total_yen,
        warnings=tuple(run.warnings),
        already_exported=already,
    )


def _check_order(month: Month) -> None:
    latest = DebitRun.objects.order_by("-month").first()
    if latest is None:
        return
    if latest.month > str(month):
        raise ExportOutOfOrder(
            str(month), f"{latest.month} is already exported; months are exported in order"
        )
    if latest.month != str(month.previous()):
        following = Month.parse(latest.month).next()
        raise ExportOutOfOrder(str(month), f"export {following} first (months go in order)")
    if latest.result_imported_at is None and latest.debits:
        raise ResultPending(str(month), latest.month, latest.debit_date)


def _dues(month: Month) -> list[Due]:
    """What every contract owes at this export: the month's statement and unpaid earlier ones."""
    current = {
        contract_id: Charge(pk, str(month), total)
        for pk, contract_id, total in Statement.objects.filter(month=str(month)).values_list(
            "id", "contract_id", "total_yen"
        )
    }
    carried = _unpaid_statements()
    owing = sorted(set(current) | set(carried))
    numbers = dict(Contract.objects.values_list("id", "number"))
    mandates = {m.contract_id: _mandate_of(m) for m in BankMandate.objects.all()}
    last = _last_requested()
    return [
        Due(
            contract_id=contract_id,
            label=numbers[contract_id],
            statement=current.get(contract_id),
            carried=tuple(carried.get(contract_id, ())),
            mandate=mandates.get(contract_id),
            last_requested=last.get(contract_id),
        )
        for contract_id in owing
    ]


def _unpaid_statements() -> dict[int, list[Charge]]:
    """Statements whose latest debit failed, by contract (oldest first)."""
    ever_failed = DebitItem.objects.filter(request__result_code__in=UNPAID_CODES).values(
        "statement_id"
    )
    latest: dict[int, tuple[str, str, int, Charge]] = {}
    rows = DebitItem.objects.filter(statement_id__in=ever_failed).values_list(
        "statement_id",
        "statement__contract_id",
        "statement__month",
        "statement__total_yen",
        "request__run__month",
        "request__result_code",
    )
    for statement_id, contract_id, month, total, run_month, code in rows:
        if statement_id not in latest or run_month > latest[statement_id][0]:
            latest[statement_id] = (
                run_month,
                code,
                contract_id,
                Charge(statement_id, month, total),
            )
    unpaid: dict[int, list[Charge]] = defaultdict(list)
    for _, code, contract_id, charge in sorted(latest.values(), key=lambda v: v[3].month):
        if code in UNPAID_CODES:
            unpaid[contract_id].append(charge)
    return unpaid


def _mandate_of(row: BankMandate | DebitRequest) -> Mandate:
    return Mandate(
        bank_code=row.bank_code,
        branch_code=row.branch_code,
        account_type=row.account_type,
        account_number=row.account_number,
        holder_kana=row.holder_kana,
        bank_name=row.bank_name,
        branch_name=row.branch_name,
    )


def _last_requested() -> dict[int, Mandate]:
    """Each contract's account as its latest debit request gave it."""
    latest = DebitRequest.objects.values("contract_id").annotate(last=Max("id")).values("last")
    return {r.contract_id: _mandate_of(r) for r in DebitRequest.objects.filter(id__in=latest)}


def _checked(planned: Planned, settings: CollectionSettings) -> Planned:
    """The debit with its mandate checked again as it goes into the file."""
    mandate = planned.record.mandate
    try:
        checked = validate_mandate(**asdict(mandate), symbols=settings.kana_symbols)
    except InvalidField as error:
        number = Contract.objects.values_list("number", flat=True).get(pk=planned.contract_id)
        raise MandateUnusable(number, error.message) from None
    return replace(planned, record=replace(planned.record, mandate=checked))


def _store_debits(run: DebitRun, planned: list[Planned]) -> None:
    requests = DebitRequest.objects.bulk_create(
        DebitRequest(
            run=run,
            contract_id=p.contract_id,
            record_number=index,
            customer_number=p.record.customer_number,
            amount_yen=p.record.amount_yen,
            new_code=p.record.new_code,
            **asdict(p.record.mandate),
        )
        for index, p in enumerate(planned, start=2)  # record 1 is the header
    )
    request_of = {r.contract_id: r for r in requests}
    DebitItem.objects.bulk_create(
        DebitItem(
            request=request_of[contract_id],
            statement_id=charge.statement_id,
            amount_yen=charge.total_yen,
            carried=carried,
        )
        for contract_id, charge, carried in statements_of(planned)
    )


# --- import ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What a result file did: paid and unpaid per code, and the contracts acted on."""

    month: str
    debit_date: date
    paid: int
    paid_yen: int
    unpaid: int
    unpaid_yen: int
    codes: dict[str, int]
    listed: tuple[str, ...]
    stopped: tuple[str, ...]


def import_results(
    raw: bytes, settings: CollectionSettings, actor: str, today: date | None = None
) -> ImportResult:
    """Apply the bank's result file to the run it answers, all or nothing.

    Refused with record and byte (``ZenginFileError``), nothing applied: a
    record of the wrong length, records out of order, a bad field, a trailer
    whose counts or sums differ from its records, a run that was never
    exported, an unknown customer number, a record that differs from its
    request, a result already applied, a request without a result.
    """
    result = read_result_file(raw, settings.record_separator)
    with transaction.atomic():
        run = _run_answered_by(result)
        requests = {r.customer_number: r for r in run.requests.select_related("contract")}
        pairs = match_results(
            result,
            {
                number: Requested(
                    number,
                    r.bank_code,
                    r.branch_code,
                    r.account_type,
                    r.account_number,
                    r.amount_yen,
                    applied=bool(r.result_code),
                )
                for number, r in requests.items()
            },
        )
        now = timezone.now()
        changed = []
        codes: dict[str, int] = defaultdict(int)
        for requested, record in pairs:
            request = requests[requested.customer_number]
            request.result_code, request.result_at = record.result_code, now
            changed.append(request)
            codes[record.result_code] += 1
        _store_results(changed, now)
        paid = [r for r in changed if RESULT_CODES[r.result_code].paid]
        unpaid = [r for r in changed if not RESULT_CODES[r.result_code].paid]
        run.result_content = raw
        run.result_sha256 = hashlib.sha256(raw).hexdigest()
        run.result_imported_at = now
        run.result_imported_by = actor
        run.paid, run.paid_yen = len(paid), sum(r.amount_yen for r in paid)
        run.unpaid, run.unpaid_yen = len(unpaid), sum(r.amount_yen for r in unpaid)
        run.save()
        listed, stopped = _apply_failure_rule(run, unpaid, settings, actor, today or tokyo_today())
    return ImportResult(
        month=run.month,
        debit_date=run.debit_date,
        paid=run.paid,
        paid_yen=run.paid_yen,
        unpaid=run.unpaid,
        unpaid_yen=run.unpaid_yen,
        codes=dict(sorted(codes.items())),
        listed=tuple(listed),
        stopped=tuple(stopped),
    )


def _store_results(requests: list[DebitRequest], now: datetime) -> None:
    """Write the result codes: one UPDATE per code and slice of ids."""
    by_code: dict[str, list[int]] = defaultdict(list)
    for request in requests:
        by_code[request.result_code].append(request.pk)
    for code, ids in by_code.items():
        for start in range(0, len(ids), ID_SLICE):
            DebitRequest.objects.filter(pk__in=ids[start : start + ID_SLICE]).update(
                result_code=code, result_at=now
            )


def _run_answered_by(result: ResultFile) -> DebitRun:
    """The run whose debit date (MMDD) the result's header gives; its result not yet in first."""
    month, day = int(result.debit_mmdd[:2]), int(result.debit_mmdd[2:])
    candidates = sorted(
        DebitRun.objects.select_for_update().filter(debit_date__month=month, debit_date__day=day),
        key=lambda r: (r.result_imported_at is None, r.month),
    )
    date_field = HEADER.field("debit_date")
    if not candidates:
        raise ZenginFileError(
            1,
            date_field.start,
            f"no debit on {result.debit_mmdd[:2]}-{result.debit_mmdd[2:]} was exported",
            offset=date_field.start - 1,
            field=date_field.name,
        )
    run = candidates[-1]
    creditor = str(run.settings.get("creditor_code", ""))
    if result.creditor_code != creditor:
        field = HEADER.field("creditor_code")
        raise ZenginFileError(
            1,
            field.start,
            f"{result.creditor_code!r}, but the {run.month} run was exported as {creditor!r}",
            offset=field.start - 1,
            field=field.name,
        )
    return run


def _apply_failure_rule(
    run: DebitRun,
    unpaid: list[DebitRequest],
    settings: CollectionSettings,
    actor: str,
    today: date,
) -> tuple[list[str], list[str]]:
    """Put contracts that reach the failure threshold on the stop list, or stop them."""
    if not unpaid:
        return [], []
    failed = run.requests.filter(result_code__in=UNPAID_CODES).values("contract_id")
    history: dict[int, list[str]] = defaultdict(list)
    rows = (
        DebitRequest.objects.filter(contract__in=failed)
        .exclude(result_code="")
        .order_by("run__month")
        .values_list("contract_id", "result_code")
    )
    for contract_id, code in rows:
        history[contract_id].append(code)
    open_entries = {
        e.contract_id: e
        for e in StopListEntry.objects.select_for_update().filter(
            contract__in=failed, cleared_at__isnull=True
        )
    }
    listed: list[str] = []
    stopped: list[str] = []
    for request in sorted(unpaid, key=lambda r: r.contract.number):
        codes = history[request.contract_id]
        if not reaches_threshold(codes, settings.failure_threshold):
            continue
        failures = consecutive_failures(codes)
        entry = open_entries.get(request.contract_id)
        if entry is not None:  # listed already: the entry counts on
            entry.run, entry.failures, entry.last_code = run, failures, request.result_code
            entry.save(update_fields=["run", "failures", "last_code"])
            listed.append(request.contract.number)
            continue
        action, note = StopListEntry.Action.LISTED, ""
        if settings.on_failures is FailurePolicy.STOP:
            action, note = _stop(request, failures, today, actor)
        StopListEntry.objects.create(
            contract=request.contract,
            run=run,
            failures=failures,
            last_code=request.result_code,
            action=action,
            note=note,
        )
        (stopped if action == StopListEntry.Action.STOPPED else listed).append(
            request.contract.number
        )
    return listed, stopped


def failure_reason(failures: int, code: str) -> str:
    """Why a contract is stopped for failed debits (recorded on the contract's history)."""
    row = RESULT_CODES[code]
    return (
        f"口座振替不能 {failures} 回連続（最終: {row.name_ja}）"
        f" / {failures} failed direct debits in a row (last: {row.name_en})"
    )


def _stop(
    request: DebitRequest, failures: int, today: date, actor: str
) -> tuple[StopListEntry.Action, str]:
    """Stop the line (提供停止); a refusal (already stopped, terminated…) is noted, not raised."""
    try:
        with transaction.atomic():
            subscribers.stop(
                request.contract.number, today, failure_reason(failures, request.result_code), actor
            )
    except DenwaError as error:
        return StopListEntry.Action.STOP_REFUSED, error.message
    return StopListEntry.Action.STOPPED, ""


# --- statuses ------------------------------------------------------------------------------------


def debit_statuses(statements: Iterable[Statement]) -> dict[int, DebitStatus]:
    """The debit status of each statement, by statement id (one query for them all)."""
    by_id = {statement.pk: statement for statement in statements}
    latest: dict[int, tuple[str, Attempt]] = {}
    rows = DebitItem.objects.filter(statement_id__in=list(by_id)).values_list(
        "statement_id",
        "request__run__month",
        "request__run__debit_date",
        "carried",
        "request__result_code",
    )
    for statement_id, run_month, when, carried, code in rows:
        if statement_id not in latest or run_month > latest[statement_id][0]:
            latest[statement_id] = (run_month, Attempt(when, carried, code or None))
    return {
        pk: status_of(statement.total_yen, latest[pk][1] if pk in latest else None)
        for pk, statement in by_id.items()
    }


def debit_status(statement: Statement) -> DebitStatus:
    """A statement's debit status, for the console and the subscriber's page.

    ``DebitStatus.state`` is one of ``not_requested`` (no debit has asked for
    it), ``nothing_due`` (total 0 or a credit), ``requested`` (in a request
    file, result not in yet), ``carried_over`` (unpaid before, asked for again
    in a later debit), ``paid`` and ``unpaid`` (``result_code`` says why: 1
    資金不足, 2 取引なし, 3 預金者都合, 4 依頼書なし, 8 委託者都合, 9 その他).
    ``debit_date`` is the latest debit's date; ``label_ja`` / ``label_en`` (or
    ``label(language)``) say all of it in words, e.g. "振替不能：資金不足
    （2026-12-28）・次回に繰越" / "unpaid: insufficient funds (debit of
    2026-12-28, code 1); carried over to the next debit".
    """
    return debit_statuses([statement])[statement.pk]


# --- the stop list -------------------------------------------------------------------------------


def _open_entry(entry: StopListEntry) -> StopListEntry:
    locked = StopListEntry.objects.select_for_update().select_related("contract").get(pk=entry.pk)
    if locked.cleared_at is not None:
        raise StopListEntryClosed(locked.contract.number)
    return locked


@transaction.atomic
def clear_stop_list_entry(entry: StopListEntry, reason: str, actor: str) -> StopListEntry:
    """Take a contract off the stop list (paid otherwise, mandate renewed…), saying why."""
    locked = _open_entry(entry)
    if not reason.strip():
        raise InvalidField("reason", "say why the contract leaves the stop list")
    locked.cleared_at, locked.cleared_by, locked.clear_reason = timezone.now(), actor, reason
    locked.save(update_fields=["cleared_at", "cleared_by", "clear_reason"])
    return locked


@transaction.atomic
def stop_listed_contract(entry: StopListEntry, on: date, reason: str, actor: str) -> ContractEvent:
    """Stop (提供停止) a listed contract from ``on``; the entry records that it was stopped."""
    locked = _open_entry(entry)
    event = subscribers.stop(locked.contract.number, on, reason, actor)
    locked.action = StopListEntry.Action.STOPPED
    locked.save(update_fields=["action"])
    return event
