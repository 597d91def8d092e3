"""``denwa portal`` as an operator runs it: a fresh DENWA_HOME, SQLite, subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DENWA = Path(sys.executable).parent / "denwa"


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DENWA_DATA")}
    env.update(DENWA_HOME=str(home), DJANGO_SETTINGS_MODULE="denwa.web.settings.dev")
    return subprocess.run(
        [str(DENWA), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def sign_in(home: Path, number: str, *passwords: str) -> list[str]:
    """What ``accounts.sign_in`` answers to each password in turn, against that DENWA_HOME."""
    code = (
        "import sys\n"
        "from denwa.web.bootstrap import setup_django; setup_django()\n"
        "from denwa.portal import accounts\n"
        "from denwa.portal.errors import PortalError\n"
        "for password in sys.argv[2:]:\n"
        "    try:\n"
        "        a = accounts.sign_in(sys.argv[1], password, '127.0.0.1')\n"
        "        print('ok', a.must_change)\n"
        "    except PortalError as e:\n"
        "        print(e.code)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DENWA_DATA")}
    env.update(DENWA_HOME=str(home), DJANGO_SETTINGS_MODULE="denwa.web.settings.dev")
    done = subprocess.run(
        [sys.executable, "-c", code, number, *passwords],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def test_the_operator_issues_a_web_password_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "init").returncode == 0
    added = run(
        home, "subscriber", "add", "05055500009", "--isp-account", "K9", "--start", "2003-07-15"
    )
    assert added.returncode == 0, added.stderr
    issued = run(home, "portal", "password", "05055500009")
    assert issued.returncode == 0, issued.stderr
    password = issued.stdout.split("web password: ")[1].strip()
    assert sign_in(home, "05055500009", password) == ["ok True"]
    chosen = run(
        home, "portal", "password", "05055500009", "--password", "chosen-pass", "--no-must-change"
    )
    assert "web password:" not in chosen.stdout
    answers = sign_in(home, "05055500009", "chosen-pass", *["wrong"] * 5, "chosen-pass")
    assert answers == ["ok False", *["sign_in_failed"] * 4, "number_locked", "number_locked"]
    assert run(home, "portal", "unlock", "05055500009").returncode == 0
    assert sign_in(home, "05055500009", "chosen-pass") == ["ok False"]


@pytest.fixture(scope="module")
def one_subscriber(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with 05055500009 and no web password (bad input changes nothing)."""
    home = tmp_path_factory.mktemp("cli") / "home"
    run(home, "init")
    run(home, "subscriber", "add", "05055500009", "--isp-account", "K9", "--start", "2003-07-15")
    return home


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("portal", "password", "05055509999"), "no contract holds 05055509999"),
        (("portal", "password", "05055500009", "--password", "short"), "短すぎます"),
        (("portal", "unlock", "05055509999"), "05055509999 has no web password yet"),
    ],
    ids=["unknown-number", "weak-password", "unlock-without-password"],
)
def test_bad_input_gets_one_line_and_exit_code_2(
    one_subscriber: Path, args: tuple[str, ...], says: str
) -> None:
    done = run(one_subscriber, *args)
    assert done.returncode == 2
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_demo_subscribers_sign_in_with_their_demo_password(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "init", "--demo").returncode == 0
    assert sign_in(home, "05055500001", "demo0001") == ["ok False"]
