"""``denwa demo``: a tour of the core on the shipped data, for a newcomer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import click

from denwa.cli.context import Settings
from denwa.core.contracts.charges import ContractTerms
from denwa.core.policy.decision import Admit
from denwa.core.services import classify_number, month_charges, quote_call
from denwa.core.timeutil import Month

SAMPLE_NUMBERS = (
    "05055500002",
    "05055510001",
    "05055530001",
    "05033001234",
    "0312345678",
    "09012345678",
    "07055123456",
    "0101212555 0123",
    "1840312345678",
    "+81312345678",
    "110",
    "0120123456",
    "0033031234567",
    "0312345",
)

SAMPLE_CALLS = (("0312345678", "181"), ("09012345678", "61"), ("0104420712345678", "95"))


@click.command()
@click.pass_obj
def demo(settings: Settings) -> None:
    """Show how denwa classifies, admits and charges (shipped sample data)."""
    data = settings.data
    on = date(2003, 9, 1)
    click.echo("denwa — number analysis and call policy (as of 2003-09-01)\n")
    for number in SAMPLE_NUMBERS:
        decision = classify_number(data, number, on)
        klass = decision.call_class.value if decision.call_class else "-"
        if isinstance(decision, Admit):
            verdict = f"admit → {decision.route.value}"
        else:
            verdict = f"refuse {decision.sip_code}: {decision.text.announcement_ja}"
        click.echo(f"  {number:<18} {klass:<16} {verdict}")
    click.echo("\nRating (tax-exclusive):\n")
    for number, seconds in SAMPLE_CALLS:
        rated = quote_call(data, number, Decimal(seconds), on).rated
        click.echo(
            f"  {number:<18} {seconds:>4} s  {rated.units} × {rated.unit_seconds} s"
            f"  = {rated.charge_yen} yen ({rated.tax_category.value})"
        )
    click.echo("\nSPEC §2 worked example: start 2003-07-15, terminated 2003-09-10:\n")
    terms = ContractTerms(start=date(2003, 7, 15), end=date(2003, 9, 10))
    for month in (Month(2003, 7), Month(2003, 8), Month(2003, 9)):
        result = month_charges(data, terms, month)
        parts = ", ".join(f"{line.code} {line.amount_yen}" for line in result.lines)
        click.echo(f"  {month}: {parts}  → total {result.totals.total_yen} yen incl. tax")
    click.echo("\nTry:  .venv/bin/denwa classify 07055123456 --direction in --json")
    click.echo("      .venv/bin/denwa charges --start 2003-07-15 --month 2003-09 --end 2003-09-10")
