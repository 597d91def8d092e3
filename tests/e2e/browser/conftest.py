"""Browser fixtures: ``denwa serve`` on a free port with its own DENWA_HOME, and Chromium.

The server is a real process (the command an operator runs), on SQLite under a
temporary DENWA_HOME, filled by ``portal_data.py`` through denwa's services.
Chromium is Debian's (``/usr/bin/chromium``, installed by ``scripts/bootstrap``),
driven headless by Playwright; no browser is downloaded.  One browser and one
server per test module.  Screenshots go to ``test-artifacts/screenshots/``
(``DENWA_SCREENSHOTS`` elsewhere).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from denwa.sip.sipp import free_port

DENWA = Path(sys.executable).parent / "denwa"
ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("DENWA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("DENWA_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (scripts/bootstrap installs Debian's chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@dataclass
class PortalServer:
    """A running ``denwa serve`` and what ``portal_data.py`` put in its database."""

    url: str
    home: Path
    env: dict[str, str]
    facts: dict[str, Any]
    process: subprocess.Popen[bytes]

    def denwa(self, *args: str) -> str:
        """Run a denwa command against this server's database; its output."""
        done = subprocess.run(
            [str(DENWA), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    @property
    def database(self) -> Path:
        return self.home / "denwa.sqlite3"


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"denwa serve did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalServer]:
    """``denwa serve`` with the browser tests' data, stopped after the module."""
    missing = browser_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {missing}")
        pytest.skip(missing)
    home = tmp_path_factory.mktemp("portal-home")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DENWA_DATA")}
    env.update(DENWA_HOME=str(home), DJANGO_SETTINGS_MODULE="denwa.web.settings.dev")
    subprocess.run([str(DENWA), "init"], env=env, check=True, capture_output=True, timeout=120)
    filled = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("portal_data.py"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert filled.returncode == 0, filled.stderr
    port = free_port()
    log = home / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(DENWA), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{url}/my/login/", process, log)
        yield PortalServer(url, home, env, json.loads(filled.stdout), process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def browser(server: PortalServer) -> Iterator[Any]:
    """Debian's Chromium, headless, with a fresh profile (one per module)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """Where the tests leave their screenshots (emptied of earlier ones per module)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
