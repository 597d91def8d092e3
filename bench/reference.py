"""The benchmarks' independent reference: statement totals computed by DuckDB alone.

``load`` exports the tables the monthly totals depend on from denwa's database
(contracts, their state history, TA rentals, adjustments, CDRs) to CSV and
loads them into an in-memory DuckDB, together with the operator files the
close used (tariffs, international rates, tax rates, fees, billing rules), read
by DuckDB itself.  ``TOTALS_SQL`` is then ONE query computing every contract's
statement for a month from those tables: fixed charges from the state history
and rentals, call charges re-rated by their answer day, adjustments, tax once
per rate.  It shares no code with denwa: a second reading of SPEC §2–§4.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from denwa.core.operator_data.bundle import OperatorData

EXPORTS: dict[str, tuple[str, tuple[tuple[str, str, bool], ...]]] = {
    "contract": (
        "subscribers_contract",
        (("id", "BIGINT", False), ("start_date", "DATE", True), ("end_date", "DATE", True),
         ("early_charge_waived", "INTEGER", False)),
    ),
    "event": (
        "subscribers_contractevent",
        (("id", "BIGINT", False), ("contract_id", "BIGINT", False), ("to_state", "VARCHAR", False),
         ("effective", "DATE", False)),
    ),
    "rental": (
        "subscribers_rental",
        (("contract_id", "BIGINT", False), ("first_day", "DATE", False),
         ("last_day", "DATE", True), ("collected", "INTEGER", False),
         ("collection_fee_yen", "INTEGER", True)),
    ),
    "adjustment": (
        "billing_adjustment",
        (("contract_id", "BIGINT", False), ("amount_yen", "BIGINT", False),
         ("tax_exempt", "INTEGER", False), ("effective", "DATE", False),
         ("billed_month", "VARCHAR", False)),
    ),
    "cdr": (
        # billed_month: '' for a call no closed month carries yet (exported before the close)
        "(SELECT c.*, CASE WHEN EXISTS (SELECT 1 FROM billing_monthclose m"
        " WHERE m.month >= c.billing_month AND m.max_cdr_id >= c.id)"
        " THEN 'billed' ELSE '' END AS billed_month FROM calls_cdr c) cdr_billed",
        (("id", "BIGINT", False), ("contract_id", "BIGINT", True), ("direction", "VARCHAR", False),
         ("call_class", "VARCHAR", False), ("tariff_key", "VARCHAR", False),
         ("answered_at", "TIMESTAMP", True), ("billed_seconds", "BIGINT", False),
         ("charge_yen", "BIGINT", False), ("billing_month", "VARCHAR", False),
         ("billed_month", "VARCHAR", False)),
    ),
}  # fmt: skip
"""DuckDB table → (denwa's table, its columns: name, DuckDB type, nullable)."""

OPERATOR_FILES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "tariffs_file": (
        "tariffs.csv",
        (("class", "VARCHAR"), ("name", "VARCHAR"), ("unit_seconds", "INTEGER"),
         ("yen_per_unit", "INTEGER"), ("valid_from", "DATE")),
    ),
    "intl_file": (
        "international.csv",
        (("prefix", "VARCHAR"), ("destination", "VARCHAR"), ("unit_seconds", "INTEGER"),
         ("yen_per_unit", "INTEGER"), ("valid_from", "DATE")),
    ),
    "tax_file": ("tax_rates.csv", (("valid_from", "DATE"), ("rate", "DECIMAL(5,4)"))),
    "fee_file": (
        "fees.csv", (("fee", "VARCHAR"), ("amount_yen", "BIGINT"), ("valid_from", "DATE"))
    ),
    "rule_file": ("billing_rules.csv", (("rule", "VARCHAR"), ("value", "VARCHAR"))),
}  # fmt: skip
"""DuckDB table → (operator file, its columns): DuckDB reads the files the close used."""

