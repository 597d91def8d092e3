"""The CDR spool reaches the CDR table exactly once, whatever stops in between."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from denwa.calls import ingest
from denwa.calls.ingest import close_dead_node_calls, close_overdue_calls, ingest_spool
from denwa.calls.models import Cdr, OpenCall, SpoolOffset
from denwa.core.operator_data.bundle import OperatorData
from denwa.sip.spool import HEARTBEAT_SUFFIX, CdrSpool
from denwa.subscribers.services import add_subscriber

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ALICE = "05055500001"


def record(cdr_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": cdr_id,
        "caller": ALICE,
        "callee": "0312345678",
        "start": "2026-11-02T01:00:00.000+00:00",
        "answer": "2026-11-02T01:00:01.000+00:00",
        "end": "2026-11-02T01:03:02.000+00:00",
        "disposition": "answered",
        "sip_code": None,
        **changes,
    }


MAX_END = "2026-11-02T05:00:01+00:00"  # answered 01:00:01, four hours at most


def journal(cdr_id: str, **changes: Any) -> dict[str, Any]:
    """The answer journal record of ``record(cdr_id)``: answered, not ended yet."""
    return record(cdr_id, end=None, disposition="in_progress", max_end=MAX_END, **changes)


@pytest.fixture
def spool(tmp_path: Path, data: OperatorData) -> CdrSpool:
    add_subscriber(data, ALICE, "K1", date(2026, 10, 1), "test", "pw")
    return CdrSpool(tmp_path / "spool", "node1")


def test_spooled_calls_are_imported_and_rated(spool: CdrSpool, data: OperatorData) -> None:
    spool.append(record("c1"))
    spool.append(record("c2", answer=None, disposition="cancelled", sip_code=487))
    done = ingest_spool(spool.directory, data)
    assert (done.files, done.imported) == (1, 2)
    answered = Cdr.objects.get(cdr_id="c1")
    assert (answered.call_class, answered.units, answered.charge_yen) == ("domestic_fixed", 2, 16)
    assert Cdr.objects.get(cdr_id="c2").disposition == "cancelled"


def test_a_second_pass_imports_only_what_is_new(spool: CdrSpool, data: OperatorData) -> None:
    spool.append(record("c1"))
    ingest_spool(spool.directory, data)
    spool.append(record("c2"))
    again = ingest_spool(spool.directory, data)
    assert again.imported == 1
    assert Cdr.objects.count() == 2


def test_a_half_written_line_waits_for_the_next_pass(spool: CdrSpool, data: OperatorData) -> None:
    spool.append(record("c1"))
    path = next(spool.directory.glob("*.jsonl"))
    line = json.dumps(record("c2")) + "\n"
    with path.open("a") as out:
        out.write(line[:40])
    assert ingest_spool(spool.directory, data).imported == 1
    with path.open("a") as out:
        out.write(line[40:])
    assert ingest_spool(spool.directory, data).imported == 1
    assert sorted(Cdr.objects.values_list("cdr_id", flat=True)) == ["c1", "c2"]


def test_an_ingest_stopped_after_importing_but_before_moving_its_offset_duplicates_nothing(
    spool: CdrSpool, data: OperatorData
) -> None:
    spool.append(record("c1"))
    spool.append(record("c2"))
    ingest_spool(spool.directory, data)
    SpoolOffset.objects.update(offset=0)  # as if the offset had not been committed
    again = ingest_spool(spool.directory, data)
    assert (again.imported, again.skipped) == (0, 2)
    assert Cdr.objects.count() == 2


def test_a_bad_spool_line_is_kept_aside_and_the_others_imported(
    spool: CdrSpool, data: OperatorData
) -> None:
    spool.append(record("c1"))
    spool.append({"id": "broken"})
    spool.append(record("c3"))
    done = ingest_spool(spool.directory, data)
    assert done.imported == 2
    rejected = (spool.directory / "rejected").glob("*.jsonl")
    kept = "".join(p.read_text() for p in rejected)
    assert '"id": "broken"' in kept or '"id":"broken"' in kept
    assert "missing field" in kept


def test_an_answered_call_whose_end_comes_is_billed_once_from_its_end(
    spool: CdrSpool, data: OperatorData
) -> None:
    spool.append(journal("c1"))
    ingest_spool(spool.directory, data)
    assert OpenCall.objects.count() == 1
    spool.append(record("c1"))
    ingest_spool(spool.directory, data)
    assert OpenCall.objects.count() == 0
    assert Cdr.objects.get(cdr_id="c1").billed_seconds == 181
    assert close_overdue_calls(data, datetime(2030, 1, 1, tzinfo=UTC)) == 0


def test_a_call_journalled_and_ended_in_the_same_pass_leaves_no_open_call(
    spool: CdrSpool, data: OperatorData
) -> None:
    spool.append(journal("c1"))
    spool.append(record("c1"))
    ingest_spool(spool.directory, data)
    assert (Cdr.objects.count(), OpenCall.objects.count()) == (1, 0)


def test_a_journal_record_ingested_after_its_calls_end_opens_nothing(
    spool: CdrSpool, data: OperatorData
) -> None:
    """A call's answer and end may be written by two Kamailio workers, to two files."""
    spool.append(record("c1"))  # the first file (by name) holds the end
    ingest_spool(spool.directory, data)
    (spool.directory / "zz-worker.cdr.jsonl").write_text(json.dumps(journal("c1")) + "\n")
    ingest_spool(spool.directory, data)
    assert (Cdr.objects.count(), OpenCall.objects.count()) == (1, 0)


