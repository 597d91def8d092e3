"""``denwa maintenance`` and ``denwa protection``: the switch, SIP blocks, counters, the watch."""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path

import click

from denwa.cli.params import emit
from denwa.web.bootstrap import setup_django


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@click.command()
@click.argument("switch", type=click.Choice(["on", "off", "status"]))
@click.option("--message", default="", help="On: what callers are told (Japanese, one line).")
@click.option("--retry-after", type=int, help="On: seconds before callers may try again.")
def maintenance(switch: str, message: str, retry_after: int | None) -> None:
    """Switch maintenance (提供中止) on or off: new calls get 503, calls in progress go on."""
    setup_django()
    from denwa.protection import services

    if switch != "status":
        services.set_maintenance(switch == "on", _actor(), message, retry_after)
    state = services.maintenance()
    if not state.on:
        click.echo("maintenance off: calls are admitted")
        return
    told = state.message or "the announcement of protection_refusals.csv"
    after = state.retry_after_seconds or "as in protection_refusals.csv"
    click.echo(f"maintenance on: new calls get 503 (Retry-After {after}); told: {told}")


@click.group()
def protection() -> None:
    """Protection: SIP blocks and counters, lifting a block, the watch that feeds the console."""


@protection.command("status")
@click.option("--json", "as_json", is_flag=True)
def protection_status(as_json: bool) -> None:
    """The maintenance switch, the blocks in force and the refusal counters of the SIP node."""
    setup_django()
    from denwa.protection import services

    switch = services.maintenance()
    status = services.sip_status()
    now = time.time()
    blocks = [
        {
            "key": block.key,
            "rule": block.rule.value,
            "until": block.until_time.isoformat(),
            "seconds_left": block.seconds_left(now),
        }
        for block in status.blocks
    ]
    if as_json:
        emit({"maintenance": switch.on, "blocks": blocks, "refused": status.refused}, True)
        return
    click.echo(f"maintenance: {'on' if switch.on else 'off'}")
    click.echo(f"blocks in force: {len(blocks)}")
    for block in blocks:
        click.echo(f"  {block['key']:<28} {block['rule']:<18} {block['seconds_left']:>6} s left")
    click.echo("calls refused since the node started:")
    for rule, count in status.refused.items():
        click.echo(f"  {rule:<28} {count:>8}")


@protection.command("lift")
@click.argument("key")
def protection_lift(key: str) -> None:
    """Lift the block KEY (line:<050 number> or source:<IP address>) before its end."""
    setup_django()
    from denwa.protection import services

    services.lift_block(key, _actor())
    click.echo(f"{key}: block lifted")


@protection.command("publish")
def protection_publish() -> None:
    """Rewrite the protection snapshot the SIP workers read."""
    setup_django()
    from denwa.protection.snapshot import publish_protection

    click.echo(f"protection snapshot written: {publish_protection()}")


@protection.command("watch")
@click.option("--follow", is_flag=True, help="Keep watching every half second (Ctrl-C stops).")
def protection_watch(follow: bool) -> None:
    """Events of the SIP side into alerts, international calls into daily totals, flags."""
    setup_django()
    from django.conf import settings

    from denwa.protection.ingest import protection_pass

    spool = Path(settings.DENWA_HOME) / "spool"
    try:
        while True:
            done = protection_pass(spool)
            if not follow or done.events or done.alerts:
                click.echo(json.dumps(done.__dict__), err=follow)
            if not follow:
                return
            time.sleep(0.5)
    except KeyboardInterrupt:
        return


COMMANDS = (maintenance, protection)
