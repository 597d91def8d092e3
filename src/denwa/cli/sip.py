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
def sip_run() -> None:
    """Generate the Kamailio configuration, publish the snapshot and run Kamailio."""
    home = _home()
    from denwa.subscribers.snapshot import publish_snapshot

    config = SipConfig.load(home / "sip.toml")
    cfg = write_runtime(home, config)
    publish_snapshot()
    click.echo(f"kamailio: {cfg} on {config.listen_address}:{config.listen_port}", err=True)
    exec_kamailio(home, config)


COMMANDS = (sip,)
