"""Kamailio's RPC: ``kamcmd`` on the node's control socket (``DENWA_HOME/sip/kamailio_ctl``).

The console and the CLI read the blocks and counters the call path keeps in
shared memory, and lift a block, without touching the call path's code: one
``kamcmd`` per request, a second or less.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from denwa.protection.errors import SipCommandFailed, SipNotRunning

KAMCMD = "kamcmd"
TIMEOUT_SECONDS = 5


def control_socket(home: Path) -> Path:
    """The node's control socket (``ctl`` module, binrpc).

    With several nodes (``DENWA_HOME/sip/<node>/kamailio_ctl``, README "Production
    layout") the first node's that is there: blocks and counters are replicated, so
    every node holds all of them.
    """
    single = home / "sip" / "kamailio_ctl"
    if single.exists():
        return single
    return next(iter(sorted((home / "sip").glob("*/kamailio_ctl"))), single)


@dataclass(frozen=True)
class Kamailio:
    """One SIP node's RPC."""

    socket: Path

    def call(self, *command: str) -> str:
        """Run one RPC command; its text output."""
        binary = shutil.which(KAMCMD) or shutil.which(KAMCMD, path="/usr/sbin:/sbin")
        if binary is None:
            raise SipNotRunning(self.socket, "kamcmd is not installed")
        if not self.socket.exists():
            raise SipNotRunning(self.socket, "no control socket")
        try:
            done = subprocess.run(
                [binary, "-s", f"unix:{self.socket}", *command],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SipNotRunning(self.socket, "no answer within 5 s") from None
        if done.returncode != 0:
            if "connect" in done.stderr:
                raise SipNotRunning(self.socket, "the control socket does not answer")
            raise SipCommandFailed(
                " ".join(command), done.stderr.strip() or f"exit {done.returncode}"
            )
        if done.stdout.lower().startswith("error:"):  # kamcmd prints an RPC fault, exits 0
            raise SipCommandFailed(" ".join(command), done.stdout.strip()[6:].strip())
        return done.stdout

    def items(self, table: str) -> dict[str, str]:
        """Every item of an htable (``htable.dump``): key → value as text."""
        return parse_dump(self.call("htable.dump", table))

    def delete(self, table: str, key: str) -> None:
        """Delete one item of an htable (``htable.delete``)."""
        self.call("htable.delete", table, key)


def parse_dump(text: str) -> dict[str, str]:
    """The items of ``kamcmd htable.dump`` output (``name: …`` then ``value: …`` per item)."""
    items: dict[str, str] = {}
    name: str | None = None
    for line in text.splitlines():
        field, _, value = line.strip().partition(": ")
        if field == "name":
            name = value
        elif field == "value" and name is not None:
            items[name] = value
            name = None
    return items
