"""Database commands: init, subscriber, isp-event, cdr import, bill close/show.

Each sets Django up, calls one service and prints what it did.  They respect
``DENWA_HOME`` (the embedded SQLite database) and ``DATABASE_URL``.
"""

from __future__ import annotations

import getpass
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import click

from denwa.cli.context import Settings
from denwa.cli.params import as_date, as_month, emit
from denwa.core.timeutil import Month, tokyo_today
from denwa.web.bootstrap import setup_django


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@click.command()
@click.option("--demo", is_flag=True, help="Add the demo subscribers, TAs and an operator login.")
@click.pass_obj
def init(settings: Settings, demo: bool) -> None:
    """Create or migrate the database (and add demo data with --demo)."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from django.conf import settings as django_settings

    click.echo(f"database ready: {django_settings.DATABASES['default']['NAME']}")
    if demo:
        from denwa.demo import add_demo_data

        report = add_demo_data(settings.data, _actor())
        for line in report:
            click.echo(line)


@click.group()
def subscriber() -> None:
    """Add subscribers and move their contracts through the lifecycle."""


@subscriber.command("add")
@click.argument("number")
@click.option("--isp-account", required=True, help="The KCT-Net internet account id.")
@click.option("--start", callback=as_date, required=True, metavar="YYYY-MM-DD")
@click.option("--password", help="SIP password (default: a random one, printed).")
@click.pass_obj
def subscriber_add(
    settings: Settings, number: str, isp_account: str, start: date, password: str | None
) -> None:
    """Open a contract on NUMBER, active from --start."""
    setup_django()
    from denwa.subscribers.services import add_subscriber

    new = add_subscriber(settings.data, number, isp_account, start, _actor(), password)
    click.echo(f"{number}: active from {start} (ISP account {isp_account})")
    if password is None:
        click.echo(f"SIP password: {new.sip_password}")


@subscriber.command("suspend")
@click.argument("number")
@click.option("--from", "first", callback=as_date, required=True, metavar="YYYY-MM-DD")
@click.option("--to", "last", callback=as_date, required=True, metavar="YYYY-MM-DD")
@click.option("--reason", required=True)
@click.pass_obj
def subscriber_suspend(
    settings: Settings, number: str, first: date, last: date, reason: str
) -> None:
    """Approve a suspension (一時停止) from --from to --to inclusive."""
    setup_django()
    from denwa.subscribers.services import suspend

    suspend(number, first, last, reason, _actor(), settings.data.rules)
    click.echo(f"{number}: suspended {first} to {last}")


@subscriber.command("resume")
@click.argument("number")
@click.option("--date", "on", callback=as_date, required=True, metavar="YYYY-MM-DD")
def subscriber_resume(number: str, on: date) -> None:
    """Put a suspended or stopped line back in service (再開登録料 is charged)."""
    setup_django()
    from denwa.subscribers.services import resume

    resume(number, on, _actor())
    click.echo(f"{number}: active again from {on}")


@subscriber.command("stop")
@click.argument("number")
@click.option("--date", "on", callback=as_date, required=True, metavar="YYYY-MM-DD")
@click.option("--reason", required=True)
def subscriber_stop(number: str, on: date, reason: str) -> None:
    """Stop service (提供停止): the line can neither call nor be called."""
    setup_django()
    from denwa.subscribers.services import stop

    stop(number, on, reason, _actor())
    click.echo(f"{number}: stopped from {on}")


@subscriber.command("terminate")
@click.argument("number")
@click.option("--date", "on", callback=as_date, required=True, metavar="YYYY-MM-DD")
@click.option("--waive-early", is_flag=True, help="Waive the early-termination charge.")
@click.option("--reason", default="", help="Why (required with --waive-early).")
def subscriber_terminate(number: str, on: date, waive_early: bool, reason: str) -> None:
    """Terminate the contract (契約解除)."""
    setup_django()
    from denwa.subscribers.services import terminate

    terminate(number, on, _actor(), reason, waive_early)
    click.echo(f"{number}: terminated on {on}" + (" (early charge waived)" if waive_early else ""))


@click.command("isp-event")
@click.argument("account")
@click.argument("event", type=click.Choice(["cancelled", "suspended"]))
@click.option("--date", "on", callback=as_date, metavar="YYYY-MM-DD", help="Default: today.")
@click.option("--json", "as_json", is_flag=True)
def isp_event(account: str, event: str, on: date | None, as_json: bool) -> None:
    """The ISP reports ACCOUNT cancelled or suspended: its phone contracts are terminated."""
    setup_django()
    from denwa.subscribers.services import apply_isp_event

    result = apply_isp_event(account, event, on or tokyo_today(), _actor())
    payload: dict[str, Any] = asdict(result)
    payload["terminated"] = list(result.terminated)
    emit(payload, as_json)


@click.group()
def cdr() -> None:
    """Call records."""


@cdr.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def cdr_import(settings: Settings, file: Path, as_json: bool) -> None:
    """Import a JSON-lines CDR file (all or nothing; records already imported are skipped)."""
    setup_django()
    from denwa.calls.services import import_cdr_file

    result = import_cdr_file(file, settings.data)
    payload: dict[str, Any] = asdict(result)
    payload["unrated"] = list(result.unrated)
    emit(payload, as_json)


@cdr.command("ingest")
@click.option("--follow", is_flag=True, help="Keep ingesting every half second (Ctrl-C stops).")
@click.option(
    "--grace",
    default=60,
    show_default=True,
    help="Seconds past its maximum length before an answered call with no end is closed.",
)
@click.option(
    "--node-dead-after",
    default=10.0,
    show_default=True,
    help="Seconds without a heartbeat after which a SIP node's open calls are closed.",
)
@click.pass_obj
def cdr_ingest(settings: Settings, follow: bool, grace: int, node_dead_after: float) -> None:
    """Ingest the SIP side's CDR spool (DENWA_HOME/spool) into the CDR table."""
    setup_django()
    from datetime import UTC, datetime

    from django.conf import settings as django_settings

    from denwa.calls.ingest import (
        close_dead_node_calls,
        close_overdue_calls,
        follow_spool,
        ingest_spool,
    )

    spool = Path(django_settings.DENWA_HOME) / "spool"
    if not follow:
        done = ingest_spool(spool, settings.data)
        now = datetime.now(UTC)
        dead = close_dead_node_calls(spool, settings.data, now, node_dead_after)
        closed = close_overdue_calls(settings.data, now, grace)
        click.echo(
            f"{done.files} spool files: {done.imported} CDRs imported, {done.skipped} known,"
            f" {dead} calls of dead nodes closed,"
            f" {closed} overdue calls closed at their maximum length"
        )
        return
    click.echo(f"ingesting {spool} (Ctrl-C stops)", err=True)
    try:
        follow_spool(
            spool,
            lambda: settings.data,
            report=lambda done: click.echo(f"{done.imported} CDRs imported", err=True),
            node_dead_after=node_dead_after,
        )
    except KeyboardInterrupt:
        return