RERATED_CALLS = """
tariff AS (  -- every tariff row by the key a CDR keeps: the class, or intl:<prefix>
    SELECT tkey, unit_seconds, yen_per_unit, valid_from,
           coalesce(lead(valid_from) OVER (PARTITION BY tkey ORDER BY valid_from),
                    DATE '9999-12-31') AS valid_to
    FROM (SELECT class AS tkey, unit_seconds, yen_per_unit, valid_from FROM tariffs_file
          UNION ALL
          SELECT 'intl:' || prefix, unit_seconds, yen_per_unit, valid_from FROM intl_file)
),
rerated AS (  -- unbilled answered outbound calls up to the month, priced by their answer day
    SELECT c.contract_id, c.call_class, c.answer_day,
           coalesce((c.billed_seconds + t.unit_seconds - 1) // t.unit_seconds * t.yen_per_unit,
                    c.charge_yen) AS amount
    FROM (
        SELECT *, CAST(answered_at + INTERVAL 9 HOUR AS DATE) AS answer_day  -- Asia/Tokyo, UTC+9
        FROM cdr
        WHERE billed_month = '' AND billing_month <= $month AND direction = 'out'
          AND answered_at IS NOT NULL AND contract_id IS NOT NULL
    ) c
    LEFT JOIN tariff t
      ON t.tkey = c.tariff_key AND c.answer_day >= t.valid_from AND c.answer_day < t.valid_to
)"""

