"""Ingesting the SIP side's CDR spool into the CDR table: exactly once, nothing lost.

For each spool file the ingest reads the complete lines after its stored
offset, imports them (rated on the way, already-known ids skipped) and moves
the offset in the same transaction.  Killed at any point, it re-reads from
the last committed offset and the ``id`` uniqueness absorbs the overlap.

An answered call is journalled (an open call) until its final record comes.
If it never comes, the call is closed by one of two rules, each idempotent
(the closing record is imported by ``id`` and the open call deleted in one
transaction):

- its node died: the journal names the node instance, whose heartbeat file
  (``spool.HEARTBEAT_SUFFIX``) went stale: closed as ``node_failure`` at the last
  heartbeat (``close_dead_node_calls``);
- it outlived its maximum length plus a grace: closed as ``answered`` at
  ``max_end`` (``close_overdue_calls``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction

from denwa.calls.errors import CdrFileError
from denwa.calls.models import Cdr, Disposition, OpenCall, SpoolOffset
from denwa.calls.services import import_cdr_lines
from denwa.core.operator_data.bundle import OperatorData
from denwa.sip.spool import HEARTBEAT_SUFFIX, SPOOL_SUFFIX

BATCH_BYTES = 4 * 1024 * 1024
NODE_DEAD_AFTER_SECONDS = 10
"""A node whose heartbeat (renewed every second) is older than this is taken for dead."""
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestPass:
    """What one pass over the spool did."""

    files: int
    imported: int
    skipped: int


def ingest_spool(directory: Path, data: OperatorData) -> IngestPass:
    """One pass: every spool file's new complete lines into the CDR table.

    A chunk of each file in turn, until none has a complete line left: a file
    that grows faster than the ingest reads (one busy worker) does not starve
    the others, whose calls' journal records and ends it may hold.
    """
    paths = sorted(directory.glob(f"*{SPOOL_SUFFIX}"))
    imported = skipped = 0
    pending = paths
    while pending:
        progressed = []
        for path in pending:
            result = _ingest_chunk(path, data)
            if result is None:
                continue
            imported += result[0]
            skipped += result[1]
            progressed.append(path)
        pending = progressed
    return IngestPass(len(paths), imported, skipped)


def _ingest_chunk(path: Path, data: OperatorData) -> tuple[int, int] | None:
    with transaction.atomic():
        state, _ = SpoolOffset.objects.select_for_update().get_or_create(path=str(path))
        with path.open("rb") as spool:
            spool.seek(state.offset)
            chunk = spool.read(BATCH_BYTES)
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line being written waits for the next pass
        if not complete:
            return None
        lines = complete.decode("utf-8", errors="replace").splitlines()
        lines, ended = _take_journal_records(lines)
        source = f"{path}@{state.offset}"
        try:
            with transaction.atomic():
                result = import_cdr_lines(source, lines, data)
            counts = (result.imported, result.skipped)
        except CdrFileError:
            counts = _import_line_by_line(path, source, lines, data)
        _delete_ended_open_calls(ended)
        state.offset += len(complete)
        state.save(update_fields=["offset", "updated_at"])
    return counts


IN_PROGRESS = "in_progress"
"""The journal record the SIP side writes when a call is answered."""


def _take_journal_records(lines: list[str]) -> tuple[list[str], list[str]]:
    """Store "answered, not yet ended" records as open calls; the final lines and their ids.

    Set-based (a query and a bulk insert per chunk, not per record): a journal
    record whose final record is in the same chunk, or already stored, opens nothing.
    """
    final: list[str] = []
    ended: list[str] = []
    journal: dict[str, dict[str, Any]] = {}
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            final.append(line)  # reported by the import, never dropped
            continue
        if not isinstance(record, dict) or record.get("disposition") != IN_PROGRESS:
            final.append(line)
            if isinstance(record, dict) and "id" in record:
                ended.append(str(record["id"]))
            continue
        journal[str(record.get("id"))] = record
    for cdr_id in ended:
        journal.pop(cdr_id, None)
    if journal:
        stored = set(Cdr.objects.filter(cdr_id__in=list(journal)).values_list("cdr_id", flat=True))
        OpenCall.objects.bulk_create(
            [
                OpenCall(
                    cdr_id=cdr_id,
                    record=record,
                    max_end=datetime.fromisoformat(str(record["max_end"])),
                )
                for cdr_id, record in journal.items()
                if cdr_id not in stored
            ],
            batch_size=2000,
            ignore_conflicts=True,  # journalled by an earlier, interrupted pass
        )
    return final, ended


def _delete_ended_open_calls(ended: list[str]) -> None:
    """Forget the open calls whose final record is now stored (a rejected line keeps its own)."""
    if not ended:
        return
    stored = list(Cdr.objects.filter(cdr_id__in=ended).values_list("cdr_id", flat=True))
    if stored:
        OpenCall.objects.filter(cdr_id__in=stored).delete()


def close_overdue_calls(data: OperatorData, now: datetime, grace_seconds: int = 60) -> int:
    """Calls past their maximum length with no end reported: close them at ``max_end``."""
    overdue = list(OpenCall.objects.filter(max_end__lt=now - timedelta(seconds=grace_seconds)))
    return _close(overdue, data, "open calls", lambda call: (call.max_end, Disposition.ANSWERED))


def close_dead_node_calls(
    directory: Path,
    data: OperatorData,
    now: datetime,
    dead_after_seconds: float = NODE_DEAD_AFTER_SECONDS,
) -> int:
    """Open calls of a node whose heartbeat went stale: ``node_failure`` at its last beat.

    The last beat is the node's last sign of life: the call was up then, and may
    have lasted at most one beat longer, so the caller is billed to the last beat
    (never beyond the call's ``max_end``).  A node's records written before it
    died are ingested before this runs (``follow_spool``), so a call that did end
    keeps its own CDR; a node that was only frozen and comes back finds its late
    records skipped as known ids.

    Once its calls are closed, a dead node's heartbeat file goes: the next passes
    are back to a stat per live node and no query (a node that comes back writes
    its file again with its next beat).
    """
    stale = {
        node: beat
        for node, beat in last_beats(directory).items()
        if (now - beat).total_seconds() > dead_after_seconds
    }
    if not stale:
        return 0  # the usual pass: a stat per node, no query
    calls = list(OpenCall.objects.filter(record__node__in=sorted(stale)))
    if calls:
        nodes = sorted({str(call.record["node"]) for call in calls})
        logger.warning("SIP node(s) %s stopped beating: closing %d call(s)", nodes, len(calls))

    def end(call: OpenCall) -> tuple[datetime, str]:
        answered = datetime.fromisoformat(str(call.record["answer"]))
        last_beat = stale[call.record["node"]]
        return min(max(last_beat, answered), call.max_end), Disposition.NODE_FAILURE

    closed = _close(calls, data, "dead node", end)
    for node in stale:
        (directory / f"{node}{HEARTBEAT_SUFFIX}").unlink(missing_ok=True)
    return closed


def last_beats(directory: Path) -> dict[str, datetime]:
    """Every node instance's last heartbeat (its ``.alive`` file's modification time)."""
    beats = {}
    for path in directory.glob(f"*{HEARTBEAT_SUFFIX}") if directory.is_dir() else ():
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue  # removed meanwhile
        beats[path.name.removesuffix(HEARTBEAT_SUFFIX)] = datetime.fromtimestamp(mtime, tz=UTC)
    return beats


def _close(
    calls: list[OpenCall],
    data: OperatorData,
    source: str,
    end: Callable[[OpenCall], tuple[datetime, str]],
) -> int:
    """Import a closing record for each open call (at ``end``'s time and disposition)."""
    if not calls:
        return 0
    lines = []
    for call in calls:
        ended, disposition = end(call)
        record = {k: v for k, v in call.record.items() if k not in ("max_end", "node")}
        record.update(end=ended.isoformat(), disposition=disposition)
        lines.append(json.dumps(record))
    with transaction.atomic():
        result = import_cdr_lines(source, lines, data)
        OpenCall.objects.filter(pk__in=[c.pk for c in calls]).delete()
    return result.imported


def _import_line_by_line(
    path: Path, source: str, lines: list[str], data: OperatorData
) -> tuple[int, int]:
    """A chunk with a bad line: import the good ones, keep the bad ones in ``rejected/``."""
    imported = skipped = 0
    rejected = path.parent / "rejected" / path.name
    for number, line in enumerate(lines, start=1):
        try:
            with transaction.atomic():
                result = import_cdr_lines(source, [line], data)
            imported += result.imported
            skipped += result.skipped
        except CdrFileError as error:
            rejected.parent.mkdir(exist_ok=True)
            with rejected.open("a", encoding="utf-8") as out:
                out.write(f"# {error.message} (line {number})\n{line}\n")
            logger.error("CDR rejected, kept in %s: %s", rejected, error.message)
    return imported, skipped


def follow_spool(
    directory: Path,
    data: Callable[[], OperatorData],
    interval: float = 0.5,
    report: Callable[[IngestPass], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
    retry_after: float = 2.0,
    node_dead_after: float = NODE_DEAD_AFTER_SECONDS,
) -> None:
    """Ingest every ``interval`` seconds until ``stop()`` (CDRs reach the console within ~1 s).

    While the database is unreachable the CDRs wait in the spool: the pass is
    retried every ``retry_after`` seconds (its transaction rolled back, nothing
    half-done), and the calls themselves never depended on the database.
    """
    down_since: float | None = None
    while not stop():
        try:
            done = ingest_spool(directory, data())
            now = datetime.now(UTC)
            close_dead_node_calls(directory, data(), now, node_dead_after)
            close_overdue_calls(data(), now)
        except DatabaseError as error:
            if down_since is None:
                down_since = time.monotonic()
                logger.warning("database unreachable, CDRs wait in the spool: %s", error)
            connection.close()  # a fresh connection on the next try
            time.sleep(retry_after)
            continue
        if down_since is not None:
            logger.warning(
                "database back after %.0f s; ingesting the spool", time.monotonic() - down_since
            )
            down_since = None
        if report is not None and done.imported:
            report(done)
        time.sleep(interval)
