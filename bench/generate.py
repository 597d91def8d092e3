"""A synthetic operator database for the benchmarks (``bench/close_month``, ``bench/portal``).

It writes, into the database Django is configured for (SQLite or PostgreSQL):

- ISP accounts and phone contracts started at various dates before the month,
  some suspended, stopped, resumed or terminated in it or before, each with a
  ``ContractEvent`` history that follows the core's transition table, the
  ``Suspension`` rows of its suspensions, and a TA rental (a few swap TAs,
  return them, or have them collected for a fee);
- a few adjustments (credits and charges, some tax-exempt, some from the month
  before, some already billed);
- the month's call attempts as ``denwa.calls.services.build_cdr`` stores them:
  mostly answered outbound calls of a realistic class mix, rated with the
  operator data's tariffs through the core, plus unanswered, refused and
  inbound attempts; and, if asked, unbilled CDRs of the month before (late
  lines) and already billed ones (which the close must ignore).

Everything is set-based: rows are built as tuples in batches and written with
``executemany`` (SQLite) or ``COPY`` (PostgreSQL); no ORM object per row and
never all rows in memory.  The same seed gives the same database.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from denwa.core.numbering import CallClass
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.operator_data.loader import default_data_dir, load_operator_data
from denwa.core.rating.calls import price
from denwa.core.rating.tariffs import Tariff
from denwa.core.timeutil import TOKYO, Month, add_months

BENCH_BLOCK = "05056"
"""Our own 050 block for the generated contracts (a million numbers), added to own_ranges.csv."""

ISP_REASON = "ISP contract cancelled (KCT-Net cancelled): automatic termination"
CDR_COLUMNS = (
    "cdr_id",
    "contract_id",
    "direction",
    "caller",
    "dialled",
    "callee",
    "call_class",
    "started_at",
    "answered_at",
    "ended_at",
    "disposition",
    "sip_code",
    "billed_seconds",
    "tariff_key",
    "unit_seconds",
    "yen_per_unit",
    "units",
    "charge_yen",
    "tax_exempt",
    "billing_month",
    "imported_at",
)


# --------------------------------------------------------------------------- setup


def write_data_dir(directory: Path) -> Path:
    """An operator data directory: the shipped defaults plus a bench block in own_ranges.csv."""
    directory.mkdir(parents=True, exist_ok=True)
    shipped = (default_data_dir() / "own_ranges.csv").read_text(encoding="utf-8")
    (directory / "own_ranges.csv").write_text(
        shipped.rstrip("\n") + f"\n{BENCH_BLOCK},KCT-Net IP phone (benchmark block)\n",
        encoding="utf-8",
    )
    return directory


def configure(home: Path, db: str, drop_existing: bool = False) -> OperatorData:
    """Point denwa at ``home`` (and PostgreSQL when ``db`` says so), set Django up, migrate.

    A PostgreSQL database must be empty, or ``drop_existing`` must allow dropping its
    public schema.  Returns the operator data (the defaults plus the bench block).
    """
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DENWA_HOME"] = str(home)
    os.environ["DENWA_DATA"] = str(write_data_dir(home / "data"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "denwa.web.settings.base"  # DEBUG off
    if db == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    elif not os.environ.get("DATABASE_URL"):
        raise SystemExit("--db postgres needs DATABASE_URL in the environment")
    from denwa.web.bootstrap import setup_django

    setup_django()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        _empty_postgres(drop_existing)
    call_command("migrate", interactive=False, verbosity=0)
    return load_operator_data(os.environ["DENWA_DATA"])


def _empty_postgres(drop_existing: bool) -> None:
    """A fresh database on PostgreSQL: refuse one with tables, unless told to drop them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        (tables,) = cursor.fetchone()
        if tables and not drop_existing:
            name = connection.settings_dict["NAME"]
            raise SystemExit(
                f"database {name} has {tables} tables: the benchmark needs an empty one"
                " (--drop-existing drops its public schema)"
            )
        if tables:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")


# --------------------------------------------------------------------------- writing


class Writer:
    """Writes tuples into a table in big batches: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self) -> None:
        from django.db import connection

        connection.ensure_connection()
        self.connection = connection
        self.vendor = connection.vendor
        self.raw = connection.connection
        self.tz_suffix = "+00" if self.vendor == "postgresql" else ""

    def rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert ``rows`` (tuples in ``columns`` order); returns how many."""
        count = 0
        names = ", ".join(columns)
        if self.vendor == "postgresql":
            with (
                self.raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
        iterator = iter(rows)
        while batch := list(itertools.islice(iterator, 50_000)):
            self.raw.executemany(sql, batch)
            count += len(batch)
        return count

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []

    def stamp(self, moment: datetime) -> str:
        """A datetime column value as Django stores it (UTC)."""
        utc = moment.astimezone(UTC).replace(tzinfo=None)
        return utc.isoformat(sep=" ") + self.tz_suffix

    def cdr_index_ddl(self) -> list[tuple[str, str]]:
        """(name, CREATE statement) of calls_cdr's secondary indexes (not its constraints)."""
        if self.vendor == "postgresql":
            return [
                (name, ddl)
                for name, ddl in self.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'calls_cdr'"
                    " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
                )
            ]
        return [
            (name, ddl)
            for name, ddl in self.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'calls_cdr' AND sql IS NOT NULL"
            )
        ]