TOTALS_SQL = (
    "WITH"
    + RERATED_CALLS
    + """,
rule AS (
    SELECT
        CAST(coalesce(max(value) FILTER (WHERE rule = 'minimum_period_months'), '6') AS INTEGER)
            AS min_months,
        lower(coalesce(max(value) FILTER (WHERE rule = 'early_termination_charge'), 'yes'))
            IN ('yes', 'true', '1') AS early_on,
        lower(coalesce(max(value) FILTER (WHERE rule = 'basic_fee_in_full_suspension_months'),
            'no')) IN ('yes', 'true', '1') AS basic_in_suspension,
        lower(coalesce(max(value) FILTER (WHERE rule = 'rental_in_start_month'), 'yes'))
            IN ('yes', 'true', '1') AS rental_in_start,
        coalesce(max(value) FILTER (WHERE rule = 'tax_rounding'), 'down') AS rounding
    FROM rule_file
),
fee AS (  -- each fee's amount over [valid_from, valid_to)
    SELECT fee, amount_yen, valid_from,
           coalesce(lead(valid_from) OVER (PARTITION BY fee ORDER BY valid_from),
                    DATE '9999-12-31') AS valid_to
    FROM fee_file
),
tax AS (
    SELECT rate, valid_from,
           coalesce(lead(valid_from) OVER (ORDER BY valid_from), DATE '9999-12-31') AS valid_to
    FROM tax_file
),
calls AS (  -- per contract, tax category and answer day (the day gives the tax rate)
    SELECT contract_id,
           CASE WHEN call_class = 'international' THEN 'exempt' ELSE 'standard' END AS category,
           answer_day, sum(amount) AS amount
    FROM rerated
    GROUP BY ALL
),
adjustments AS (
    SELECT contract_id, CASE WHEN tax_exempt = 1 THEN 'exempt' ELSE 'standard' END AS category,
           effective AS tax_day, amount_yen AS amount
    FROM adjustment
    WHERE billed_month = '' AND effective <= $last
),
included AS (  -- in service during the month, or carrying late calls or adjustments
    SELECT id AS contract_id, early_charge_waived = 1 AS waived
    FROM contract
    WHERE start_date IS NOT NULL
      AND ((start_date <= $last AND (end_date IS NULL OR end_date >= $first))
           OR id IN (SELECT contract_id FROM calls)
           OR id IN (SELECT contract_id FROM adjustments))
),
history AS (
    SELECT contract_id, to_state, effective,
           lead(effective) OVER (PARTITION BY contract_id ORDER BY effective, id) AS next_change
    FROM event
    WHERE contract_id IN (SELECT contract_id FROM included)
),
periods AS (  -- suspensions and stops: first day, last day (NULL while running)
    SELECT contract_id, to_state AS kind, effective AS first_day,
           next_change - 1 AS last_day, next_change
    FROM history
    WHERE to_state IN ('suspended', 'stopped')
),
terms AS (  -- contracts in service at some time in the month, with their start and end
    SELECT i.contract_id, h.start_day, h.end_day,
           CAST(date_trunc('month', h.start_day) AS DATE) AS start_month,
           CAST(date_trunc('month', h.end_day) AS DATE) AS end_month,
           h.end_day IS NOT NULL
               AND CAST(date_trunc('month', h.end_day) AS DATE) = $first
               AND h.end_day < CAST(h.start_day + to_months(r.min_months) AS DATE)
               AND r.early_on AND NOT i.waived AS early
    FROM included i
    JOIN (SELECT contract_id,
                 min(effective) FILTER (WHERE to_state = 'active') AS start_day,
                 max(effective) FILTER (WHERE to_state = 'terminated') AS end_day
          FROM history GROUP BY contract_id) h USING (contract_id)
    CROSS JOIN rule r
    WHERE h.start_day IS NOT NULL
      AND CAST(date_trunc('month', h.start_day) AS DATE) <= $first
      AND (h.end_day IS NULL OR CAST(date_trunc('month', h.end_day) AS DATE) >= $first)
),
months AS (  -- the month itself; every month of the contract for an early termination
    SELECT contract_id, start_month, end_month, mf,
           CAST(mf + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS ml
    FROM (
        SELECT t.*, CAST(unnest(generate_series(
                   CAST(CASE WHEN early THEN start_month ELSE $first END AS TIMESTAMP),
                   CAST($first AS TIMESTAMP), INTERVAL 1 MONTH)) AS DATE) AS mf
        FROM terms t
    )
),
due AS (  -- 基本料 and 機器レンタル料 due per contract and month
    SELECT m.contract_id, m.mf,
           m.mf <> m.start_month AND (
               m.mf = m.end_month OR r.basic_in_suspension OR NOT EXISTS (
                   SELECT 1 FROM periods p
                   WHERE p.contract_id = m.contract_id AND p.kind = 'suspended'
                     AND p.first_day <= m.mf AND (p.last_day IS NULL OR p.last_day >= m.ml)))
               AS basic_due,
           (m.mf <> m.start_month OR r.rental_in_start) AND EXISTS (
               SELECT 1 FROM rental x
               WHERE x.contract_id = m.contract_id AND x.first_day <= m.ml
                 AND (x.last_day IS NULL OR x.last_day >= m.mf)) AS rental_due
    FROM months m CROSS JOIN rule r
),
fixed AS (
    SELECT t.contract_id, 'standard' AS category, t.start_day AS tax_day,  -- 初期登録料
           (SELECT amount_yen FROM fee WHERE fee = 'initial_registration'
              AND t.start_day >= valid_from AND t.start_day < valid_to) AS amount
    FROM terms t WHERE t.start_month = $first
    UNION ALL
    SELECT p.contract_id, 'standard', p.next_change,  -- 再開登録料: back the day after a period
           (SELECT amount_yen FROM fee WHERE fee = 'reactivation'
              AND p.next_change >= valid_from AND p.next_change < valid_to)
    FROM periods p JOIN terms t USING (contract_id)
    WHERE CAST(date_trunc('month', p.next_change) AS DATE) = $first
      AND (t.end_day IS NULL OR p.next_change < t.end_day)
    UNION ALL
    SELECT d.contract_id, 'standard', $first,  -- 基本料
           (SELECT amount_yen FROM fee WHERE fee = 'basic_fee'
              AND $first >= valid_from AND $first < valid_to)
    FROM due d WHERE d.mf = $first AND d.basic_due
    UNION ALL
    SELECT d.contract_id, 'standard', $first,  -- 機器レンタル料
           (SELECT amount_yen FROM fee WHERE fee = 'ta_rental'
              AND $first >= valid_from AND $first < valid_to)
    FROM due d WHERE d.mf = $first AND d.rental_due
    UNION ALL
    SELECT contract_id, 'standard', $first, amount FROM (  -- the minimum period's missing months
        SELECT d.contract_id,
               greatest(any_value(r.min_months) - count(*) FILTER (WHERE d.basic_due), 0)
                 * (SELECT amount_yen FROM fee WHERE fee = 'basic_fee'
                      AND $first >= valid_from AND $first < valid_to)
               + CASE WHEN d.contract_id IN (SELECT contract_id FROM rental)
                      THEN greatest(any_value(r.min_months)
                                    - count(*) FILTER (WHERE d.rental_due), 0)
                      ELSE 0 END
                 * (SELECT amount_yen FROM fee WHERE fee = 'ta_rental'
                      AND $first >= valid_from AND $first < valid_to) AS amount
        FROM due d JOIN terms t USING (contract_id) CROSS JOIN rule r
        WHERE t.early
        GROUP BY d.contract_id
    ) WHERE amount <> 0
    UNION ALL
    SELECT x.contract_id, 'standard', x.last_day,  -- 機器回収手数料
           coalesce(x.collection_fee_yen,
                    (SELECT amount_yen FROM fee WHERE fee = 'ta_collection'
                       AND x.last_day >= valid_from AND x.last_day < valid_to))
    FROM rental x JOIN terms t USING (contract_id)
    WHERE x.collected = 1 AND x.last_day IS NOT NULL
      AND CAST(date_trunc('month', x.last_day) AS DATE) = $first
),
lines AS (
    SELECT contract_id, category, tax_day, amount FROM fixed
    UNION ALL
    SELECT c.contract_id, c.category, c.answer_day, c.amount
    FROM calls c JOIN included USING (contract_id)
    UNION ALL
    SELECT a.contract_id, a.category, a.tax_day, a.amount
    FROM adjustments a JOIN included USING (contract_id)
),
groups AS (  -- tax once per rate per statement
    SELECT contract_id, category, rate, subtotal,
           CASE WHEN rate IS NULL THEN 0
                WHEN (SELECT rounding FROM rule) = 'up'
                    THEN CAST(sign(subtotal * rate) * ceil(abs(subtotal * rate)) AS BIGINT)
                WHEN (SELECT rounding FROM rule) = 'half_up'
                    THEN CAST(round(subtotal * rate) AS BIGINT)
                ELSE CAST(trunc(subtotal * rate) AS BIGINT) END AS tax
    FROM (
        SELECT l.contract_id, l.category, x.rate, sum(l.amount) AS subtotal
        FROM lines l
        LEFT JOIN tax x ON l.category = 'standard'
             AND l.tax_day >= x.valid_from AND l.tax_day < x.valid_to
        GROUP BY ALL
    )
)
SELECT contract_id, sum(subtotal) AS subtotal, sum(tax) AS tax, sum(subtotal) + sum(tax) AS total,
       list({'category': category, 'rate': rate, 'subtotal': subtotal, 'tax': tax}
            ORDER BY category, rate) AS per_rate
FROM groups
GROUP BY contract_id
"""
)
"""Every contract's statement for a month: ($month 'YYYY-MM', $first, $last its days)."""

