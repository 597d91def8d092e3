"""Running the whole service as a few child processes, and stopping them all together."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Child:
    """One long-running part of the service."""

    name: str
    command: Sequence[str]
    process: subprocess.Popen[bytes] | None = None


@dataclass
class Supervisor:
    """Starts the children; when one dies or a signal comes, stops the rest."""

    children: list[Child]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    stopping: bool = False

    def run(self) -> int:
        """Start everything and wait; returns 0 after Ctrl-C/SIGTERM, 1 if a child died."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for child in self.children:
            child.process = subprocess.Popen(
                list(child.command), env=self.env, start_new_session=True
            )
        failed = None
        while not self.stopping and failed is None:
            time.sleep(0.2)
            failed = next(
                (c for c in self.children if c.process and c.process.poll() is not None), None
            )
        self.stop()
        if failed is not None and failed.process is not None and not self.stopping:
            code = failed.process.returncode
            print(f"denwa: {failed.name} stopped (exit {code}); stopped the others too")
            return 1
        return 0

    def stop(self, grace: float = 10) -> None:
        """SIGTERM every child's process group, then SIGKILL what is left after ``grace``."""
        live = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in live:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in live:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)