# --------------------------------------------------------------------------- contracts


@dataclass
class Plan:
    """One generated contract: its final state, history, TAs and when it could call."""

    id: int
    number: str
    scenario: str
    start: date | None = None
    end: date | None = None
    state: str = "applied"
    events: list[tuple[str, str, str, date, str, str]] = field(default_factory=list)
    suspensions: list[tuple[date, date, str, date | None]] = field(default_factory=list)
    rentals: list[tuple[date, date | None, bool, int | None]] = field(default_factory=list)
    waived: bool = False
    waiver_reason: str = ""
    isp_status: str = "active"
    barred: bool = False
    activity: float = 1.0

    def move(self, event: str, target: str, day: date, reason: str, actor: str) -> None:
        """Record a state change as ``subscribers.services._move`` does."""
        if self.events and day < self.events[-1][3]:
            raise ValueError(f"{self.number}: {day} before {self.events[-1][3]}")
        self.events.append((event, self.state, target, day, reason, actor))
        self.state = target
        if target == "active" and self.start is None:
            self.start = day
        if target == "terminated":
            self.end = day

    def active_days(self, first: date, after_last: date) -> list[tuple[date, date]]:
        """Half-open day ranges inside [first, after_last) in which the line could call."""
        spans = []
        for index, (_, _, target, day, _, _) in enumerate(self.events):
            if target != "active":
                continue
            until = self.events[index + 1][3] if index + 1 < len(self.events) else after_last
            low, high = max(day, first), min(until, after_last)
            if low < high:
                spans.append((low, high))
        return spans


SCENARIOS: tuple[tuple[str, int], ...] = (
    ("active_old", 840),  # in service for six months or more
    ("active_recent", 50),  # started in the five months before: inside the minimum period
    ("active_new", 25),  # started in the month (初期登録料, no 基本料)
    ("suspended_full", 10),  # suspended from before the month to after it: no 基本料
    ("suspended_in", 6),  # suspended during the month
    ("resumed_in", 6),  # suspended before, resumed in the month (再開登録料)
    ("suspended_past", 10),  # suspended and resumed before the month
    ("stopped_in", 3),  # stopped (提供停止) during the month
    ("stop_resumed_in", 2),  # stopped before, resumed in the month
    ("suspended_stopped_in", 1),  # suspended before, stopped in the month
    ("terminated_in", 25),  # terminated in the month (some early, some waived, some by the ISP)
    ("terminated_prev", 10),  # terminated the month before (late CDRs only)
    ("terminated_old", 10),  # terminated long ago
    ("applied", 2),  # applied, never activated
)
SUSPEND_REASONS = ("長期出張のため", "海外赴任", "入院のため", "転居準備", "本人申出")
STOP_REASONS = ("料金未納", "不正利用の疑い", "利用規約違反")
ADJUST_REASONS = ("通話品質不良による減額", "二重請求の返金", "機器交換手数料", "お詫び")


