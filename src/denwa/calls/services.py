"""Importing call records: validate the whole file, rate each call, store it once.

A file is imported all or nothing: a bad line is reported with its number
and nothing from the file is stored.  Records already imported (same ``id``)
are skipped, so a file can be imported again safely; so is a refusal written
twice for one retransmitted INVITE (``_refused_again``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from denwa.calls.errors import CdrFileError
from denwa.calls.models import Cdr, Disposition
from denwa.core.errors import DenwaError
from denwa.core.numbering import CallClass, analyse
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.rating.calls import rate_call
from denwa.core.rating.tariffs import TaxCategory
from denwa.core.timeutil import Month, billing_date
from denwa.subscribers.models import Contract

REQUIRED_FIELDS = ("id", "caller", "callee", "start", "answer", "end", "disposition")
DISPOSITIONS = frozenset(Disposition.values)
ANSWERED_DISPOSITIONS = frozenset({Disposition.ANSWERED, Disposition.NODE_FAILURE})
"""A call cut by a node failure was answered: it is billed up to its reasoned end."""


@dataclass(frozen=True)
class ImportResult:
    """How many records a file had, how many were new, skipped, or stored unrated."""

    read: int
    imported: int
    skipped: int
    unrated: tuple[str, ...]


def import_cdr_file(path: Path, data: OperatorData) -> ImportResult:
    """Import a JSON-lines CDR file (see ``parse_cdr_line`` for a line's fields)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CdrFileError(str(path), 0, f"cannot read: {error}") from None
    return import_cdr_lines(str(path), text.splitlines(), data)


def import_cdr_lines(source: str, lines: Iterable[str], data: OperatorData) -> ImportResult:
    """Import JSON lines: all or nothing, idempotent by ``id``."""
    records: dict[str, dict[str, Any]] = {}
    repeats = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = parse_cdr_line(source, number, line)
        previous = records.get(record["id"])
        if previous is not None:
            if previous != record and not _refused_again(previous, record):
                raise CdrFileError(source, number, f"id {record['id']} appears twice, differently")
            repeats += 1
            continue
        records[record["id"]] = record
    with transaction.atomic():
        existing = set(
            Cdr.objects.filter(cdr_id__in=list(records)).values_list("cdr_id", flat=True)
        )
        new = [r for cdr_id, r in records.items() if cdr_id not in existing]
        numbers = {r["caller"] for r in new} | {r["callee"] for r in new}
        contracts = {c.number: c for c in Contract.objects.filter(number__in=numbers)}
        rows = [build_cdr(r, contracts, data) for r in new]
        Cdr.objects.bulk_create(rows, batch_size=2000)
        add_to_running_totals(rows)
    unrated = tuple(row.cdr_id for row in rows if row.answered_at and not row.tariff_key)
    return ImportResult(len(records) + repeats, len(rows), len(existing) + repeats, unrated)


def _refused_again(first: dict[str, Any], later: dict[str, Any]) -> bool:
    """``later`` is the same call attempt refused again: the first record stands.

    A refusal is answered statelessly, so an INVITE the phone retransmits (its
    refusal lost or late) is refused again and written again under the same
    Call-ID, only its times differing.  Both are refusals of nothing answered.
    """
    same = ("caller", "callee", "disposition", "sip_code")
    return (
        first["disposition"] == Disposition.REFUSED
        and first["answer"] is None
        and later["answer"] is None
        and all(first.get(name) == later.get(name) for name in same)
    )


def add_to_running_totals(rows: Iterable[Cdr]) -> None:
    """Add new CDRs' answered outbound calls to the open running totals (``CallTotal``).

    Must run in the transaction that stores the CDRs: the close reads these
    totals instead of the calls.
    """
    sums: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        if row.direction == Cdr.Direction.OUT and row.answered_at and row.contract_id:
            total = sums[row.contract_id, row.call_class, row.billing_month]
            total[0] += 1
            total[1] += row.billed_seconds
            total[2] += row.charge_yen
    if not sums:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            """
            INSERT INTO calls_calltotal
                (contract_id, call_class, billing_month, billed_month, calls, seconds, charge_yen)
            VALUES (%s, %s, %s, '', %s, %s, %s)
            ON CONFLICT (contract_id, call_class, billing_month, billed_month) DO UPDATE SET
                calls = calls_calltotal.calls + excluded.calls,
                seconds = calls_calltotal.seconds + excluded.seconds,
                charge_yen = calls_calltotal.charge_yen + excluded.charge_yen
            """,
            [(*key, *values) for key, values in sorted(sums.items())],
        )