BILLED_CALLS_SQL = (
    "WITH" + RERATED_CALLS + "\nSELECT count(*), coalesce(sum(amount), 0) FROM rerated"
)
"""How many CDRs the close should mark billed, and their re-rated charges (check only)."""


def load(directory: Path, data: OperatorData) -> Any:
    """Export the tables the totals depend on, load them and the operator files into DuckDB.

    SQLite is read through a plain ``sqlite3`` connection (no Django type
    converters) into the csv module; PostgreSQL with ``COPY … TO STDOUT``.
    NULL is ``\\N``.  Returns the DuckDB connection.
    """
    import duckdb
    from django.db import connection

    directory.mkdir(parents=True, exist_ok=True)
    duck = duckdb.connect()
    postgres = connection.vendor == "postgresql"
    plain = None if postgres else sqlite3.connect(connection.settings_dict["NAME"])
    try:
        for table, (source, columns) in EXPORTS.items():
            path = directory / f"{table}.csv"
            if postgres:
                _copy_out(source, columns, path)
            else:
                assert plain is not None
                select = ", ".join(
                    f"IFNULL({name}, '\\N')" if nullable else name for name, _, nullable in columns
                )
                with open(path, "w", newline="", encoding="utf-8") as out:
                    csv.writer(out).writerows(plain.execute(f"SELECT {select} FROM {source}"))
            duck.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, header = false,"
                f" nullstr = '\\N', columns = {_struct((n, k) for n, k, _ in columns)})",
                [str(path)],
            )
    finally:
        if plain is not None:
            plain.close()
    for table, (name, file_columns) in OPERATOR_FILES.items():
        text = Path(data.sources[name].origin).read_text(encoding="utf-8-sig")
        clean = directory / name  # the file the close used, without its comment lines
        clean.write_text(
            "".join(
                line
                for line in text.splitlines(keepends=True)
                if line.strip() and not line.lstrip().startswith("#")
            ),
            encoding="utf-8",
        )
        duck.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, header = true, delim = ',',"
            f" quote = '\"', columns = {_struct(file_columns)})",
            [str(clean)],
        )
    return duck


def _copy_out(source: str, columns: tuple[tuple[str, str, bool], ...], path: Path) -> None:
    from django.db import connection

    def column(name: str, kind: str) -> str:
        if kind == "INTEGER" and name in ("early_charge_waived", "collected", "tax_exempt"):
            return f"{name}::int"
        if kind == "TIMESTAMP":
            return f"({name} AT TIME ZONE 'UTC') AS {name}"
        return name

    select = ", ".join(column(name, kind) for name, kind, _ in columns)
    sql = f"COPY (SELECT {select} FROM {source}) TO STDOUT WITH (FORMAT csv, NULL '\\N')"
    with connection.cursor() as cursor, open(path, "wb") as out:
        raw = cursor.connection.cursor()
        with raw.copy(sql) as copy:
            for block in copy:
                out.write(block)


def _struct(columns: Iterable[tuple[str, str]]) -> str:
    """A read_csv ``columns`` struct literal."""
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns) + "}"
