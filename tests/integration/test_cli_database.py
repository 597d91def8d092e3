"""The database commands as an operator runs them: a fresh DENWA_HOME, SQLite, subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DENWA = Path(sys.executable).parent / "denwa"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DENWA_DATA")}
    env.update(DENWA_HOME=str(home), DJANGO_SETTINGS_MODULE="denwa.web.settings.dev")
    return subprocess.run(
        [str(DENWA), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def ok(home: Path, *args: str) -> str:
    done = run(home, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_init_with_demo_creates_the_three_demo_subscribers_and_an_operator(home: Path) -> None:
    out = ok(home, "init", "--demo")
    assert (home / "denwa.sqlite3").exists()
    for number in ("05055500001", "05055500002", "05055500003"):
        assert number in out
    assert "operator login: operator / " in out
    again = ok(home, "init", "--demo")
    assert "exists" in again


def test_a_month_from_the_command_line(home: Path, tmp_path: Path) -> None:
    ok(home, "init")
    ok(home, "subscriber", "add", "05055500009", "--isp-account", "K9", "--start", "2003-07-15")
    calls = tmp_path / "calls.jsonl"
    calls.write_text(
        json.dumps(
            {
                "id": "x1",
                "caller": "05055500009",
                "callee": "0312345678",
                "start": "2003-08-01T10:00:00+09:00",
                "answer": "2003-08-01T10:00:05+09:00",
                "end": "2003-08-01T10:03:06+09:00",
                "disposition": "answered",
            }
        )
        + "\n"
    )
    imported = json.loads(ok(home, "cdr", "import", str(calls), "--json"))
    assert (imported["imported"], imported["skipped"]) == (1, 0)
    ok(home, "bill", "close", "2003-07")
    assert "closed" in ok(home, "bill", "close", "2003-08")
    assert "already closed" in ok(home, "bill", "close", "2003-08")
    shown = json.loads(ok(home, "bill", "show", "05055500009", "2003-08", "--json"))
    assert set(shown) >= {"number", "month", "lines", "calls", "tax_yen", "total_yen"}
    assert shown["calls"]["domestic_fixed"] == {"count": 1, "seconds": 181, "amount_yen": 16}
    assert shown["tax_yen"] == {"0.05": 19}  # (380 + 16) x 5% = 19.8, rounded down
    assert shown["total_yen"] == 415
    assert {"code", "description", "amount_yen", "tax_category"} <= set(shown["lines"][0])


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (("subscriber", "terminate", "05055599999", "--date", "2003-09-01"), "no contract"),
        (
            ("subscriber", "add", "0312345678", "--isp-account", "K", "--start", "2003-07-01"),
            "not one of our",
        ),
        (("subscriber", "stop", "05055500001", "--date", "2003-09-01", "--reason", " "), "reason"),
        (("subscriber", "resume", "05055500001", "--date", "2003-09-01"), "active to active"),
        (
            (
                "subscriber",
                "suspend",
                "05055500001",
                "--from",
                "2026-11-01",
                "--to",
                "2027-06-01",
                "--reason",
                "r",
            ),
            "at most 6 months",
        ),
        (("bill", "close", "2099-01"), "not over"),
        (("bill", "show", "05055500001", "2003-01"), "no closed statement"),
        (("isp-event", "NOPE", "cancelled"), "no ISP account"),
        (("cdr", "import", "/nonexistent.jsonl"), "cannot read"),
    ],
    ids=[
        "unknown-number",
        "not-our-number",
        "stop-without-reason",
        "resume-an-active-line",
        "suspension-too-long",
        "month-not-over",
        "no-statement",
        "unknown-isp-account",
        "missing-cdr-file",
    ],
)
def test_bad_operations_give_one_error_line_and_exit_code_2(
    home: Path, args: tuple[str, ...], mentions: str
) -> None:
    ok(home, "init", "--demo")
    done = run(home, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("denwa: error:")
    assert mentions in lines[0]


def test_a_bad_cdr_file_names_the_line_and_imports_nothing(home: Path, tmp_path: Path) -> None:
    ok(home, "init", "--demo")
    bad = tmp_path / "bad.jsonl"
    good = {
        "id": "g",
        "caller": "05055500001",
        "callee": "0312345678",
        "start": "2026-11-01T10:00:00+09:00",
        "answer": None,
        "end": "2026-11-01T10:00:09+09:00",
        "disposition": "cancelled",
    }
    bad.write_text(json.dumps(good) + "\n" + '{"id": "h"}\n')
    done = run(home, "cdr", "import", str(bad))
    assert done.returncode == 2
    assert f"{bad}:2: missing field(s)" in done.stderr
    bad.write_text(json.dumps(good) + "\n")
    fixed = json.loads(ok(home, "cdr", "import", str(bad), "--json"))
    assert (fixed["imported"], fixed["skipped"]) == (1, 0)  # the good line was not kept before