class ContractGenerator:
    """Contract histories around ``month`` that the core's lifecycle accepts."""

    def __init__(self, month: Month, data: OperatorData, rng: random.Random) -> None:
        self.month = month
        self.prev = month.previous()
        self.data = data
        self.rng = rng
        self.first, self.last = month.first_day, month.last_day

    def _day(self, low: date, high: date) -> date:
        """A day in [low, high] (inclusive)."""
        return low + timedelta(days=self.rng.randrange((high - low).days + 1))

    def _start(self, kind: str) -> date:
        if kind == "new":
            return self._day(self.first, self.last - timedelta(days=2))
        if kind == "recent":
            return self._day(add_months(self.first, -5), self.first - timedelta(days=1))
        return self._day(add_months(self.first, -72), add_months(self.first, -6))

    def plan(self, index: int) -> Plan:
        rng = self.rng
        scenario = rng.choices(
            [s for s, _ in SCENARIOS],
            cum_weights=list(itertools.accumulate(w for _, w in SCENARIOS)),
        )[0]
        p = Plan(id=index + 1, number=f"{BENCH_BLOCK}{index:06d}", scenario=scenario)
        p.barred = rng.random() < 0.08
        p.activity = rng.lognormvariate(0, 1.0)
        operator = f"operator:staff{rng.randrange(1, 9)}"
        if scenario == "applied":
            return p
        kind = {"active_recent": "recent", "active_new": "new"}.get(scenario, "old")
        if scenario == "terminated_in":
            kind = rng.choices(["new", "recent", "old"], weights=[10, 30, 60])[0]
        p.move("activate", "active", self._start(kind), "service start", operator)
        start = p.start
        assert start is not None
        first, last = self.first, self.last
        if scenario == "suspended_full":
            day = self._day(max(start + timedelta(days=1), first - timedelta(days=120)), first)
            self._suspend(p, day, until=last, operator=operator)
        elif scenario == "suspended_in":
            self._suspend(p, self._day(max(start, first), last), operator=operator)
        elif scenario == "resumed_in":
            day = self._day(
                max(start + timedelta(days=1), first - timedelta(days=120)),
                last - timedelta(days=1),
            )
            self._suspend(p, day, operator=operator)
            self._resume(p, self._day(max(day + timedelta(days=1), first), last), operator)
        elif scenario == "suspended_past":
            low = max(start + timedelta(days=1), first - timedelta(days=400))
            if low < first - timedelta(days=10):
                day = self._day(low, first - timedelta(days=10))
                self._suspend(p, day, operator=operator)
                back = min(first - timedelta(days=1), add_months(day, 5))
                self._resume(p, self._day(day + timedelta(days=1), back), operator)
        elif scenario == "stopped_in":
            p.move(
                "stop",
                "stopped",
                self._day(max(start, first), last),
                rng.choice(STOP_REASONS),
                operator,
            )
        elif scenario == "stop_resumed_in":
            day = self._day(max(start + timedelta(days=1), first - timedelta(days=60)), first)
            p.move("stop", "stopped", day, rng.choice(STOP_REASONS), operator)
            self._resume(p, self._day(max(day + timedelta(days=1), first), last), operator)
        elif scenario == "suspended_stopped_in":
            day = self._day(max(start + timedelta(days=1), first - timedelta(days=100)), first)
            self._suspend(p, day, until=last, operator=operator)
            stop = self._day(max(day + timedelta(days=1), first), last)
            p.move("stop", "stopped", stop, rng.choice(STOP_REASONS), operator)
        elif scenario == "terminated_in":
            self._terminate(p, max(start, first), last, operator)
        elif scenario == "terminated_prev":
            prev_first = self.prev.first_day
            self._terminate(p, max(start, prev_first), self.prev.last_day, operator)
        elif scenario == "terminated_old":
            limit = self.prev.first_day - timedelta(days=1)
            self._terminate(p, min(start + timedelta(days=30), limit), limit, operator)
        self._rentals(p)
        return p

    def _suspend(self, p: Plan, day: date, operator: str, until: date | None = None) -> None:
        limit = add_months(day, self.data.rules.max_suspension_months) - timedelta(days=1)
        wanted = day + timedelta(days=self.rng.randrange(14, 170))
        last = max(min(wanted, limit), until or day)
        reason = self.rng.choice(SUSPEND_REASONS)
        p.move("suspend", "suspended", day, reason, operator)
        p.suspensions.append((day, min(last, limit), reason, None))

    def _resume(self, p: Plan, day: date, operator: str) -> None:
        p.move("resume", "active", day, "resumed", operator)
        p.suspensions = [
            (f, la, r, day if resumed is None else resumed) for f, la, r, resumed in p.suspensions
        ]

    def _terminate(self, p: Plan, low: date, high: date, operator: str) -> None:
        rng = self.rng
        if low > high:
            low = high
        end = self._day(low, high)
        since = max(p.events[-1][3] + timedelta(days=1), end - timedelta(days=150))
        if end > since and rng.random() < 0.2:  # terminated while suspended
            self._suspend(p, self._day(since, end - timedelta(days=1)), operator)
        if rng.random() < 0.2:
            p.isp_status = rng.choice(["cancelled", "suspended"])
            p.move(
                "terminate", "terminated", end, ISP_REASON.replace("cancelled", p.isp_status), "isp"
            )
            return
        early = end < add_months(p.start or end, self.data.rules.minimum_period_months)
        if early and rng.random() < 0.3:
            p.waived = True
            p.waiver_reason = rng.choice(
                ["転居先がサービス提供エリア外", "お客様の逝去", "当社都合"]
            )
            p.move("terminate", "terminated", end, p.waiver_reason, operator)
        else:
            p.move("terminate", "terminated", end, "terminated", operator)

    def _rentals(self, p: Plan) -> None:
        rng = self.rng
        start = p.start
        assert start is not None
        last_known = p.end or self.last
        roll = rng.random()
        if roll < 0.01 and last_known > start + timedelta(days=2):
            swap = self._day(start, last_known - timedelta(days=1))
            p.rentals.append((start, swap, False, None))
            p.rentals.append((swap + timedelta(days=1), p.end, False, None))
        elif roll < 0.015 and p.end is None and start < self.first - timedelta(days=40):
            p.rentals.append(
                (start, self._day(start, self.first - timedelta(days=31)), False, None)
            )
        else:
            p.rentals.append((start, p.end, False, None))
        if p.end is not None and rng.random() < 0.3:  # the ISP collected the TA
            first_day, _, _, _ = p.rentals[-1]
            fee = None if rng.random() < 0.7 else rng.choice([2000, 2500])
            p.rentals[-1] = (first_day, p.end, True, fee)


