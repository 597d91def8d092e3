"""``denwa debit``: collection by bank direct debit (口座振替) — mandates, export, import.

Each command sets Django up, calls one service of ``denwa.collection`` and
prints what it did; the collection settings are ``collection.csv`` of the
operator's data directory (``--data``), or the shipped sample.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

from denwa.cli.context import Settings
from denwa.cli.operations import _actor
from denwa.cli.params import as_month, emit
from denwa.core.collection.config import ACCOUNT_TYPES, load_collection_settings
from denwa.core.errors import InvalidInput
from denwa.core.timeutil import Month
from denwa.web.bootstrap import setup_django


@click.group()
def debit() -> None:
    """Bank direct debit (口座振替): mandates, the monthly request file and the bank's result."""


@debit.command("mandate")
@click.argument("number")
@click.option("--bank", "bank_code", required=True, help="Bank code (4 digits).")
@click.option("--branch", "branch_code", required=True, help="Branch code (3 digits).")
@click.option(
    "--account-type",
    type=click.Choice(list(ACCOUNT_TYPES)),
    default="1",
    show_default=True,
    help="1 普通, 2 当座, 9 その他.",
)
@click.option("--account", "account_number", required=True, help="Account number (up to 7 digits).")
@click.option("--holder", "holder_kana", required=True, help="Account holder's name in kana.")
@click.option("--bank-name", default="", help="Bank name in kana (default: from the bank list).")
@click.option("--branch-name", default="", help="Branch name in kana (default: from the list).")
@click.pass_obj
def debit_mandate(
    settings: Settings,
    number: str,
    bank_code: str,
    branch_code: str,
    account_type: str,
    account_number: str,
    holder_kana: str,
    bank_name: str,
    branch_name: str,
) -> None:
    """Record (or replace) the debit mandate of the contract on NUMBER."""
    setup_django()
    from denwa.collection.services import save_mandate

    saved = save_mandate(
        number,
        load_collection_settings(settings.data_dir),
        bank_code=bank_code,
        branch_code=branch_code,
        account_type=account_type,
        account_number=account_number,
        holder_kana=holder_kana,
        bank_name=bank_name,
        branch_name=branch_name,
    )
    click.echo(
        f"{number}: debit from {saved.bank_code}-{saved.branch_code} {saved.account_type}"
        f" {saved.account_number} {saved.holder_kana}"
    )


def _day(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 31:
        raise click.BadParameter(f"{value} is not a day of the month (1-31)")
    return value


@debit.command("export")
@click.argument("month", callback=as_month, metavar="YYYY-MM")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the request file.",
)
@click.option(
    "--debit-day",
    type=int,
    callback=_day,
    metavar="DD",
    help="Day of the next month to debit (default: debit_day in collection.csv).",
)
@click.pass_obj
def debit_export(settings: Settings, month: Month, out: Path, debit_day: int | None) -> None:
    """Write the Zengin 口座振替 request file for closed MONTH (again: the same file)."""
    setup_django()
    from denwa.collection.services import export_debits

    result = export_debits(month, load_collection_settings(settings.data_dir), _actor(), debit_day)
    _write(out, result.content)
    again = " (exported before: the same file)" if result.already_exported else ""
    click.echo(
        f"{month}: {result.debits} debits, {result.total_yen:,} yen, debited on"
        f" {result.debit_date} -> {out}{again}"
    )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def _write(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` whole or not at all."""
    directory = path.resolve().parent
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    except OSError as error:
        raise InvalidInput("--out", f"cannot write in {directory}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@debit.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def debit_import(settings: Settings, file: Path, as_json: bool) -> None:
    """Apply the bank's result FILE: every record or none (a bad one is named)."""
    setup_django()
    from denwa.collection.services import import_results
    from denwa.core.collection.errors import ZenginFileError

    try:
        raw = file.read_bytes()
    except OSError as error:
        raise InvalidInput(str(file), f"cannot read: {error.strerror}") from None
    try:
        result = import_results(raw, load_collection_settings(settings.data_dir), _actor())
    except ZenginFileError as error:
        raise InvalidInput(str(file), f"{error.message}; nothing was applied") from None
    payload: dict[str, Any] = {
        "month": result.month,
        "debit_date": result.debit_date.isoformat(),
        "paid": result.paid,
        "paid_yen": result.paid_yen,
        "unpaid": result.unpaid,
        "unpaid_yen": result.unpaid_yen,
        "result_codes": result.codes,
        "stop_list": list(result.listed),
        "stopped": list(result.stopped),
    }
    emit(payload, as_json)


COMMANDS = (debit,)
