"""``denwa demo-calls`` against a node with the shipped protection settings (README)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.sip import SipService, free_udp_port, tools_missing

pytestmark = pytest.mark.e2e


@pytest.fixture
def shipped_node(tmp_path: Path) -> Iterator[SipService]:
    """A node on free ports with the demo data and no operator-data overrides."""
    missing = tools_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the end-to-end tests: {missing}")
        pytest.skip(missing)
    port, gateway = free_udp_port(), free_udp_port()
    (tmp_path / "sip.toml").write_text(
        f'listen_port = {port}\ngateways = ["127.0.0.1:{gateway}"]\nchildren = 2\n'
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DENWA_DATA")}
    env.update(DENWA_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="denwa.web.settings.dev")
    service = SipService(home=tmp_path, port=port, gateways=[gateway], env=env)
    init = service.denwa("init", "--demo")
    assert init.returncode == 0, init.stderr
    service.start()
    yield service
    service.stop()


def test_the_demo_calls_show_the_policys_answers_within_the_shipped_limits(
    shipped_node: SipService,
) -> None:
    done = shipped_node.denwa("demo-calls")
    assert done.returncode == 0, done.stderr
    outcomes = {
        line[:32].strip(): line[32 + 17 + 17 :].split("  ")[0].strip()
        for line in done.stdout.splitlines()[1:]
    }
    assert outcomes == {
        "on-net call to Bob": "answered",
        "fixed line, Tokyo": "answered",
        "mobile": "answered",
        "international, USA": "answered",
        "Carol, given up while ringing": "cancelled 487",
        "110 (police)": "refused 403",
        "0120 freephone": "refused 403",
        "0033 carrier prefix": "refused 403",
    }
