"""Operator data: shipped defaults, per-file overrides, and errors that name file and line.

README "Operator data": a file of the same name in the operator's directory
replaces the shipped default; every file is validated when loaded, and an
error names the file, the line (comment lines count) and the problem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from denwa.core.errors import OperatorDataError
from denwa.core.numbering import CallClass
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.operator_data.loader import FILES, default_data_dir, load_operator_data
from denwa.core.policy.refusals import RefusalReason
from denwa.core.services import quote_call

pytestmark = pytest.mark.unit

ON = date(2003, 9, 1)


def csv_text(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# A complete tariffs.csv; the comments and the blank line count as lines.
TARIFF_LINES = (
    "# Call tariffs for the tests: two comment lines and a blank line, then the header.",  # 1
    "# Tax-exclusive whole yen per started unit.",  # 2
    "",  # 3
    "class,name,unit_seconds,yen_per_unit,valid_from",  # 4
    "onnet,On net,180,0,2003-01-01",  # 5
    "ip_partner_free,Free partner,180,0,2003-01-01",  # 6
    "ip_partner_paid,Paid partner,180,8,2003-01-01",  # 7
    "# other 050 as paid partners",  # 8
    "ip_other,Other 050,180,8,2003-01-01",  # 9
    "domestic_fixed,Fixed lines,180,8,2003-01-01",  # 10
    "mobile,Mobile,60,20,2003-01-01",  # 11
    "phs,PHS,60,10,2003-01-01",  # 12
)


def tariffs(replace: dict[str, str | None] | None = None, *extra: str) -> str:
    """TARIFF_LINES with the row of a class replaced (or dropped when None), plus extra rows."""
    replace = replace or {}
    lines = []
    for line in TARIFF_LINES:
        klass = line.split(",", 1)[0]
        if klass in replace:
            new = replace[klass]
            if new is not None:
                lines.append(new)
        else:
            lines.append(line)
    return csv_text(*lines, *extra)


def refusals(lines: dict[RefusalReason, str | None] | None = None, *extra: str) -> str:
    """A complete refusals.csv (one comment line, the header, one row per reason in order)."""
    lines = lines or {}
    rows = []
    for reason in RefusalReason:
        row = lines.get(reason, f"{reason.value},403,Refused: {reason.value},おつなぎできません。")
        if row is not None:
            rows.append(row)
    return csv_text(
        "# Refusal wording for the tests.",
        "reason,sip_code,reason_en,announcement_ja",
        *rows,
        *extra,
    )


REASON_COUNT = len(RefusalReason)
LAST_REFUSAL_LINE = 2 + REASON_COUNT


def _load(directory: Path, files: dict[str, str | bytes]) -> OperatorData:
    for name, content in files.items():
        path = directory / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return load_operator_data(directory)


# --- defaults and overrides ---------------------------------------------------------


def test_the_shipped_defaults_load_and_every_file_records_its_source_and_sha256() -> None:
    data = load_operator_data()

    assert set(data.sources) == set(FILES)
    for name, source in data.sources.items():
        origin = Path(source.origin)
        assert source.name == name
        assert origin == default_data_dir() / name
        assert source.sha256 == hashlib.sha256(origin.read_bytes()).hexdigest()


def test_an_empty_operator_directory_gives_exactly_the_shipped_defaults(
    tmp_path: Path, data: OperatorData
) -> None:
    loaded = load_operator_data(tmp_path)

    assert {n: s.sha256 for n, s in loaded.sources.items()} == {
        n: s.sha256 for n, s in data.sources.items()
    }
    assert all(Path(s.origin).parent == default_data_dir() for s in loaded.sources.values())
    assert loaded.ranges == data.ranges
    assert loaded.tariffs == data.tariffs


def test_an_operator_file_replaces_the_default_of_that_name_and_only_that_one(
    tmp_path: Path, data: OperatorData
) -> None:
    text = tariffs({"domestic_fixed": "domestic_fixed,Fixed lines,180,10,2003-01-01"})

    loaded = _load(tmp_path, {"tariffs.csv": text})

    assert quote_call(data, "0312345678", Decimal(180), ON).rated.charge_yen == 8
    assert quote_call(loaded, "0312345678", Decimal(180), ON).rated.charge_yen == 10
    source = loaded.sources["tariffs.csv"]
    assert source.origin == str(tmp_path / "tariffs.csv")
    assert source.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    others = {n: s for n, s in loaded.sources.items() if n != "tariffs.csv"}
    assert all(Path(s.origin).parent == default_data_dir() for s in others.values())


def test_a_byte_order_mark_and_windows_line_ends_are_accepted(tmp_path: Path) -> None:
    text = tariffs({"domestic_fixed": "domestic_fixed,Fixed lines,180,12,2003-01-01"})
    content = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")

    loaded = _load(tmp_path, {"tariffs.csv": content})

    assert loaded.tariffs.for_class(CallClass.DOMESTIC_FIXED, ON).yen_per_unit == 12


# --- refusals -------------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    """An operator directory's files and the error loading them must give."""

    files: dict[str, str | bytes]
    file: str
    line: int | None
    problem: tuple[str, ...]