def generate_contracts(
    writer: Writer, month: Month, data: OperatorData, count: int, rng: random.Random
) -> list[Plan]:
    """ISP accounts, contracts, events, suspensions, TAs and rentals; returns the plans."""
    gen = ContractGenerator(month, data, rng)
    plans = [gen.plan(i) for i in range(count)]
    now = writer.stamp(month.end() + timedelta(hours=1))
    stamp = writer.stamp
    writer.rows(
        "subscribers_ispaccount",
        ("id", "account_id", "name", "name_kana", "status", "status_changed_at"),
        (
            (
                p.id,
                f"kct{p.id:07d}",
                f"契約者 {p.id}",
                f"ケイヤクシャ {p.id}",
                p.isp_status,
                None if p.isp_status == "active" else stamp(_tokyo(p.end or month.first_day)),
            )
            for p in plans
        ),
    )
    writer.rows(
        "subscribers_contract",
        (
            "id", "number", "isp_account_id", "state", "applied_on", "start_date", "end_date",
            "sip_realm", "sip_ha1", "international_barred", "daily_spend_cap_yen",
            "early_charge_waived", "waiver_reason", "created_at", "updated_at",
        ),
        (
            (
                p.id,
                p.number,
                p.id,
                p.state,
                str(p.start or month.first_day),
                _day(p.start),
                _day(p.end),
                "denwa.local",
                hashlib.md5(f"{p.number}:denwa.local:pw{p.id}".encode()).hexdigest(),
                p.barred,
                None if p.barred or p.id % 5 else 3000,
                p.waived,
                p.waiver_reason,
                stamp(_tokyo(p.start or month.first_day)),
                now,
            )
            for p in plans
        ),
    )  # fmt: skip
    writer.rows(
        "subscribers_contractevent",
        (
            "contract_id",
            "event",
            "from_state",
            "to_state",
            "effective",
            "reason",
            "actor",
            "created_at",
        ),
        (
            (p.id, event, source, target, str(day), reason, actor, stamp(_tokyo(day)))
            for p in plans
            for event, source, target, day, reason, actor in p.events
        ),
    )
    writer.rows(
        "subscribers_suspension",
        (
            "contract_id",
            "first_day",
            "last_day",
            "reason",
            "approved_by",
            "approved_at",
            "resumed_on",
        ),
        (
            (
                p.id,
                str(first),
                str(last),
                reason,
                "operator:staff1",
                stamp(_tokyo(first)),
                _day(resumed),
            )
            for p in plans
            for first, last, reason, resumed in p.suspensions
        ),
    )
    rentals = [(p, r) for p in plans for r in p.rentals]
    writer.rows(
        "subscribers_terminaladapter",
        ("id", "model", "serial", "mac", "ports", "provisioned_port", "status"),
        (
            (
                n,
                "KCT-TA200" if n % 3 else "KCT-TA300",
                f"TA{n:09d}",
                "02:" + ":".join(f"{(n >> shift) & 255:02x}" for shift in (32, 24, 16, 8, 0)),
                2,
                1,
                "rented" if last is None else "in_stock",
            )
            for n, (_, (_, last, _, _)) in enumerate(rentals, start=1)
        ),
    )
    writer.rows(
        "subscribers_rental",
        ("ta_id", "contract_id", "first_day", "last_day", "collected", "collection_fee_yen"),
        (
            (n, p.id, str(first), _day(last), collected, fee)
            for n, (p, (first, last, collected, fee)) in enumerate(rentals, start=1)
        ),
    )
    _adjustments(writer, month, plans, rng)
    return plans


def _adjustments(writer: Writer, month: Month, plans: list[Plan], rng: random.Random) -> None:
    rows = []
    prev = month.previous()
    for p in plans:
        if p.start is None or rng.random() >= 0.006:
            continue
        in_month = p.end is None or p.end >= month.first_day
        when = prev if not in_month or rng.random() < 0.15 else month
        billed = str(prev) if when == prev and rng.random() < 0.3 else ""
        effective = when.first_day + timedelta(days=rng.randrange(when.last_day.day))
        amount = rng.choice([-3000, -1000, -500, -380, -1, 1, 100, 500, 1200, 3000])
        rows.append(
            (
                p.id,
                amount,
                rng.random() < 0.2,
                rng.choice(ADJUST_REASONS),
                str(effective),
                "operator:staff2",
                writer.stamp(_tokyo(effective)),
                billed,
            )
        )
    writer.rows(
        "billing_adjustment",
        (
            "contract_id",
            "amount_yen",
            "tax_exempt",
            "reason",
            "effective",
            "created_by",
            "created_at",
            "billed_month",
        ),
        rows,
    )


# --------------------------------------------------------------------------- CDRs


@dataclass(frozen=True)
class Destination:
    """Numbers to call in one class (and, abroad, one tariff prefix)."""

    call_class: CallClass
    numbers: tuple[str, ...]
    mean_seconds: float