def test_a_journal_record_read_again_after_an_interrupted_pass_opens_the_call_once(
    spool: CdrSpool, data: OperatorData
) -> None:
    spool.append(journal("c1"))
    ingest_spool(spool.directory, data)
    SpoolOffset.objects.update(offset=0)  # as if the pass had died before moving its offset
    ingest_spool(spool.directory, data)
    assert OpenCall.objects.filter(cdr_id="c1").count() == 1


def test_a_rejected_end_record_keeps_its_call_open(spool: CdrSpool, data: OperatorData) -> None:
    spool.append(journal("c1"))
    ingest_spool(spool.directory, data)
    spool.append(record("c1", caller=""))  # refused by the import, kept aside
    ingest_spool(spool.directory, data)
    assert (Cdr.objects.count(), OpenCall.objects.count()) == (0, 1)


def test_an_answered_call_whose_end_never_comes_is_closed_at_its_maximum_length(
    spool: CdrSpool, data: OperatorData
) -> None:
    spool.append(journal("c1"))  # ends at MAX_END at the latest
    ingest_spool(spool.directory, data)
    before = close_overdue_calls(data, datetime(2026, 11, 2, 5, 0, 30, tzinfo=UTC))
    closed = close_overdue_calls(data, datetime(2026, 11, 2, 5, 2, 0, tzinfo=UTC))
    cdr = Cdr.objects.get(cdr_id="c1")
    assert (before, closed) == (0, 1)  # a minute's grace for a late end record
    assert (cdr.disposition, cdr.billed_seconds) == ("answered", 4 * 3600)
    assert OpenCall.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # the follower closes its connection: no test transaction