BROKEN = [
    pytest.param(
        Broken(
            {
                "own_ranges.csv": csv_text(
                    "# Our blocks.",
                    "# Two comment lines.",
                    "prefix,description",
                    "0505550,Demo block",
                    "05O5551,Typo block",
                )
            },
            "own_ranges.csv",
            5,
            ("prefix must be digits only, not '05O5551'",),
        ),
        id="prefix-not-digits",
    ),
    pytest.param(
        Broken(
            {"own_ranges.csv": csv_text("# Ours.", "prefix,description", "0312,Tokyo")},
            "own_ranges.csv",
            3,
            ("prefix 0312 cannot hold onnet numbers",),
        ),
        id="own-range-outside-050",
    ),
    pytest.param(
        Broken(
            {
                "no_agreement.csv": csv_text(
                    "# No agreement.",
                    "# Two comment lines.",
                    "prefix,carrier",
                    "0509990,IP carrier",
                    "01201,Freephone carrier",
                )
            },
            "no_agreement.csv",
            5,
            ("prefix 01201 cannot hold no_agreement numbers",),
        ),
        id="no-agreement-inside-0120",
    ),
    pytest.param(
        Broken(
            {
                "own_ranges.csv": csv_text("# Ours.", "prefix,description", "0505550,Demo"),
                "ip_partners.csv": csv_text(
                    "# Partners.",
                    "prefix,partner,charging",
                    "0505551,Partner A,free",
                    "0505550,Partner clash,paid",
                ),
            },
            "ip_partners.csv",
            4,
            ("prefix 0505550 is already given at", "own_ranges.csv:3"),
        ),
        id="prefix-in-two-files",
    ),
    pytest.param(
        Broken(
            {
                "ip_partners.csv": csv_text(
                    "# Partners.", "prefix,partner,charging", "0505551,Partner A,cheap"
                )
            },
            "ip_partners.csv",
            3,
            ("charging must be free or paid, not 'cheap'",),
        ),
        id="partner-charging-not-free-or-paid",
    ),
    pytest.param(
        Broken(
            {
                "phs_blocks.csv": csv_text(
                    "# PHS blocks.",
                    "prefix,carrier",
                    "07053,docomo_phs",
                    "07055,willcom",
                )
            },
            "phs_blocks.csv",
            4,
            ("unknown PHS carrier 'willcom'",),
        ),
        id="phs-block-unknown-carrier",
    ),
    pytest.param(
        Broken(
            {"tariffs.csv": tariffs({"domestic_fixed": "domestic_fixed,Fixed,180,8.4,2003-01-01"})},
            "tariffs.csv",
            10,
            ("yen_per_unit must be a whole number, not '8.4'",),
        ),
        id="tariff-yen-not-whole",
    ),
    pytest.param(
        Broken(
            {"tariffs.csv": tariffs(None, "international,Abroad,60,100,2003-01-01")},
            "tariffs.csv",
            13,
            ("class international is not priced here",),
        ),
        id="tariff-for-international",
    ),
    pytest.param(
        Broken(
            {"tariffs.csv": tariffs(None, "satellite,Satellite,60,500,2003-01-01")},
            "tariffs.csv",
            13,
            ("class must be one of", "not 'satellite'"),
        ),
        id="tariff-for-unknown-class",
    ),
    pytest.param(
        Broken(
            {"tariffs.csv": tariffs({"phs": None})},
            "tariffs.csv",
            None,
            ("no tariff for phs",),
        ),
        id="tariff-class-missing",
    ),
    pytest.param(
        Broken(
            {"tariffs.csv": tariffs({"class": "class,name,unit_seconds,valid_from"})},
            "tariffs.csv",
            4,
            ("header", "missing column(s) yen_per_unit"),
        ),
        id="header-missing-column",
    ),
    pytest.param(
        Broken(
            {
                "tariffs.csv": tariffs(
                    {"class": "class,name,unit_seconds,yen_per_unit,valid_from,currency"}
                )
            },
            "tariffs.csv",
            4,
            ("header", "unknown column(s) currency"),
        ),
        id="header-unknown-column",
    ),
    pytest.param(
        Broken(
            {"tariffs.csv": tariffs({"mobile": "mobile,Mobile,60,20"})},
            "tariffs.csv",
            11,
            ("expected 5 values", "got 4"),
        ),
        id="row-too-few-values",
    ),
    pytest.param(
        Broken(
            {
                "tax_rates.csv": csv_text(
                    "# Tax.", "valid_from,rate", "1997-04-01,0.05", "2019-10-01,10"
                )
            },
            "tax_rates.csv",
            4,
            ("rate is a fraction (0.10 for 10%), not 10",),
        ),
        id="tax-rate-as-percent",
    ),
    pytest.param(
        Broken(
            {
                "fees.csv": csv_text(
                    "# Fees.",
                    "# Two comment lines.",
                    "fee,amount_yen,valid_from",
                    "initial_registration,1000,2003-01-01",
                    "reactivation,1000,2003-01-01",
                    "basic_fee,380,2003-13-01",
                    "ta_rental,480,2003-01-01",
                    "ta_collection,3000,2003-01-01",
                )
            },
            "fees.csv",
            6,
            ("valid_from must be a date YYYY-MM-DD, not '2003-13-01'",),
        ),
        id="date-month-13",
    ),
    pytest.param(
        Broken(
            {
                "billing_rules.csv": csv_text(
                    "# Rules.",
                    "rule,value",
                    "minimum_period_months,6",
                    "# a comment between rules",
                    "free_calls_forever,yes",
                )
            },
            "billing_rules.csv",
            5,
            ("unknown rule 'free_calls_forever'",),
        ),
        id="unknown-billing-rule",
    ),
    pytest.param(
        Broken(
            {"refusals.csv": refusals(None, "emergency,403,Again,緊急通話はご利用になれません。")},
            "refusals.csv",
            LAST_REFUSAL_LINE + 1,
            ("reason emergency is given twice",),
        ),
        id="refusal-reason-twice",
    ),
    pytest.param(
        Broken(
            {"refusals.csv": refusals({RefusalReason.CALLER_ID_INVALID: None})},
            "refusals.csv",
            None,
            ("no wording for caller_id_invalid",),
        ),
        id="refusal-reason-missing",
    ),
    pytest.param(
        Broken(
            {
                "refusals.csv": refusals(
                    {RefusalReason.EMERGENCY: "emergency,200,OK?,緊急通話はご利用になれません。"}
                )
            },
            "refusals.csv",
            3,
            ("sip_code must be at least 400, not 200",),
        ),
        id="sip-code-200",
    ),
    pytest.param(
        Broken(
            {
                "tariffs.csv": tariffs({"mobile": "mobile,携帯電話,60,20,2003-01-01"}).encode(
                    "cp932"
                )
            },
            "tariffs.csv",
            11,
            ("not UTF-8",),
        ),
        id="not-utf8",
    ),
]


@pytest.mark.parametrize("broken", BROKEN)
def test_a_broken_operator_file_is_refused_naming_the_file_the_line_and_the_problem(
    tmp_path: Path, broken: Broken
) -> None:
    with pytest.raises(OperatorDataError) as raised:
        _load(tmp_path, broken.files)

    error = raised.value
    assert error.source == str(tmp_path / broken.file)
    assert error.line == broken.line
    for fragment in broken.problem:
        assert fragment in error.problem
    where = broken.file if broken.line is None else f"{broken.file}:{broken.line}"
    assert f"{where}: " in str(error)


def test_an_operator_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"

    with pytest.raises(OperatorDataError) as raised:
        load_operator_data(missing)

    assert raised.value.source.endswith("no-such-dir")
    assert raised.value.line is None
    assert "does not exist" in raised.value.problem


def test_the_test_tariffs_file_is_itself_valid(tmp_path: Path) -> None:
    loaded = _load(tmp_path, {"tariffs.csv": tariffs(), "refusals.csv": refusals()})

    assert loaded.tariffs.for_class(CallClass.PHS, ON).yen_per_unit == 10
    assert loaded.refusals[RefusalReason.EMERGENCY].sip_code == 403
