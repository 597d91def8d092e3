"""End-to-end helpers for the production layout: PostgreSQL and two Kamailio nodes.

Both nodes run ``denwa sip run --node <name>`` on one DENWA_HOME (one sip.toml with
``[nodes.a]`` and ``[nodes.b]``, one policy snapshot, one spool directory), like
``denwa up`` runs them; the database is a throwaway PostgreSQL of the test's own
(``scripts/postgres`` on a free port and a private directory), so that no other test
run's database is touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from denwa.sip.runtime import runtime_dir
from tests.e2e.sip import DENWA, SipService, free_udp_port, kamcmd

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = ROOT / "scripts" / "postgres"


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (``scripts/postgres``)."""

    port: int = field(default_factory=free_udp_port)
    directory: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="denwa-pg-e2e-", dir="/tmp"))
    )

    def env(self) -> dict[str, str]:
        env = dict(os.environ, DENWA_PG_DIR=str(self.directory), DENWA_PG_PORT=str(self.port))
        if os.environ.get("CI") == "true":
            env["DENWA_PG_INSTALL"] = "1"
        return env

    def start(self) -> str:
        """Start it; its DATABASE_URL (``RuntimeError`` with the reason if it cannot)."""
        done = subprocess.run(
            [str(POSTGRES), "start"], env=self.env(), capture_output=True, text=True, timeout=180
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip() or f"scripts/postgres exit {done.returncode}")
        return done.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run([str(POSTGRES), "stop"], env=self.env(), capture_output=True, timeout=60)
        shutil.rmtree(self.directory, ignore_errors=True)


def postgres_missing() -> str | None:
    """Why no PostgreSQL can be started here, or None (CI installs it)."""
    if os.environ.get("CI") == "true" or list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        return None
    return "PostgreSQL is not installed (apt-get install postgresql)"


@dataclass
class Node(SipService):
    """One node of sip.toml's ``[nodes.<name>]``, started as ``denwa sip run --node <name>``."""

    node: str = ""

    def start(self) -> None:
        with (self.home / f"kamailio-{self.node}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(DENWA), "sip", "run", "--node", self.node],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        ctl = runtime_dir(self.home, self.node) / "kamailio_ctl"
        deadline = time.monotonic() + 30
        while not ctl.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"node {self.node} did not start:\n{self.log_text()[-3000:]}")
            time.sleep(0.1)
        time.sleep(0.5)

    def kill(self) -> None:
        """SIGKILL the node's whole process group (a crash: nothing is cleaned up)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        ctl = runtime_dir(self.home, self.node) / "kamailio_ctl"
        ctl.unlink(missing_ok=True)

    def log_text(self) -> str:
        path = self.home / f"kamailio-{self.node}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def rpc(self, *command: str) -> str:
        """One ``kamcmd`` command on this node's control socket; its output."""
        return kamcmd(runtime_dir(self.home, self.node) / "kamailio_ctl", *command)


def two_nodes_toml(ports: dict[str, tuple[int, int]], gateways: list[int], extra: str = "") -> str:
    """sip.toml for nodes ``name → (SIP port, DMQ port)`` sharing the gateways."""
    listed = ", ".join(f'"127.0.0.1:{gateway}"' for gateway in gateways)
    text = (
        f"gateways = [{listed}]\n"
        "children = 2\nmax_call_seconds = 30\ngateway_timeout_seconds = 2\n" + extra
    )
    for name, (sip, dmq) in ports.items():
        text += f"\n[nodes.{name}]\nlisten_port = {sip}\ndmq_port = {dmq}\n"
    return text


def wait_until(condition: object, timeout: float = 10, every: float = 0.2) -> bool:
    """Poll ``condition()`` until it is true or ``timeout`` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():  # type: ignore[operator]
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