INTERNATIONAL = (  # (dial prefix after 010, digits after it, weight)
    ("1212", 7, 18),
    ("1415", 7, 12),
    ("1808", 7, 4),
    ("8610", 8, 20),
    ("822", 8, 15),
    ("4420", 8, 7),
    ("447", 9, 5),
    ("632", 8, 8),
    ("4930", 8, 4),
    ("331", 8, 2),
    ("5511", 9, 2),
    ("6621", 7, 2),
    ("8862", 8, 1),
)
ANSWERED_MIX = (  # share of all attempts, percent
    ("domestic_fixed", 45.0),
    ("mobile", 25.0),
    ("onnet", 15.0),
    ("ip_partner_free", 2.0),
    ("ip_partner_paid", 1.5),
    ("ip_other", 1.5),
    ("phs", 3.0),
    ("international", 2.0),
    ("inbound", 1.0),  # answered calls to our subscribers (direction in, never charged)
    ("unanswered", 4.0),  # busy, no answer, cancelled, refused, failed
)
UNANSWERED = (  # disposition, SIP code, weight
    ("busy", 486, 35),
    ("no_answer", 480, 30),
    ("cancelled", 487, 25),
    ("refused", 403, 7),
    ("failed", 503, 3),
)
REFUSED_NUMBERS = ("110", "117", "177", "0120123456", "0570064444", "05099901234", "0077123")


@dataclass
class CdrStats:
    """What the CDR generator wrote."""

    total: int = 0
    answered_out: int = 0
    stale: int = 0
    late: int = 0
    billed_before: int = 0
    by_class: dict[str, int] = field(default_factory=dict)


