"""``denwa``: the operator's and support desk's command line.

Every command reads its arguments, calls one core service and prints the
result, as a readable table or as JSON.  Any bad input ends with one line on
stderr and exit code 2; nothing is half-written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from denwa.cli import debit, enquiries, operations, portal, protection, sip
from denwa.cli.context import Settings
from denwa.cli.demo import demo
from denwa.core.errors import DenwaError

EXIT_BAD_INPUT = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DENWA_DATA",
    default=None,
    help="Operator data directory (files there replace the shipped defaults). Env: DENWA_DATA.",
)
@click.version_option(package_name="denwa")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None) -> None:
    """denwa: run an ISP's 050 IP telephone service."""
    ctx.obj = Settings(data_dir=data_dir)


for command in (
    *enquiries.COMMANDS,
    *operations.COMMANDS,
    *debit.COMMANDS,
    *portal.COMMANDS,
    *protection.COMMANDS,
    *sip.COMMANDS,
    demo,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 success, 2 bad input)."""
    try:
        cli.main(args=argv, prog_name="denwa", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.Abort:
        click.echo("denwa: aborted", err=True)
        return 1
    except click.ClickException as error:
        click.echo(f"denwa: error: {_one_line(error.format_message())}", err=True)
        return EXIT_BAD_INPUT
    except DenwaError as error:
        click.echo(f"denwa: error: {_one_line(error.message)}", err=True)
        return EXIT_BAD_INPUT
    return 0


def _one_line(message: str) -> str:
    return " ".join(message.split())


if __name__ == "__main__":
    sys.exit(main())