def test_a_database_outage_makes_the_follower_wait_and_retry_not_die(
    spool: CdrSpool, data: OperatorData, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool.append(record("outage1"))
    real_pass = ingest.ingest_spool
    attempts: list[str] = []

    def flaky_pass(directory: Path, data: OperatorData) -> ingest.IngestPass:
        if len(attempts) < 2:
            attempts.append("down")
            raise OperationalError("connection refused")
        attempts.append("up")
        return real_pass(directory, data)

    monkeypatch.setattr(ingest, "ingest_spool", flaky_pass)
    ingest.follow_spool(
        spool.directory, lambda: data, interval=0, retry_after=0, stop=lambda: "up" in attempts
    )
    assert attempts == ["down", "down", "up"]
    assert Cdr.objects.filter(cdr_id="outage1").count() == 1


ANSWERED = datetime(2026, 11, 2, 1, 0, 1, tzinfo=UTC)


def open_call_on_node(
    spool: CdrSpool, data: OperatorData, cdr_id: str, last_beat: datetime
) -> None:
    """An answered call journalled by ``spool``'s node (and ingested); its node last beat then."""
    spool.append(journal(cdr_id, node=spool.node))
    beat = spool.directory / f"{spool.node}{HEARTBEAT_SUFFIX}"
    os.utime(beat, (last_beat.timestamp(), last_beat.timestamp()))
    ingest_spool(spool.directory, data)


def test_a_call_up_on_a_node_whose_heartbeat_stopped_is_closed_at_its_last_beat(
    spool: CdrSpool, data: OperatorData
) -> None:
    last_beat = ANSWERED + timedelta(seconds=120)
    open_call_on_node(spool, data, "c1", last_beat)
    closed = close_dead_node_calls(spool.directory, data, last_beat + timedelta(seconds=11))
    cdr = Cdr.objects.get(cdr_id="c1")
    assert closed == 1
    assert (cdr.disposition, cdr.ended_at, cdr.billed_seconds) == ("node_failure", last_beat, 120)
    assert cdr.charge_yen > 0  # answered: billed up to the node's last sign of life
    assert OpenCall.objects.count() == 0


def test_a_dead_nodes_heartbeat_file_goes_once_its_calls_are_closed(
    spool: CdrSpool, data: OperatorData
) -> None:
    last_beat = ANSWERED + timedelta(seconds=30)
    open_call_on_node(spool, data, "c1", last_beat)
    beat = spool.directory / f"{spool.node}{HEARTBEAT_SUFFIX}"
    close_dead_node_calls(spool.directory, data, last_beat + timedelta(seconds=11))
    assert not beat.exists()
    spool.heartbeat()  # a node that was only frozen beats again
    assert beat.exists()


def test_a_call_on_a_node_that_still_beats_stays_open(spool: CdrSpool, data: OperatorData) -> None:
    last_beat = ANSWERED + timedelta(seconds=120)
    open_call_on_node(spool, data, "c1", last_beat)
    assert close_dead_node_calls(spool.directory, data, last_beat + timedelta(seconds=9)) == 0
    assert OpenCall.objects.count() == 1
    assert not Cdr.objects.exists()


def test_closing_a_dead_nodes_calls_twice_or_after_a_late_end_stores_each_call_once(
    spool: CdrSpool, data: OperatorData
) -> None:
    last_beat = ANSWERED + timedelta(seconds=30)
    open_call_on_node(spool, data, "c1", last_beat)
    later = last_beat + timedelta(seconds=60)
    first = close_dead_node_calls(spool.directory, data, later)
    second = close_dead_node_calls(spool.directory, data, later)
    spool.append(record("c1"))  # a node that was only frozen reports the end after all
    late = ingest_spool(spool.directory, data)
    assert (first, second, late.imported, late.skipped) == (1, 0, 0, 1)
    assert Cdr.objects.get(cdr_id="c1").disposition == "node_failure"


def test_a_node_that_died_before_the_answer_was_noted_closes_the_call_at_its_answer(
    spool: CdrSpool, data: OperatorData
) -> None:
    open_call_on_node(spool, data, "c1", ANSWERED - timedelta(seconds=5))
    close_dead_node_calls(spool.directory, data, ANSWERED + timedelta(seconds=60))
    cdr = Cdr.objects.get(cdr_id="c1")
    assert (cdr.disposition, cdr.ended_at, cdr.billed_seconds) == ("node_failure", ANSWERED, 0)


def test_a_journal_without_a_node_is_left_to_its_maximum_length(
    spool: CdrSpool, data: OperatorData
) -> None:
    spool.append(journal("c1"))
    ingest_spool(spool.directory, data)
    assert close_dead_node_calls(spool.directory, data, datetime(2030, 1, 1, tzinfo=UTC)) == 0
    assert OpenCall.objects.count() == 1
