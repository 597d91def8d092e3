"""Parsing and printing shared by the commands: dates, months, periods, JSON or table."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from denwa.core.contracts.charges import DateRange
from denwa.core.errors import InvalidInput
from denwa.core.timeutil import Month


def as_date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


def as_month(ctx: click.Context, param: click.Parameter, value: str) -> Month:
    try:
        return Month.parse(value)
    except InvalidInput:
        raise click.BadParameter(f"{value!r} is not a month YYYY-MM") from None


def as_periods(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[DateRange, ...]:
    periods = []
    for value in values:
        first, sep, last = value.partition(":")
        try:
            if not sep:
                raise ValueError
            periods.append(DateRange(date.fromisoformat(first), date.fromisoformat(last)))
        except (ValueError, InvalidInput):
            raise click.BadParameter(
                f"{value!r} is not a period FIRST:LAST (inclusive dates YYYY-MM-DD)"
            ) from None
    return tuple(sorted(periods, key=lambda p: p.first))


def emit(payload: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    width = max(len(key) for key in payload)
    for key, value in payload.items():
        shown = "-" if value is None else value
        click.echo(f"{key:<{width}}  {shown}")
