"""End-to-end helpers: Kamailio started by ``denwa sip run``, sipp as TAs and gateways."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from denwa.sip.sipp import fill_scenario, free_port, uac, uas

DENWA = Path(sys.executable).parent / "denwa"


free_udp_port = free_port


def scenario(name: str, tmp: Path, **replacements: str) -> Path:
    """A scenario file with its placeholders (EXPECTED_CODE, HOLD_MS …) filled in."""
    return fill_scenario(name, tmp, **replacements)


@dataclass
class SipService:
    """A running denwa SIP node on a private DENWA_HOME and ports."""

    home: Path
    port: int
    gateways: list[int]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    peers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def denwa(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DENWA), *args], env=self.env, capture_output=True, text=True, timeout=120
        )

    def rpc(self, *command: str) -> str:
        """One ``kamcmd`` command on the node's control socket; its output."""
        return kamcmd(self.home / "sip" / "kamailio_ctl", *command)

    def start(self) -> None:
        with (self.home / "kamailio.log").open("wb") as log:
            self.process = subprocess.Popen(
                [str(DENWA), "sip", "run"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        ctl = self.home / "sip" / "kamailio_ctl"
        deadline = time.monotonic() + 30
        while not ctl.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("kamailio did not start:\n" + self.log_text()[-3000:])
            time.sleep(0.1)
        time.sleep(0.5)

    def stop(self) -> None:
        for peer in self.peers:
            if peer.poll() is None:
                peer.kill()
            peer.wait()
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_text(self) -> str:
        path = self.home / "kamailio.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def sipp(
        self, scenario_file: Path, *args: str, timeout: float = 20
    ) -> subprocess.CompletedProcess[str]:
        """Run a sipp UAC against the service and wait for it."""
        errors = self.home / f"sipp-{time.monotonic_ns()}.err"
        return uac(
            f"127.0.0.1:{self.port}",
            scenario_file,
            ["-trace_err", "-error_file", str(errors), *args],
            self.home,
            timeout,
        )

    def peer(self, scenario_file: Path, port: int, calls: int = 1) -> subprocess.Popen[bytes]:
        """Start a sipp UAS (gateway or TA) on ``port`` in the background."""
        trace = self.home / f"peer-{port}-{time.monotonic_ns()}.msg"
        process = uas(scenario_file, port, self.home, calls, trace)
        process.trace = trace  # type: ignore[attr-defined]
        self.peers.append(process)
        wait_until_bound(port)
        return process

    def cdrs(self, wait_for: int = 0, timeout: float = 5) -> list[dict[str, Any]]:
        """Every final CDR in the spool (waiting until at least ``wait_for`` are there)."""
        deadline = time.monotonic() + timeout
        while True:
            records = [
                record
                for path in sorted((self.home / "spool").glob("*.cdr.jsonl"))
                for line in path.read_text().splitlines()
                if line.strip()
                and (record := json.loads(line))["disposition"] != "in_progress"  # journal
            ]
            if len(records) >= wait_for or time.monotonic() > deadline:
                return records
            time.sleep(0.1)


def wait_until_bound(port: int, timeout: float = 10) -> None:
    """Wait until something listens on UDP ``port`` (a sipp peer started under load may take
    seconds; a call placed before would meet a closed port)."""
    wanted = f":{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/net/udp", encoding="ascii") as table:
            if any(line.split()[1].endswith(wanted) for line in table.readlines()[1:]):
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on UDP port {port} after {timeout} s")


def tools_missing() -> str | None:
    """Why end-to-end SIP tests cannot run here, or None."""
    for tool in ("kamailio", "sipp"):
        if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin")):
            return f"{tool} is not installed"
    return None


def kamcmd(ctl: Path, *command: str) -> str:
    """One ``kamcmd`` command on the control socket ``ctl``; its output."""
    binary = shutil.which("kamcmd") or shutil.which("kamcmd", path="/usr/sbin:/sbin")
    done = subprocess.run(
        [str(binary), "-s", f"unix:{ctl}", *command],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return done.stdout + done.stderr
