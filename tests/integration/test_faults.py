"""Processes killed mid-run lose and duplicate nothing (SPEC §8): the close, the CDR ingest.

Real processes (``denwa bill close``, ``denwa cdr ingest``) on a SQLite DENWA_HOME,
killed with SIGKILL while they work, then run again to the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DENWA = Path(sys.executable).parent / "denwa"
BENCH = Path(__file__).resolve().parents[2] / "bench"
ALICE, BOB = "05055500001", "05055500002"


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DENWA_DATA")}
    env.update(DENWA_HOME=str(home), DJANGO_SETTINGS_MODULE="denwa.web.settings.dev")
    if (home / "data").is_dir():
        env["DENWA_DATA"] = str(home / "data")
    return env


def denwa(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(DENWA), *args],
        env=environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


def kill_after(process: subprocess.Popen[str], seconds: float) -> bool:
    """SIGKILL ``process`` after ``seconds``; True if it was still working then."""
    time.sleep(seconds)
    working = process.poll() is None
    if working:
        process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    return working


def kill_while_writing(process: subprocess.Popen[str], wal: Path, delay: float) -> bool:
    """SIGKILL ``process`` ``delay`` s after its writes reach ``wal``; True if it was working."""
    initial = wal.stat().st_size if wal.exists() else 0
    while process.poll() is None and (wal.stat().st_size if wal.exists() else 0) == initial:
        time.sleep(0.005)
    return kill_after(process, delay)


def rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(home / "denwa.sqlite3") as db:
        return db.execute(sql).fetchall()


# --- the close ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DENWA_HOME with 3 000 contracts and 300 000 CDRs of 2019-10 (bench/generate.py)."""
    home = tmp_path_factory.mktemp("generated") / "home"
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from generate import configure, generate; from denwa.core.timeutil import Month;"
        "data = configure(Path(sys.argv[2]), 'sqlite');"
        "generate(Month(2019, 10), data, 3000, 300000)"
    )
    env = environment(home)
    subprocess.run(
        [sys.executable, "-c", script, str(BENCH), str(home)], env=env, check=True, timeout=300
    )
    return home


def statements(home: Path) -> list[tuple[object, ...]]:
    return rows(
        home,
        "SELECT c.number, s.month, s.subtotal_yen, s.tax_yen, s.total_yen,"
        " (SELECT group_concat(l.position || ':' || l.code || ':' || l.amount_yen || ':'"
        "   || l.quantity, '|') FROM billing_statementline l WHERE l.statement_id = s.id),"
        " (SELECT group_concat(t.tax_category || ':' || IFNULL(t.rate, '-') || ':'"
        "   || t.subtotal_yen || ':' || t.tax_yen, '|') FROM billing_statementtax t"
        "   WHERE t.statement_id = s.id)"
        " FROM billing_statement s JOIN subscribers_contract c ON c.id = s.contract_id"
        " ORDER BY c.number, s.month",
    )


def test_a_close_killed_mid_run_leaves_nothing_and_its_rerun_equals_an_uninterrupted_close(
    generated: Path, tmp_path: Path
) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    shutil.copytree(generated, whole)
    shutil.copytree(generated, killed)
    started = time.monotonic()
    finish(denwa(whole, "bill", "close", "2019-10"))
    duration = time.monotonic() - started

    interrupted = 0
    for point in ("early", 0.0, 0.2, 0.5):
        close = denwa(killed, "bill", "close", "2019-10")
        if point == "early":  # while it re-rates and totals, before it writes anything
            working = kill_after(close, duration * 0.6)
        else:  # after its first write (the WAL file grows), at points up to its end
            working = kill_while_writing(close, killed / "denwa.sqlite3-wal", point)
        if not working:
            break
        interrupted += 1
        assert rows(killed, "SELECT COUNT(*) FROM billing_monthclose") == [(1,)]  # 2019-09
        assert rows(killed, "SELECT COUNT(*) FROM billing_statement") == [(0,)]
    assert interrupted >= 3, "the close ended before it could be killed: nothing was tested"
    assert "closed" in finish(denwa(killed, "bill", "close", "2019-10"))

    assert statements(killed) == statements(whole)
    assert len(statements(whole)) > 2500
    stamped = "SELECT billed_month, COUNT(*), SUM(calls) FROM calls_calltotal GROUP BY 1 ORDER BY 1"
    assert rows(killed, stamped) == rows(whole, stamped)


# --- the ingest -----------------------------------------------------------------------


def spool_lines(count: int) -> Iterator[str]:
    """``count`` answered calls of two demo subscribers, as the SIP side spools them."""
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    for n in range(count):
        begin = start + timedelta(seconds=n)
        yield json.dumps(
            {
                "id": f"fault-{n:06d}",
                "caller": ALICE if n % 2 else BOB,
                "callee": "0312345678",
                "start": begin.isoformat(),
                "answer": (begin + timedelta(seconds=3)).isoformat(),
                "end": (begin + timedelta(seconds=3 + n % 400)).isoformat(),
                "disposition": "answered",
            },
            separators=(",", ":"),
        )


def test_an_ingest_killed_mid_batch_and_restarted_stores_every_cdr_exactly_once(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    finish(denwa(home, "init", "--demo"))
    spool = home / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    total = 60_000
    for part in range(2):  # two spool files, as two Kamailio workers would write them
        lines = list(spool_lines(total))[part::2]
        (spool / f"worker-{part}.cdr.jsonl").write_text("\n".join(lines) + "\n")

    interrupted = 0
    for wait in (1.5, 2.5, 3.5):
        stored_before = rows(home, "SELECT COUNT(*) FROM calls_cdr")[0][0]
        working = kill_after(denwa(home, "cdr", "ingest"), wait)
        stored_after = rows(home, "SELECT COUNT(*) FROM calls_cdr")[0][0]
        interrupted += working and stored_after < total
        assert stored_after >= stored_before
    assert interrupted >= 1, "the ingest ended before it could be killed: nothing was tested"
    finish(denwa(home, "cdr", "ingest"))

    assert rows(home, "SELECT COUNT(*), COUNT(DISTINCT cdr_id) FROM calls_cdr") == [(total, total)]
    sizes = sum(path.stat().st_size for path in spool.glob("*.cdr.jsonl"))
    assert rows(home, "SELECT SUM(`offset`) FROM calls_spooloffset") == [(sizes,)]
    from_calls = rows(
        home,
        "SELECT contract_id, call_class, billing_month, COUNT(*), SUM(billed_seconds),"
        " SUM(charge_yen) FROM calls_cdr GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    running = rows(
        home,
        "SELECT contract_id, call_class, billing_month, calls, seconds, charge_yen"
        " FROM calls_calltotal ORDER BY 1, 2, 3",
    )
    assert running == from_calls
