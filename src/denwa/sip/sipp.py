"""sipp as a SIP peer: the demo's TAs and stand-in gateway, and the end-to-end tests'.

The scenarios in ``scenarios/`` carry placeholders (EXPECTED_CODE, HOLD_MS …)
filled in per use.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

SCENARIOS = Path(__file__).parent / "scenarios"


def fill_scenario(name: str, directory: Path, **replacements: str) -> Path:
    """Write ``name`` with its placeholders replaced into ``directory``; return the path."""
    text = (SCENARIOS / name).read_text(encoding="utf-8")
    for key, value in replacements.items():
        text = text.replace(key, value)
    suffix = hashlib.sha1(repr(sorted(replacements.items())).encode()).hexdigest()[:10]
    path = directory / f"{name.removesuffix('.xml')}-{suffix}.xml"
    # Atomically: two sipps started at once with the same scenario must never read it
    # half-written (the second writer truncating it under the first reader).
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
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


def uac(
    proxy: str,
    scenario: Path,
    args: Sequence[str],
    workdir: Path,
    timeout: float = 20,
) -> subprocess.CompletedProcess[str]:
    """Run one call of a client scenario against ``proxy`` (host:port) and wait for it."""
    command = [
        "sipp", proxy, "-sf", str(scenario), "-m", "1", "-i", "127.0.0.1",
        "-p", str(free_port()), "-nostdin", "-timeout", f"{int(timeout)}s", "-timeout_error",
        *args,
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=timeout + 10, check=False
    )


def uas(
    scenario: Path, port: int, workdir: Path, calls: int = 1, trace: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a server scenario (a TA or a gateway) on ``port`` in the background."""
    command = [
        "sipp", "-sf", str(scenario), "-p", str(port), "-i", "127.0.0.1",
        "-m", str(calls), "-nostdin", "-timeout", "30s",
    ]  # fmt: skip
    if trace is not None:
        command += ["-trace_msg", "-message_file", str(trace)]
    return subprocess.Popen(
        command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