def parse_cdr_line(source: str, number: int, line: str) -> dict[str, Any]:
    """Validate one JSON line: id, caller, callee, start, answer|null, end|null, disposition.

    Times are ISO 8601 with a UTC offset; an answered call needs its end.
    """
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        raise CdrFileError(source, number, f"not JSON: {error.msg}") from None
    if not isinstance(raw, dict):
        raise CdrFileError(source, number, "a line must be a JSON object")
    missing = [name for name in REQUIRED_FIELDS if name not in raw]
    if missing:
        raise CdrFileError(source, number, f"missing field(s) {', '.join(missing)}")
    for name in ("id", "caller", "callee"):
        if not isinstance(raw[name], str) or not raw[name]:
            raise CdrFileError(source, number, f"{name} must be a non-empty string")
    if len(raw["id"]) > 64:
        raise CdrFileError(source, number, "id is longer than 64 characters")
    if raw["disposition"] not in DISPOSITIONS:
        allowed = ", ".join(sorted(DISPOSITIONS))
        raise CdrFileError(source, number, f"disposition must be one of {allowed}")
    sip_code = raw.get("sip_code")
    if sip_code is not None and (not isinstance(sip_code, int) or not 100 <= sip_code <= 699):
        raise CdrFileError(source, number, f"sip_code must be a SIP code, not {sip_code!r}")
    times = {name: _time(source, number, name, raw[name]) for name in ("start", "answer", "end")}
    if times["start"] is None:
        raise CdrFileError(source, number, "start is required")
    answered = times["answer"] is not None
    if answered and raw["disposition"] not in ANSWERED_DISPOSITIONS:
        raise CdrFileError(source, number, f"a {raw['disposition']} call has no answer time")
    if not answered and raw["disposition"] == Disposition.ANSWERED:
        raise CdrFileError(source, number, "an answered call needs its answer time")
    if answered and times["end"] is None:
        raise CdrFileError(source, number, "an answered call needs its end time")
    ordered = [t for t in (times["start"], times["answer"], times["end"]) if t is not None]
    if ordered != sorted(ordered):
        raise CdrFileError(source, number, "times must be in order start ≤ answer ≤ end")
    return {**raw, **times, "sip_code": sip_code}


def _time(source: str, number: int, name: str, value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CdrFileError(source, number, f"{name} must be an ISO 8601 time or null")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CdrFileError(source, number, f"{name} {value!r} is not an ISO 8601 time") from None
    if moment.utcoffset() is None:
        raise CdrFileError(source, number, f"{name} {value!r} has no UTC offset")
    return moment


def build_cdr(record: dict[str, Any], contracts: dict[str, Contract], data: OperatorData) -> Cdr:
    """A ``Cdr`` row from a validated record: direction, class and charge decided here."""
    caller, callee = record["caller"], record["callee"]
    outbound = caller in contracts
    contract = contracts.get(caller) if outbound else contracts.get(callee)
    analysis = analyse(callee if outbound else caller, data.ranges)
    answered_at, ended_at = record["answer"], record["end"]
    month_of = answered_at or record["start"]
    row = Cdr(
        cdr_id=record["id"],
        contract=contract,
        direction=Cdr.Direction.OUT if outbound else Cdr.Direction.IN,
        caller=caller,
        dialled=callee,
        callee=(analysis.number or "") if outbound else callee,
        call_class=analysis.call_class.value,
        started_at=record["start"],
        answered_at=answered_at,
        ended_at=ended_at,
        disposition=record["disposition"],
        sip_code=record["sip_code"],
        tax_exempt=analysis.call_class is CallClass.INTERNATIONAL,
        billing_month=str(Month.of(billing_date(month_of))),
    )
    if outbound and answered_at is not None and analysis.number is not None:
        try:
            rated = rate_call(
                data.tariffs, analysis.call_class, analysis.number, answered_at, ended_at
            )
        except DenwaError:
            return row  # stored unrated: reported by the import, never dropped
        row.tariff_key = rated.tariff_key
        row.billed_seconds = rated.billed_seconds
        row.unit_seconds = rated.unit_seconds
        row.yen_per_unit = rated.yen_per_unit
        row.units = rated.units
        row.charge_yen = rated.charge_yen
        row.tax_exempt = rated.tax_category is TaxCategory.EXEMPT
    return row