@click.group()
def bill() -> None:
    """The monthly close and statements."""


@bill.command("close")
@click.argument("month", callback=as_month, metavar="YYYY-MM")
@click.pass_obj
def bill_close(settings: Settings, month: Month) -> None:
    """Close MONTH (after its last day 24:00 JST): one statement per contract."""
    setup_django()
    from denwa.billing.services import close_month

    result = close_month(month, settings.data, _actor())
    if result.already_closed:
        click.echo(f"{month} is already closed: nothing changed ({result.statements} statements)")
        return
    click.echo(
        f"{month} closed: {result.statements} statements, {result.total_yen:,} yen incl. tax,"
        f" {result.late_calls} late calls, {result.seconds:.1f} s"
    )


@bill.command("show")
@click.argument("number")
@click.argument("month", callback=as_month, metavar="YYYY-MM")
@click.option("--json", "as_json", is_flag=True)
def bill_show(number: str, month: Month, as_json: bool) -> None:
    """The closed statement of NUMBER for MONTH."""
    setup_django()
    from denwa.billing.services import show_statement

    view = show_statement(number, month)
    if as_json:
        emit(
            {
                "number": view.number,
                "month": view.month,
                "lines": list(view.lines),
                "calls": view.calls,
                "tax_yen": view.tax_yen,
                "subtotal_yen": view.subtotal_yen,
                "total_yen": view.total_yen,
            },
            as_json=True,
        )
        return
    click.echo(f"{view.number}  {view.month}  (closed {view.closed_at:%Y-%m-%d %H:%M})")
    for line in view.lines:
        click.echo(f"  {line['amount_yen']:>8,} yen  {line['description']}")
    for rate, tax in view.tax_yen.items():
        click.echo(f"  {tax:>8,} yen  消費税 ({rate})")
    click.echo(f"  {view.total_yen:>8,} yen  合計")


@click.command()
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1.")
def serve(port: int) -> None:
    """Serve the operator console and the API on 127.0.0.1 (Ctrl-C stops)."""
    setup_django()
    from django.core.management import call_command

    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)


@click.command()
@click.option("--web-port", default=8000, show_default=True, help="Console/API port on 127.0.0.1.")
@click.option(
    "--node",
    "nodes",
    multiple=True,
    help="Run this SIP node of sip.toml's [nodes.<name>] (repeatable; default: every node).",
)
def up(web_port: int, nodes: tuple[str, ...]) -> None:
    """Run the whole service: Kamailio (SIP), the web side, the CDR ingest, the protection watch.

    With several nodes in sip.toml, one Kamailio per node; the web side, the ingest (of
    every node's spool files) and the protection watch run once.
    """
    import sys

    from denwa.sip.config import SipConfig
    from denwa.supervisor import Child, Supervisor

    setup_django()
    from django.conf import settings as django_settings

    sip_toml = Path(django_settings.DENWA_HOME) / "sip.toml"
    names = [SipConfig.load(sip_toml, node).node for node in nodes] or SipConfig.node_names(
        sip_toml
    )
    denwa = str(Path(sys.argv[0]).resolve()) if sys.argv[0].endswith("denwa") else "denwa"
    sip_nodes = [Child(f"sip-{name}", [denwa, "sip", "run", "--node", name]) for name in names]
    supervisor = Supervisor(
        [
            *(sip_nodes or [Child("sip", [denwa, "sip", "run"])]),
            Child("web", [denwa, "serve", "--port", str(web_port)]),
            Child("ingest", [denwa, "cdr", "ingest", "--follow"]),
            Child("protection", [denwa, "protection", "watch", "--follow"]),
        ]
    )
    raise SystemExit(supervisor.run())


COMMANDS = (init, subscriber, isp_event, cdr, bill, serve, up)
