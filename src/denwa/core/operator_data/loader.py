"""Loading the operator files into ``OperatorData``, validating every line."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from denwa.core.contracts.fees import BillingRules, Fee, FeeSchedule, FeeVersion
from denwa.core.errors import OperatorDataError
from denwa.core.numbering import plan
from denwa.core.numbering.classes import CallClass
from denwa.core.numbering.ranges import RangeEntry, RangeTable
from denwa.core.operator_data.bundle import DataSource, OperatorData
from denwa.core.operator_data.table import Row, read_rows
from denwa.core.policy.phs import InboundRule, PhsCarrier
from denwa.core.policy.refusals import RefusalReason, RefusalTable, RefusalText
from denwa.core.rating.tariffs import Tariff, TariffBook
from denwa.core.rating.tax import Rounding, TaxRate, TaxTable

FILES: dict[str, tuple[str, ...]] = {
    "own_ranges.csv": ("prefix", "description"),
    "ip_partners.csv": ("prefix", "partner", "charging"),
    "phs_carriers.csv": ("carrier", "name", "group", "outbound", "inbound"),
    "phs_blocks.csv": ("prefix", "carrier"),
    "phs_service_numbers.csv": ("prefix", "service"),
    "mobile_070_blocks.csv": ("prefix", "carrier"),
    "no_agreement.csv": ("prefix", "carrier"),
    "international.csv": ("prefix", "destination", "unit_seconds", "yen_per_unit", "valid_from"),
    "tariffs.csv": ("class", "name", "unit_seconds", "yen_per_unit", "valid_from"),
    "tax_rates.csv": ("valid_from", "rate"),
    "fees.csv": ("fee", "amount_yen", "valid_from"),
    "billing_rules.csv": ("rule", "value"),
    "refusals.csv": ("reason", "sip_code", "reason_en", "announcement_ja"),
}
"""Every operator file and its columns."""

DOMESTIC_TARIFF_CLASSES = (
    CallClass.ONNET,
    CallClass.IP_PARTNER_FREE,
    CallClass.IP_PARTNER_PAID,
    CallClass.IP_OTHER,
    CallClass.DOMESTIC_FIXED,
    CallClass.MOBILE,
    CallClass.PHS,
)
"""Admitted classes priced by ``tariffs.csv``; international is priced per destination."""

PARTNER_CHARGING = {"free": CallClass.IP_PARTNER_FREE, "paid": CallClass.IP_PARTNER_PAID}


def default_data_dir() -> Path:
    """The shipped defaults (the service page's values and marked sample data)."""
    return Path(str(resources.files("denwa.data") / "defaults"))


def load_operator_data(directory: Path | str | None = None) -> OperatorData:
    """Load and validate every operator file.

    A file present in ``directory`` replaces the shipped default of that name;
    the others come from the defaults.  Raises ``OperatorDataError`` naming the
    file, the line and the problem.
    """
    texts: dict[str, tuple[str, str]] = {}
    sources: dict[str, DataSource] = {}
    override = Path(directory) if directory is not None else None
    if override is not None and not override.is_dir():
        raise OperatorDataError(override, None, "operator data directory does not exist")
    for name in FILES:
        path = override / name if override and (override / name).is_file() else None
        path = path or default_data_dir() / name
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise OperatorDataError(path, None, f"cannot read: {error.strerror}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            raise OperatorDataError(path, line, "not UTF-8 text") from None
        texts[name] = (str(path), text)
        sources[name] = DataSource(name, str(path), hashlib.sha256(raw).hexdigest())
    return parse_operator_data(texts, sources)


def parse_operator_data(
    texts: dict[str, tuple[str, str]], sources: dict[str, DataSource] | None = None
) -> OperatorData:
    """Build ``OperatorData`` from ``{file name: (origin, text)}`` for every file."""

    def rows(name: str) -> list[Row]:
        origin, text = texts[name]
        return read_rows(origin, text, FILES[name])

    phs_carriers = _phs_carriers(rows("phs_carriers.csv"))
    entries = [
        *(_range(r, CallClass.ONNET, r.text("description")) for r in rows("own_ranges.csv")),
        *(_partner(r) for r in rows("ip_partners.csv")),
        *(_phs_block(r, phs_carriers) for r in rows("phs_blocks.csv")),
        *(_range(r, CallClass.MOBILE, r.text("carrier")) for r in rows("mobile_070_blocks.csv")),
        *(_range(r, CallClass.NO_AGREEMENT, r.text("carrier")) for r in rows("no_agreement.csv")),
    ]
    _refuse_repeated(entries, lambda e: e.prefix, lambda e: e.source, "prefix")
    rules, rounding = _rules(rows("billing_rules.csv"))
    return OperatorData(
        ranges=RangeTable.of(entries),
        phs_carriers=phs_carriers,
        phs_service_numbers=_phs_services(rows("phs_service_numbers.csv")),
        tariffs=TariffBook.of(
            _class_tariffs(rows("tariffs.csv"), texts["tariffs.csv"][0]),
            _international_tariffs(rows("international.csv")),
        ),
        taxes=TaxTable(_tax_rates(rows("tax_rates.csv"), texts["tax_rates.csv"][0]), rounding),
        fees=_fees(rows("fees.csv"), texts["fees.csv"][0]),
        rules=rules,
        refusals=_refusals(rows("refusals.csv"), texts["refusals.csv"][0]),
        sources=sources or {},
    )


def _range(row: Row, call_class: CallClass, holder: str, carrier: str | None = None) -> RangeEntry:
    prefix = row.digits("prefix")
    plan_row = plan.plan_row(prefix)
    rule = plan.KIND_RULES[plan_row.kind] if plan_row else None
    if plan_row is None or rule is None or call_class not in rule.operator_may_set:
        raise row.error(f"prefix {prefix} cannot hold {call_class.value} numbers")
    if len(prefix) <= len(plan_row.prefix) and plan_row.prefix != "0":
        raise row.error(f"prefix {prefix} would take all of {plan_row.prefix}: give a longer one")
    if len(prefix) < 2 or len(prefix) > max(plan_row.lengths):
        raise row.error(f"prefix {prefix} is not a block of {plan_row.note} numbers")
    return RangeEntry(prefix, call_class, holder, carrier, row.where)


def _partner(row: Row) -> RangeEntry:
    charging = row.text("charging")
    if charging not in PARTNER_CHARGING:
        raise row.error(f"charging must be free or paid, not {charging!r}")
    return _range(row, PARTNER_CHARGING[charging], row.text("partner"))


def _phs_block(row: Row, carriers: dict[str, PhsCarrier]) -> RangeEntry:
    carrier = row.text("carrier")
    if carrier not in carriers:
        raise row.error(f"unknown PHS carrier {carrier!r} (not in phs_carriers.csv)")
    return _range(row, CallClass.PHS, carriers[carrier].name, carrier)


def _phs_carriers(rows: list[Row]) -> dict[str, PhsCarrier]:
    carriers: dict[str, PhsCarrier] = {}
    for row in rows:
        key = row.text("carrier")
        if key in carriers:
            raise row.error(f"carrier {key!r} is listed twice")
        try:
            inbound = InboundRule.parse(row.text("inbound"))
        except ValueError as error:
            raise row.error(str(error)) from None
        carriers[key] = PhsCarrier(
            key, row.text("name"), row.text("group"), row.flag("outbound"), inbound
        )
    return carriers


def _phs_services(rows: list[Row]) -> dict[str, str]:
    services: dict[str, str] = {}
    for row in rows:
        prefix = row.digits("prefix")
        if not prefix.startswith("070"):
            raise row.error(f"prefix {prefix} is not a PHS (070) number block")
        if prefix in services:
            raise row.error(f"prefix {prefix} is listed twice")
        services[prefix] = row.text("service")
    return services


def _class_tariffs(rows: list[Row], origin: str) -> dict[CallClass, list[Tariff]]:
    tariffs: dict[CallClass, list[Tariff]] = defaultdict(list)
    for row in rows:
        call_class = row.choice("class", CallClass)
        if call_class not in DOMESTIC_TARIFF_CLASSES:
            raise row.error(f"class {call_class.value} is not priced here")
        tariffs[call_class].append(_tariff(row, row.text("name"), call_class.value))
    for call_class, versions in tariffs.items():
        _refuse_repeated(versions, lambda t: t.valid_from, lambda t: t.source, f"{call_class} date")
    missing = [c.value for c in DOMESTIC_TARIFF_CLASSES if c not in tariffs]
    if missing:
        raise OperatorDataError(origin, None, f"no tariff for {', '.join(missing)}")
    return tariffs


def _international_tariffs(rows: list[Row]) -> dict[str, list[Tariff]]:
    tariffs: dict[str, list[Tariff]] = defaultdict(list)
    for row in rows:
        prefix = row.digits("prefix")
        if prefix.startswith(plan.JAPAN_COUNTRY_CODE):
            raise row.error("prefix 81 is Japan: a call there is never international")
        tariffs[prefix].append(_tariff(row, row.text("destination"), f"intl:{prefix}"))
    for prefix, versions in tariffs.items():
        _refuse_repeated(versions, lambda t: t.valid_from, lambda t: t.source, f"{prefix} date")
    return tariffs


def _tariff(row: Row, name: str, key: str) -> Tariff:
    return Tariff(
        unit_seconds=row.integer("unit_seconds", minimum=1),
        yen_per_unit=row.integer("yen_per_unit"),
        valid_from=row.day("valid_from"),
        name=name,
        source=row.where,
        key=key,
    )


def _tax_rates(rows: list[Row], origin: str) -> list[TaxRate]:
    rates = []
    for row in rows:
        rate = row.decimal("rate")
        if rate >= 1:
            raise row.error(f"rate is a fraction (0.10 for 10%), not {rate}")
        rates.append((TaxRate(row.day("valid_from"), rate), row.where))
    _refuse_repeated(rates, lambda r: r[0].valid_from, lambda r: r[1], "valid_from")
    if not rates:
        raise OperatorDataError(origin, None, "no tax rate")
    return [rate for rate, _ in rates]


def _fees(rows: list[Row], origin: str) -> FeeSchedule:
    versions: dict[Fee, list[FeeVersion]] = defaultdict(list)
    seen: list[tuple[tuple[Fee, date], str]] = []
    for row in rows:
        fee = row.choice("fee", Fee)
        version = FeeVersion(fee, row.integer("amount_yen"), row.day("valid_from"))
        versions[fee].append(version)
        seen.append(((fee, version.valid_from), row.where))
    _refuse_repeated(seen, lambda s: s[0], lambda s: s[1], "fee and date")
    missing = [fee.value for fee in Fee if fee not in versions]
    if missing:
        raise OperatorDataError(origin, None, f"no amount for {', '.join(missing)}")
    return FeeSchedule(dict(versions))


TAX_ROUNDING_RULE = "tax_rounding"
_RULE_TYPES = {field.name: field.type for field in fields(BillingRules)}


def _rules(rows: list[Row]) -> tuple[BillingRules, Rounding]:
    """Billing rules and the tax rounding; a rule not given keeps the page's value."""
    values: dict[str, Any] = {}
    rounding = Rounding.DOWN
    for row in rows:
        rule = row.text("rule")
        if rule in values:
            raise row.error(f"rule {rule} is given twice")
        if rule == TAX_ROUNDING_RULE:
            rounding = values[rule] = row.choice("value", Rounding)
        elif rule in _RULE_TYPES:
            is_flag = _RULE_TYPES[rule] in (bool, "bool")
            values[rule] = row.flag("value") if is_flag else row.integer("value", minimum=1)
        else:
            known = ", ".join(sorted([*_RULE_TYPES, TAX_ROUNDING_RULE]))
            raise row.error(f"unknown rule {rule!r} (known: {known})")
    values.pop(TAX_ROUNDING_RULE, None)
    return BillingRules(**values), rounding


def _refusals(rows: list[Row], origin: str) -> RefusalTable:
    texts: dict[RefusalReason, RefusalText] = {}
    for row in rows:
        reason = row.choice("reason", RefusalReason)
        if reason in texts:
            raise row.error(f"reason {reason.value} is given twice")
        code = row.integer("sip_code", minimum=400)
        if code > 699:
            raise row.error(f"sip_code must be a SIP error code 400-699, not {code}")
        texts[reason] = RefusalText(code, row.text("reason_en"), row.text("announcement_ja"))
    missing = [reason.value for reason in RefusalReason if reason not in texts]
    if missing:
        raise OperatorDataError(origin, None, f"no wording for {', '.join(missing)}")
    return RefusalTable(texts)


T = TypeVar("T")


def _refuse_repeated(
    items: Iterable[T], key: Callable[[T], object], where: Callable[[T], str], what: str
) -> None:
    first: dict[object, str] = {}
    for item in items:
        k = key(item)
        if k in first:
            source, _, line = where(item).rpartition(":")
            raise OperatorDataError(source, int(line), f"{what} {k} is already given at {first[k]}")
        first[k] = where(item)