class CdrGenerator:
    """Call attempts of one month as ``build_cdr`` would store them."""

    def __init__(
        self,
        data: OperatorData,
        plans: list[Plan],
        rng: random.Random,
        tz_suffix: str,
        stale_share: float,
    ) -> None:
        self.data = data
        self.rng = rng
        self.tz_suffix = tz_suffix
        self.stale_share = stale_share
        self.plans = plans
        self.numbers = [p.number for p in plans if p.start is not None]
        self.destinations = self._destinations()
        self.intl_weights = list(itertools.accumulate(w for _, _, w in INTERNATIONAL))
        kinds = [k for k, _ in ANSWERED_MIX]
        self.kinds = kinds
        self.kind_weights = list(itertools.accumulate(w for _, w in ANSWERED_MIX))
        self.unanswered_weights = list(itertools.accumulate(w for _, _, w in UNANSWERED))
        self._hours: dict[int, str] = {}
        self._tariffs: dict[tuple[str, date], Tariff] = {}
        self._prices: dict[tuple[str, int, int, int], tuple[int, int]] = {}
        self.stats = CdrStats()

    def _destinations(self) -> dict[str, Destination]:
        rng = self.rng

        def pool(make: Callable[[], str], size: int = 4000) -> tuple[str, ...]:
            return tuple(make() for _ in range(size))

        def digits(n: int) -> str:
            return f"{rng.randrange(10**n):0{n}d}"

        def fixed() -> str:
            area = rng.choice(["03", "06", "045", "052", "092", "011", "0742", "0266"])
            return area + str(rng.randrange(2, 10)) + digits(9 - len(area))

        def mobile() -> str:
            head = rng.choice(["090", "090", "080", "0701", "0708"])
            return head + str(rng.randrange(1, 10)) + digits(10 - len(head))

        found = {
            "domestic_fixed": Destination(CallClass.DOMESTIC_FIXED, pool(fixed, 20000), 150.0),
            "mobile": Destination(CallClass.MOBILE, pool(mobile, 20000), 100.0),
            "ip_partner_free": Destination(
                CallClass.IP_PARTNER_FREE, pool(lambda: "0505551" + digits(4)), 300.0
            ),
            "ip_partner_paid": Destination(
                CallClass.IP_PARTNER_PAID, pool(lambda: "0505553" + digits(4)), 180.0
            ),
            "ip_other": Destination(CallClass.IP_OTHER, pool(lambda: "0508" + digits(7)), 180.0),
            "phs": Destination(
                CallClass.PHS,
                pool(lambda: rng.choice(["07050", "07053", "07058"]) + digits(6)),
                120.0,
            ),
            "onnet": Destination(CallClass.ONNET, tuple(self.numbers) or ("05055500001",), 240.0),
        }
        for prefix, length, _ in INTERNATIONAL:
            found[f"intl:{prefix}"] = Destination(
                CallClass.INTERNATIONAL,
                pool(lambda p=prefix, n=length: "010" + p + digits(n), 500),
                360.0,
            )
        return found

    def check_destinations(self) -> None:
        """Every pool number analyses to its class (a cheap guard against drifting plans)."""
        from denwa.core.numbering import analyse

        for name, dest in self.destinations.items():
            for number in dest.numbers[:50]:
                result = analyse(number, self.data.ranges)
                if result.call_class is not dest.call_class or result.number != number:
                    raise SystemExit(f"generator bug: {number} ({name}) is {result.call_class}")

    def tariff(self, group: str, dest: Destination, number: str, day: date) -> Tariff:
        """The tariff in force on ``day`` (from the core's book), cached per group and day."""
        key = (group, day)
        tariff = self._tariffs.get(key)
        if tariff is None:
            tariff = self.data.tariffs.for_call(dest.call_class, number, day)
            self._tariffs[key] = tariff
        return tariff

    def charge(self, tariff: Tariff, seconds: int, stale: bool) -> tuple[int, int, int]:
        """(units, yen per unit, charge) as the core prices the call; ``stale`` adds a yen."""
        yen = tariff.yen_per_unit + (1 if stale else 0)
        key = (tariff.key, tariff.unit_seconds, yen, seconds)
        found = self._prices.get(key)
        if found is None:
            rated = price(
                CallClass.ONNET,
                seconds,
                Tariff(tariff.unit_seconds, yen, tariff.valid_from, tariff.name, key=tariff.key),
            )
            found = (rated.units, rated.charge_yen)
            self._prices[key] = found
        return found[0], yen, found[1]

    def time(self, seconds: int, millis: int = 0) -> str:
        """A UTC epoch second as Django stores a datetime."""
        hour, rest = divmod(seconds, 3600)
        prefix = self._hours.get(hour)
        if prefix is None:
            prefix = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%d %H:")
            self._hours[hour] = prefix
        minute, second = divmod(rest, 60)
        if millis:
            return f"{prefix}{minute:02d}:{second:02d}.{millis:03d}000{self.tz_suffix}"
        return f"{prefix}{minute:02d}:{second:02d}{self.tz_suffix}"

    def rows(
        self, month: Month, count: int, id_prefix: str, imported_at: str
    ) -> Iterator[tuple[Any, ...]]:
        """``count`` attempts answered (or started) in ``month``, made in batches of 20 000.

        Each attempt's contract is drawn in proportion to its activity and to how
        long it could call in the month, its time uniformly in that span.
        """
        rng = self.rng
        slots, cum = self._slots(month)
        if not slots:
            return
        tail = (str(month), imported_at)
        done = 0
        while done < count:
            n = min(20_000, count - done)
            chosen = rng.choices(slots, cum_weights=cum, k=n)
            kinds = rng.choices(self.kinds, cum_weights=self.kind_weights, k=n)
            for offset, ((plan, begin, length), kind) in enumerate(zip(chosen, kinds, strict=True)):
                at = begin + int(rng.random() * length)
                cdr_id = f"{id_prefix}{done + offset:010d}"
                if kind == "inbound":
                    yield self._inbound(cdr_id, plan, at) + tail
                elif kind == "unanswered" or (kind == "international" and plan.barred):
                    yield self._unanswered(cdr_id, plan, at, kind == "international") + tail
                else:
                    yield self._answered(cdr_id, plan, at, kind) + tail
            done += n
            self.stats.total += n

    def _slots(self, month: Month) -> tuple[list[tuple[Plan, int, int]], list[float]]:
        """(contract, first second, length) of each span a line could call in, and weights."""
        after = month.last_day + timedelta(days=1)
        slots: list[tuple[Plan, int, int]] = []
        weights: list[float] = []
        for p in self.plans:
            for low, high in p.active_days(month.first_day, after):
                begin = int(_tokyo(low).timestamp())
                length = int(_tokyo(high).timestamp()) - begin
                slots.append((p, begin, length))
                weights.append(p.activity * length)
        return slots, list(itertools.accumulate(weights))

    def _count(self, name: str) -> None:
        self.stats.by_class[name] = self.stats.by_class.get(name, 0) + 1

    def _intl_group(self) -> str:
        return "intl:" + self.rng.choices(INTERNATIONAL, cum_weights=self.intl_weights)[0][0]

    def _answered(self, cdr_id: str, plan: Plan, at: int, kind: str) -> tuple[Any, ...]:
        """An answered outbound call, rated as ``build_cdr`` rates it (or stale on purpose)."""
        rng = self.rng
        group = self._intl_group() if kind == "international" else kind
        dest = self.destinations[group]
        callee = rng.choice(dest.numbers)
        if callee == plan.number:  # onnet: not oneself
            callee = "05055500001"
        ring = rng.randrange(2, 25)
        millis = min(int(rng.expovariate(1 / dest.mean_seconds) * 1000), 4 * 3600 * 1000)
        seconds = -(-millis // 1000)
        tariff = self.tariff(group, dest, callee, _tokyo_day(at))
        stale = tariff.yen_per_unit > 0 and rng.random() < self.stale_share
        units, yen, charge = self.charge(tariff, seconds, stale)
        self.stats.answered_out += 1
        self.stats.stale += stale
        klass = dest.call_class.value
        self._count(klass)
        started, answered = self.time(at - ring), self.time(at)
        ended = self.time(at + millis // 1000, millis % 1000)
        return (
            cdr_id, plan.id, "out", plan.number, callee, callee, klass, started, answered, ended,
            "answered", None, seconds, tariff.key, tariff.unit_seconds, yen, units, charge,
            klass == "international",
        )  # fmt: skip

    def _inbound(self, cdr_id: str, plan: Plan, at: int) -> tuple[Any, ...]:
        """An answered call to our subscriber: stored with the caller's class, never charged."""
        rng = self.rng
        dest = self.destinations["mobile" if rng.random() < 0.4 else "domestic_fixed"]
        caller = rng.choice(dest.numbers)
        ring = rng.randrange(2, 20)
        millis = int(rng.expovariate(1 / 150.0) * 1000)
        self._count("inbound")
        started, answered = self.time(at - ring), self.time(at)
        ended = self.time(at + millis // 1000, millis % 1000)
        return (
            cdr_id, plan.id, "in", caller, plan.number, plan.number, dest.call_class.value,
            started, answered, ended, "answered", None, 0, "", None, None, 0, 0, False,
        )  # fmt: skip

    def _unanswered(self, cdr_id: str, plan: Plan, at: int, barred: bool) -> tuple[Any, ...]:
        """Busy, no answer, cancelled, failed or refused (a barred line calling abroad: 403)."""
        rng = self.rng
        if barred:
            disposition, code = "refused", 403
            callee = rng.choice(self.destinations[self._intl_group()].numbers)
            call_class = "international"
        else:
            disposition, code, _ = rng.choices(UNANSWERED, cum_weights=self.unanswered_weights)[0]
            if disposition == "refused":
                callee = rng.choice(REFUSED_NUMBERS)
                call_class = _refused_class(callee)
            else:
                dest = self.destinations["mobile" if rng.random() < 0.4 else "domestic_fixed"]
                callee, call_class = rng.choice(dest.numbers), dest.call_class.value
        self._count(disposition)
        return (
            cdr_id, plan.id, "out", plan.number, callee, callee, call_class, self.time(at), None,
            self.time(at + rng.randrange(0, 30)), disposition, code, 0, "", None, None, 0, 0,
            call_class == "international",
        )  # fmt: skip


_JST = 9 * 3600


def _tokyo_day(epoch: int) -> date:
    """The Asia/Tokyo date of a UTC epoch second (Japan keeps UTC+9 all year)."""
    return date.fromordinal(719163 + (epoch + _JST) // 86400)


def _refused_class(number: str) -> str:
    if number.startswith(("0120", "0570")):
        return "non_geographic"
    if number.startswith("0509990"):
        return "no_agreement"
    if number.startswith("00"):
        return "carrier_prefix"
    return "special_3digit"


def _tokyo(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TOKYO)


def _day(day: date | None) -> str | None:
    return None if day is None else str(day)


# --------------------------------------------------------------------------- all of it


@dataclass
class Generated:
    """What ``generate`` wrote and how long it took."""

    contracts: int
    events: int
    rentals: int
    adjustments: int
    cdrs: CdrStats
    seconds: float
    plans: list[Plan]


def generate(
    month: Month,
    data: OperatorData,
    contracts: int,
    cdrs: int,
    seed: int = 2019,
    late_share: float = 0.005,
    billed_share: float = 0.01,
    stale_share: float = 0.01,
    progress: Callable[[str], None] = lambda _: None,
) -> Generated:
    """Fill the (migrated, empty) database; see the module docstring for what it holds.

    ``late_share`` of ``cdrs`` are unbilled CDRs of the month before (late
    lines), ``billed_share`` already billed ones of that month; ``stale_share``
    of the answered, charged calls carry a price one yen per unit off (rated
    under a tariff since corrected), so the close's re-rating has work to do.
    """
    from django.db import connection, transaction

    started = time.monotonic()
    rng = random.Random(seed)
    writer = Writer()
    sqlite = writer.vendor == "sqlite"
    if sqlite:  # a bulk load: no journal while generating; WAL again afterwards
        writer.execute("PRAGMA journal_mode=OFF")
        writer.execute("PRAGMA synchronous=OFF")
        writer.execute("PRAGMA cache_size=-1000000")
    indexes = writer.cdr_index_ddl()
    with transaction.atomic():
        plans = generate_contracts(writer, month, data, contracts, rng)
        progress(f"{len(plans):,} contracts in {time.monotonic() - started:.1f} s")
        for name, _ in indexes:  # rebuilt after the load, by sorting
            writer.execute(f"DROP INDEX {name}")
        gen = CdrGenerator(data, plans, rng, writer.tz_suffix, stale_share)
        gen.check_destinations()
        prev = month.previous()
        late = round(cdrs * late_share)
        billed = round(cdrs * billed_share)
        imported = writer.stamp(month.end() + timedelta(minutes=5))
        imported_prev = writer.stamp(prev.end() + timedelta(minutes=5))
        writer.rows("calls_cdr", CDR_COLUMNS, gen.rows(prev, billed, f"{prev}-b", imported_prev))
        gen.stats.billed_before = gen.stats.total
        # The month before was closed after its billed calls: its watermark is their last id.
        watermark = writer.execute("SELECT COALESCE(MAX(id), 0) FROM calls_cdr")[0][0]
        writer.rows("calls_cdr", CDR_COLUMNS, gen.rows(prev, late, f"{prev}-l", imported))
        gen.stats.late = gen.stats.total - gen.stats.billed_before
        writer.rows(
            "calls_cdr", CDR_COLUMNS, gen.rows(month, cdrs - late - billed, f"{month}-", imported)
        )
        progress(f"{gen.stats.total:,} CDRs in {time.monotonic() - started:.1f} s")
        if not sqlite:  # run the deferred foreign-key checks before building indexes
            writer.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _, ddl in indexes:
            writer.execute(ddl)
        writer.execute(
            "INSERT INTO billing_monthclose (month, closed_at, closed_by, statements, total_yen,"
            f" seconds_taken, max_cdr_id) VALUES ('{prev}', '{imported_prev}', 'bench', 0, 0, 0,"
            f" {watermark})"
        )
        # The running call totals, as the CDR import would have kept them (not timed).
        writer.execute(
            "INSERT INTO calls_calltotal (contract_id, call_class, billing_month, billed_month,"
            " calls, seconds, charge_yen)"
            f" SELECT contract_id, call_class, billing_month, CASE WHEN id <= {watermark}"
            f" THEN '{prev}' ELSE '' END AS billed, COUNT(*), SUM(billed_seconds), SUM(charge_yen)"
            " FROM calls_cdr WHERE direction = 'out' AND answered_at IS NOT NULL"
            " AND contract_id IS NOT NULL GROUP BY contract_id, call_class, billing_month, billed"
        )
        progress(f"running call totals in {time.monotonic() - started:.1f} s")
        if not sqlite:
            from django.core.management.color import no_style

            from denwa.subscribers import models

            reset = connection.ops.sequence_reset_sql(
                no_style(),
                [models.IspAccount, models.Contract, models.TerminalAdapter, models.Rental],
            )
            for sql in reset:
                writer.execute(sql)
    if sqlite:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA synchronous=NORMAL")
    else:
        writer.execute("ANALYZE")
    counts = {
        table: writer.execute(f"SELECT COUNT(*) FROM {table}")[0][0]
        for table in ("subscribers_contractevent", "subscribers_rental", "billing_adjustment")
    }
    progress(f"indexes rebuilt, {time.monotonic() - started:.1f} s")
    return Generated(
        contracts=len(plans),
        events=counts["subscribers_contractevent"],
        rentals=counts["subscribers_rental"],
        adjustments=counts["billing_adjustment"],
        cdrs=gen.stats,
        seconds=time.monotonic() - started,
        plans=plans,
    )


def check_against_build_cdr(data: OperatorData, sample: int, seed: int = 1) -> tuple[int, int, int]:
    """Rebuild ``sample`` random stored CDRs with ``build_cdr``; returns (checked, differ, stale).

    A stale CDR (priced one yen per unit off on purpose) differs only in
    ``yen_per_unit`` and ``charge_yen``; it is counted apart.
    """
    from django.db.models import Max

    from denwa.calls.models import Cdr
    from denwa.calls.services import build_cdr
    from denwa.subscribers.models import Contract

    top = Cdr.objects.aggregate(top=Max("id"))["top"] or 0
    rng = random.Random(seed)
    ids = {rng.randrange(1, top + 1) for _ in range(min(sample, top))}
    rows = list(Cdr.objects.filter(pk__in=ids))
    numbers = {r.caller for r in rows} | {r.dialled for r in rows}
    contracts = {c.number: c for c in Contract.objects.filter(number__in=numbers)}
    fields = [
        "contract_id", "direction", "caller", "dialled", "callee", "call_class", "started_at",
        "answered_at", "ended_at", "disposition", "sip_code", "billed_seconds", "tariff_key",
        "unit_seconds", "yen_per_unit", "units", "charge_yen", "tax_exempt", "billing_month",
    ]  # fmt: skip
    differ = stale = 0
    for row in rows:
        record = {
            "id": row.cdr_id,
            "caller": row.caller,
            "callee": row.dialled,
            "start": row.started_at,
            "answer": row.answered_at,
            "end": row.ended_at,
            "disposition": row.disposition,
            "sip_code": row.sip_code,
        }
        built = build_cdr(record, contracts, data)
        wrong = {f for f in fields if getattr(built, f) != getattr(row, f)}
        if (
            wrong
            and wrong <= {"yen_per_unit", "charge_yen"}
            and row.yen_per_unit == (built.yen_per_unit or 0) + 1
        ):
            stale += 1
        elif wrong:
            differ += 1
            if differ <= 5:
                print(
                    "  build_cdr differs:",
                    row.cdr_id,
                    {f: (getattr(row, f), getattr(built, f)) for f in wrong},
                )
    return len(rows), differ, stale
