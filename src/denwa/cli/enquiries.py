"""``classify``, ``rate`` and ``charges``: "why was this charged?" at the support desk."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from denwa.cli.context import Settings
from denwa.cli.params import as_date, as_month, as_periods, emit
from denwa.core.contracts.charges import ContractTerms, DateRange
from denwa.core.errors import InvalidInput
from denwa.core.numbering.classes import Direction
from denwa.core.policy.decision import Admit, Decision
from denwa.core.services import classify_number, month_charges, quote_call
from denwa.core.timeutil import Month, tokyo_today

LONGEST_CALL_SECONDS = 31 * 24 * 3600
"""A support-desk sanity bound: no call lasts longer than a month."""


def _decision_payload(decision: Decision) -> dict[str, Any]:
    analysis = decision.analysis
    entry = analysis.range_entry if analysis else None
    payload: dict[str, Any] = {
        "class": decision.call_class.value if decision.call_class else None,
        "number": decision.number,
        "admitted": decision.admitted,
        "sip_code": None,
        "reason": None,
        "announcement_ja": None,
        "privacy": decision.privacy.value if decision.privacy else None,
    }
    if isinstance(decision, Admit):
        payload["route"] = decision.route.value
        payload["tariff"] = decision.tariff.name if decision.tariff else None
    else:
        payload["sip_code"] = decision.sip_code
        payload["reason"] = decision.text.reason_en
        payload["announcement_ja"] = decision.text.announcement_ja
        payload["refusal"] = decision.reason.value
    payload["country_code"] = analysis.country_code if analysis else None
    payload["carrier_code"] = analysis.carrier_code if analysis else None
    payload["holder"] = entry.holder if entry else None
    payload["data_source"] = entry.source if entry else None
    return payload


@click.command()
@click.argument("number")
@click.option(
    "--direction",
    type=click.Choice([d.value for d in Direction]),
    default=Direction.OUT.value,
    show_default=True,
    help="out: NUMBER is dialled by our subscriber; in: NUMBER calls our subscriber.",
)
@click.option("--to", "our_number", help="Inbound: which of our numbers is called.")
@click.option(
    "--date",
    "on",
    callback=as_date,
    metavar="YYYY-MM-DD",
    help="Tariffs in force on this date (default today).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def classify(
    settings: Settings,
    number: str,
    direction: str,
    our_number: str | None,
    on: date | None,
    as_json: bool,
) -> None:
    """Classify NUMBER and say whether a call would be admitted, and why not."""
    decision = classify_number(
        settings.data, number, on or tokyo_today(), Direction(direction), our_number
    )
    emit(_decision_payload(decision), as_json)


@click.command()
@click.argument("number")
@click.argument("seconds")
@click.option(
    "--date",
    "on",
    callback=as_date,
    metavar="YYYY-MM-DD",
    help="Answer date (tariff in force then; default today).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def rate(settings: Settings, number: str, seconds: str, on: date | None, as_json: bool) -> None:
    """The tax-exclusive charge of an answered call of SECONDS (fraction allowed) to NUMBER."""
    try:
        duration = Decimal(seconds)
    except InvalidOperation:
        raise InvalidInput("SECONDS", f"{seconds!r} is not a number of seconds") from None
    if not duration.is_finite() or duration < 0:
        raise InvalidInput("SECONDS", f"{seconds!r} is not a duration ≥ 0")
    if duration > LONGEST_CALL_SECONDS:
        raise InvalidInput("SECONDS", f"{seconds!r} is longer than any call (31 days at most)")
    quote = quote_call(settings.data, number, duration, on or tokyo_today())
    rated = quote.rated
    emit(
        {
            "class": rated.call_class.value,
            "number": quote.decision.number,
            "billed_seconds": rated.billed_seconds,
            "units": rated.units,
            "unit_seconds": rated.unit_seconds,
            "charge_yen": rated.charge_yen,
            "tax_category": rated.tax_category.value,
            "tariff": rated.tariff_name,
        },
        as_json,
    )


@click.command()
@click.option(
    "--start",
    callback=as_date,
    metavar="YYYY-MM-DD",
    required=True,
    help="Activation date of the contract.",
)
@click.option(
    "--month", callback=as_month, metavar="YYYY-MM", required=True, help="The month to charge."
)
@click.option(
    "--end",
    callback=as_date,
    metavar="YYYY-MM-DD",
    help="Termination date (契約解除), if terminated.",
)
@click.option(
    "--suspend",
    "suspensions",
    callback=as_periods,
    metavar="FIRST:LAST",
    multiple=True,
    help="An approved suspension FIRST:LAST, both days suspended (repeatable).",
)
@click.option("--waive-early", is_flag=True, help="Waive the early-termination charge.")
@click.option(
    "--reason",
    "waiver_reason",
    default="waived at the support desk",
    show_default=True,
    help="Why the early-termination charge is waived.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def charges(
    settings: Settings,
    start: date,
    month: Month,
    end: date | None,
    suspensions: tuple[DateRange, ...],
    waive_early: bool,
    waiver_reason: str,
    as_json: bool,
) -> None:
    """The fixed monthly charges of one contract for MONTH, with tax."""
    terms = ContractTerms(
        start=start,
        end=end,
        suspensions=suspensions,
        early_charge_waived=waive_early,
        waiver_reason=waiver_reason if waive_early else "",
    )
    result = month_charges(settings.data, terms, month)
    lines = [
        {
            "code": line.code,
            "amount_yen": line.amount_yen,
            "tax_category": line.tax_category.value,
            "description": line.description,
        }
        for line in result.lines
    ]
    totals = result.totals
    if as_json:
        emit(
            {
                "month": str(month),
                "lines": lines,
                "subtotal_yen": totals.subtotal_yen,
                "tax_yen": totals.tax_yen,
                "total_yen": totals.total_yen,
                "tax_rate": str(result.tax_rate),
            },
            as_json=True,
        )
        return
    click.echo(f"Charges for {month} (tax rate {(result.tax_rate * 100).normalize()}%)")
    for line in lines:
        click.echo(f"  {line['code']:<22} {line['amount_yen']:>8,} yen  {line['description']}")
    if not lines:
        click.echo("  (no charges)")
    click.echo(f"  {'subtotal':<22} {totals.subtotal_yen:>8,} yen")
    click.echo(f"  {'consumption tax':<22} {totals.tax_yen:>8,} yen")
    click.echo(f"  {'total':<22} {totals.total_yen:>8,} yen")


COMMANDS = (classify, rate, charges)
