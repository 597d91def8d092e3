"""End-to-end helpers: Kamailio started by ``denwa sip run``, sipp as TAs and gateways."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCENARIOS = Path(__file__).parent / "scenarios"
DENWA = Path(sys.executable).parent / "denwa"


def free_udp_port() -> int:
    """A UDP and TCP port free on 127.0.0.1 right now."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def scenario(name: str, tmp: Path, **replacements: str) -> Path:
    """A scenario file with its placeholders (EXPECTED_CODE, HOLD_MS …) filled in."""
    text = (SCENARIOS / name).read_text(encoding="utf-8")
    for key, value in replacements.items():
        text = text.replace(key, value)
    path = tmp / f"{name.removesuffix('.xml')}-{'-'.join(replacements.values()) or 'plain'}.xml"
    path.write_text(text, encoding="utf-8")
    return path


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
        command = [
            "sipp", f"127.0.0.1:{self.port}", "-sf", str(scenario_file), "-m", "1",
            "-i", "127.0.0.1", "-p", str(free_udp_port()), "-nostdin",
            "-timeout", f"{int(timeout)}s", "-timeout_error", "-trace_err",
            "-error_file", str(self.home / f"sipp-{time.monotonic_ns()}.err"), *args,
        ]  # fmt: skip
        return subprocess.run(
            command, cwd=self.home, capture_output=True, text=True, timeout=timeout + 10
        )

    def peer(self, scenario_file: Path, port: int, calls: int = 1) -> subprocess.Popen[bytes]:
        """Start a sipp UAS (gateway or TA) on ``port`` in the background."""
        trace = self.home / f"peer-{port}-{time.monotonic_ns()}.msg"
        process = subprocess.Popen(
            [
                "sipp",
                "-sf",
                str(scenario_file),
                "-p",
                str(port),
                "-i",
                "127.0.0.1",
                "-m",
                str(calls),
                "-nostdin",
                "-timeout",
                "30s",
                "-trace_msg",
                "-message_file",
                str(trace),
            ],
            cwd=self.home,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        process.trace = trace  # type: ignore[attr-defined]
        self.peers.append(process)
        time.sleep(0.3)
        return process

    def cdrs(self, wait_for: int = 0, timeout: float = 5) -> list[dict[str, Any]]:
        """Every CDR in the spool (waiting until at least ``wait_for`` are there)."""
        deadline = time.monotonic() + timeout
        while True:
            records = [
                json.loads(line)
                for path in sorted((self.home / "spool").glob("*.cdr.jsonl"))
                for line in path.read_text().splitlines()
                if line.strip()
            ]
            if len(records) >= wait_for or time.monotonic() > deadline:
                return records
            time.sleep(0.1)


def tools_missing() -> str | None:
    """Why end-to-end SIP tests cannot run here, or None."""
    for tool in ("kamailio", "sipp"):
        if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin")):
            return f"{tool} is not installed"
    return None
