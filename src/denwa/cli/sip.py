"""``denwa sip``: run Kamailio with denwa's routing, publish the policy snapshot."""

from __future__ import annotations

from pathlib import Path

import click

from denwa.sip.config import SipConfig
from denwa.sip.runtime import exec_kamailio, write_runtime
from denwa.web.bootstrap import setup_django


def _home() -> Path:
    setup_django()
    from django.conf import settings

    return Path(settings.DENWA_HOME)


@click.group()
def sip() -> None:
    """The SIP service (Kamailio)."""


@sip.command("publish")
def sip_publish() -> None:
    """Write the policy snapshot the SIP workers decide from."""
    setup_django()
    from denwa.subscribers.snapshot import publish_snapshot

    click.echo(f"snapshot written: {publish_snapshot()}")


@sip.command("run")
@click.option("--node", help="Which node of sip.toml's [nodes.<name>] tables (default: the first).")
def sip_run(node: str | None) -> None:
    """Generate the Kamailio configuration, publish the snapshot and run Kamailio."""
    home = _home()
    from denwa.protection.snapshot import publish_protection
    from denwa.subscribers.snapshot import publish_snapshot

    config = SipConfig.load(home / "sip.toml", node)
    cfg = write_runtime(home, config)
    publish_snapshot()
    publish_protection()  # the maintenance switch and today's spend, as they stand
    where = f"{config.listen_address}:{config.listen_port}"
    peers = (
        f", DMQ {config.dmq_port} with {', '.join(config.dmq_peers)}" if config.replicated else ""
    )
    click.echo(f"kamailio {config.node_name}: {cfg} on {where}{peers}", err=True)
    exec_kamailio(home, config)


@click.command("demo-calls")
@click.pass_obj
def demo_calls(settings: object) -> None:
    """With the service running: register the demo TAs, place a mix of calls, show their CDRs."""
    home = _home()
    import time

    from denwa.calls.ingest import ingest_spool
    from denwa.calls.models import Cdr
    from denwa.core.operator_data.loader import load_operator_data
    from denwa.sip.demo_calls import place_demo_calls

    config = SipConfig.load(home / "sip.toml")
    placed = place_demo_calls(config, home / "demo-calls")
    wanted = {p.call_id for p in placed}
    deadline = time.monotonic() + 10
    records: dict[str, Cdr] = {}
    while len(records) < len(wanted) and time.monotonic() < deadline:
        ingest_spool(home / "spool", load_operator_data())  # the running ingest may be first
        records = {c.cdr_id: c for c in Cdr.objects.filter(cdr_id__in=wanted)}
        time.sleep(0.5)
    click.echo(f"{'call':<32} {'dialled':<16} {'class':<16} {'outcome':<14} charge")
    for call in placed:
        cdr = records.get(call.call_id)
        if cdr is None:
            click.echo(f"{call.call.label:<32} {call.call.dialled:<16} (no CDR yet)")
            continue
        outcome = cdr.disposition + (f" {cdr.sip_code}" if cdr.sip_code else "")
        charge = f"{cdr.charge_yen} yen" if cdr.answered_at else "-"
        row = f"{call.call.label:<32} {call.call.dialled:<16} {cdr.call_class:<16}"
        click.echo(f"{row} {outcome:<14} {charge}")


COMMANDS = (sip, demo_calls)
