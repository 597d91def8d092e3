"""``denwa portal``: the subscribers' web sign-ins (ご利用明細照会)."""

from __future__ import annotations

import getpass

import click

from denwa.web.bootstrap import setup_django


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@click.group()
def portal() -> None:
    """The subscribers' web page: issue web passwords, lift lock-outs."""


@portal.command("password")
@click.argument("number")
@click.option("--password", help="The password to set (default: a random one, printed).")
@click.option(
    "--must-change/--no-must-change",
    default=True,
    show_default=True,
    help="Must the subscriber change it at the first sign-in?",
)
def portal_password(number: str, password: str | None, must_change: bool) -> None:
    """Issue NUMBER a web password (separate from the SIP password); it also lifts a lock."""
    setup_django()
    from denwa.portal.accounts import issue_password

    issued = issue_password(number, _actor(), password, must_change=must_change)
    click.echo(
        f"{issued.number}: web password issued" + (" (to be changed)" if must_change else "")
    )
    if password is None:
        click.echo(f"web password: {issued.password}")


@portal.command("unlock")
@click.argument("number")
def portal_unlock(number: str) -> None:
    """Lift NUMBER's lock-out after too many wrong passwords."""
    setup_django()
    from denwa.portal.accounts import unlock

    unlock(number, _actor())
    click.echo(f"{number}: web sign-in unlocked")


COMMANDS = (portal,)
