"""The installed ``denwa`` command, run as a subprocess (README "The denwa command").

Every command prints a readable table or JSON; bad input ends with exactly one
line on stderr, ``denwa: error: …``, nothing on stdout, and exit code 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

DENWA = Path(sys.executable).parent / "denwa"
ON = ("--date", "2003-09-01")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DENWA_DATA"}
    return subprocess.run(
        [str(DENWA), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )


def run_json(*args: str) -> Any:
    done = run(*args, "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return json.loads(done.stdout)


# --- classify ---------------------------------------------------------------------------


def test_classify_110_is_refused_as_an_emergency_number_with_the_japanese_announcement() -> None:
    result = run_json("classify", "110", *ON)

    assert {
        key: result[key]
        for key in (
            "class",
            "number",
            "admitted",
            "sip_code",
            "reason",
            "announcement_ja",
            "privacy",
        )
    } == {
        "class": "special_3digit",
        "number": "110",
        "admitted": False,
        "sip_code": 403,
        "reason": "Emergency calls (110/118/119) are not available on IP phone: "
        "call from a fixed line",
        "announcement_ja": "緊急通話はご利用になれません。一般加入電話からおかけください。",
        "privacy": None,
    }
    assert result["refusal"] == "emergency"


def test_classify_strips_184_and_withholds_the_caller_id() -> None:
    result = run_json("classify", "1840312345678", *ON)

    assert result["class"] == "domestic_fixed"
    assert result["number"] == "0312345678"
    assert result["privacy"] == "withhold"
    assert result["admitted"] is True
    assert result["sip_code"] is None
    assert result["reason"] is None
    assert result["announcement_ja"] is None


@pytest.mark.parametrize(
    ("number", "admitted"),
    [
        pytest.param("07056123456", False, id="astel-other-never-calls-in"),
        pytest.param("07055123456", False, id="astel-tokyo-without-zenkoku-call"),
        pytest.param("07055912345", True, id="astel-tokyo-listed-with-zenkoku-call"),
        pytest.param("07053123456", True, id="docomo-phs-both-ways"),
    ],
)
def test_an_inbound_phs_caller_is_admitted_by_its_carriers_rule(
    number: str, admitted: bool
) -> None:
    result = run_json("classify", number, "--direction", "in", *ON)

    assert result["class"] == "phs"
    assert result["number"] == number
    assert result["admitted"] is admitted
    if admitted:
        assert result["sip_code"] is None
    else:
        assert result["sip_code"] == 403
        assert result["refusal"] == "phs_inbound"
        assert result["announcement_ja"]


def test_the_same_astel_number_may_be_called_outbound() -> None:
    result = run_json("classify", "07056123456", *ON)

    assert result["class"] == "phs"
    assert result["admitted"] is True


# --- rate -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "seconds", "expected"),
    [
        pytest.param(
            "0312345678",
            "180",
            {"units": 1, "unit_seconds": 180, "charge_yen": 8, "tax_category": "standard"},
            id="fixed-exactly-one-unit",
        ),
        pytest.param(
            "0312345678",
            "180.001",
            {"billed_seconds": 181, "units": 2, "charge_yen": 16},
            id="fixed-a-millisecond-over-starts-a-unit",
        ),
        pytest.param(
            "0312345678",
            "0",
            {"billed_seconds": 0, "units": 0, "charge_yen": 0},
            id="fixed-zero-seconds-is-free",
        ),
        pytest.param(
            "09012345678",
            "61",
            {"class": "mobile", "units": 2, "unit_seconds": 60, "charge_yen": 40},
            id="mobile-20-yen-a-minute",
        ),
        pytest.param(
            "0104420712345678",
            "95",
            {"class": "international", "tax_category": "exempt", "tariff": "United Kingdom"},
            id="international-is-tax-exempt",
        ),
        pytest.param(
            "05055500001",
            "3600",
            {"class": "onnet", "charge_yen": 0},
            id="onnet-is-free",
        ),
    ],
)
def test_rate_prices_an_answered_call(number: str, seconds: str, expected: dict[str, Any]) -> None:
    result = run_json("rate", number, seconds, *ON)

    assert {key: result[key] for key in expected} == expected


def test_rate_without_json_prints_the_charge_in_a_table() -> None:
    done = run("rate", "09012345678", "61", *ON)

    assert done.returncode == 0
    assert done.stderr == ""
    fields = dict(line.split(None, 1) for line in done.stdout.splitlines())
    assert fields["charge_yen"] == "40"
    assert fields["class"] == "mobile"


def test_rate_without_a_date_uses_today_and_still_prices_the_call() -> None:
    result = run_json("rate", "0312345678", "180")

    assert result["charge_yen"] == 8


# --- charges ----------------------------------------------------------------------------

WORKED_EXAMPLE = ("charges", "--start", "2003-07-15", "--end", "2003-09-10", "--month", "2003-09")


def test_charges_of_the_termination_month_include_the_early_termination_charge() -> None:
    result = run_json(*WORKED_EXAMPLE)

    amounts = {line["code"]: line["amount_yen"] for line in result["lines"]}
    assert amounts == {"basic_fee": 380, "ta_rental": 480, "early_termination": 2960}
    assert result["month"] == "2003-09"
    assert result["subtotal_yen"] == 3820
    assert result["tax_yen"] == 191
    assert result["total_yen"] == 4011
    assert result["tax_rate"] == "0.05"


def test_waiving_the_early_charge_removes_its_line() -> None:
    result = run_json(*WORKED_EXAMPLE, "--waive-early")

    codes = [line["code"] for line in result["lines"]]
    assert codes == ["basic_fee", "ta_rental"]
    assert result["subtotal_yen"] == 860
    assert result["tax_yen"] == 43
    assert result["total_yen"] == 903


def test_readable_charges_show_each_line_and_the_total_in_yen() -> None:
    done = run(*WORKED_EXAMPLE)

    assert done.returncode == 0
    assert done.stderr == ""
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert "2,960 yen" in lines["early_termination"]
    assert "3,820 yen" in lines["subtotal"]
    assert "191 yen" in lines["consumption"]
    assert "4,011 yen" in lines["total"]
    assert "5%" in done.stdout.splitlines()[0]


# --- demo -------------------------------------------------------------------------------


def test_demo_prints_the_worked_example() -> None:
    done = run("demo")

    assert done.returncode == 0
    assert done.stderr == ""
    assert "SPEC §2 worked example" in done.stdout
    assert (
        "2003-09: basic_fee 380, ta_rental 480, early_termination 2960  → total 4011 yen"
        in done.stdout
    )
    assert "緊急通話はご利用になれません" in done.stdout


# --- bad input --------------------------------------------------------------------------

BROKEN_DATA = "{broken-data-dir}"
"""Replaced by an operator directory whose tariffs.csv has 8.4 yen on line 4."""

BROKEN_TARIFFS = "\n".join(
    [
        "# Broken tariffs: two comment lines,",
        "# then the header.",
        "class,name,unit_seconds,yen_per_unit,valid_from",
        "domestic_fixed,Fixed lines,180,8.4,2003-01-01",
        "",
    ]
)

BAD_INPUT = [
    pytest.param(("rate", "0312345678", "abc"), "'abc' is not a number", id="seconds-not-a-number"),
    pytest.param(("rate", "0312345678", "-5"), "-5", id="seconds-negative"),
    pytest.param(
        ("rate", "0312345678", "--", "-5"), "not a duration", id="seconds-negative-after-dashes"
    ),
    pytest.param(("rate", "0312345678", "NaN"), "not a duration", id="seconds-nan"),
    pytest.param(("rate", "110", "60"), "110 cannot be called", id="rate-not-chargeable"),
    pytest.param(
        ("rate", "0312345678", "60", "--date", "2003-02-30"), "--date", id="date-not-a-day"
    ),
    pytest.param(
        ("charges", "--start", "2003-07-15", "--month", "2003-13"),
        "'2003-13' is not a month",
        id="month-13",
    ),
    pytest.param(("charges", "--month", "2003-09"), "--start", id="start-missing"),
    pytest.param(
        ("charges", "--start", "2003-07-15", "--month", "2003-09", "--suspend", "2003-08-01"),
        "FIRST:LAST",
        id="suspension-without-colon",
    ),
    pytest.param(
        (
            "charges",
            "--start",
            "2003-07-15",
            "--month",
            "2003-09",
            "--suspend",
            "2003-08-01:2004-02-29",
        ),
        "at most 6 months",
        id="suspension-of-7-months",
    ),
    pytest.param(
        ("charges", "--start", "2003-07-15", "--end", "2003-07-01", "--month", "2003-07"),
        "before the start",
        id="end-before-start",
    ),
    pytest.param(("classify",), "NUMBER", id="classify-without-number"),
    pytest.param(("frobnicate",), "frobnicate", id="unknown-subcommand"),
    pytest.param(
        ("--data", "/nonexistent", "classify", "0312345678"),
        "/nonexistent: operator data directory does not exist",
        id="data-dir-missing",
    ),
    pytest.param(
        ("--data", BROKEN_DATA, "classify", "0312345678"),
        "tariffs.csv:4: yen_per_unit must be a whole number, not '8.4'",
        id="data-dir-with-broken-tariffs",
    ),
    pytest.param(
        ("rate", "0312345678", "1e400"),
        "1e400",
        id="seconds-too-large",
    ),
    pytest.param(
        ("charges", "--start", "9999-12-01", "--end", "9999-12-31", "--month", "9999-12"),
        "9999",
        id="minimum-period-past-year-9999",
    ),
]


@pytest.mark.parametrize(("args", "mentions"), BAD_INPUT)
def test_bad_input_gives_one_error_line_on_stderr_nothing_on_stdout_and_exit_code_2(
    tmp_path: Path, args: tuple[str, ...], mentions: str
) -> None:
    (tmp_path / "tariffs.csv").write_text(BROKEN_TARIFFS, encoding="utf-8")
    args = tuple(str(tmp_path) if arg == BROKEN_DATA else arg for arg in args)

    done = run(*args)

    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("denwa: error: ")
    assert mentions in lines[0]


def test_the_operator_directory_can_come_from_denwa_data(tmp_path: Path) -> None:
    (tmp_path / "tariffs.csv").write_text(BROKEN_TARIFFS, encoding="utf-8")
    env = {**os.environ, "DENWA_DATA": str(tmp_path)}

    done = subprocess.run(
        [str(DENWA), "classify", "0312345678"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert f"{tmp_path / 'tariffs.csv'}:4:" in done.stderr
