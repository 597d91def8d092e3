"""End-to-end fixtures: a real Kamailio with denwa's routing, on a fresh DENWA_HOME."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.sip import SipService, free_udp_port, tools_missing


@pytest.fixture(scope="module")
def sip_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SipService]:
    """Kamailio on free ports with the demo subscribers; two interconnect gateways."""
    missing = tools_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the end-to-end tests: {missing}")
        pytest.skip(missing)
    home = tmp_path_factory.mktemp("sip-home")
    port, gateways = free_udp_port(), [free_udp_port(), free_udp_port()]
    (home / "sip.toml").write_text(
        f"listen_port = {port}\n"
        f'gateways = ["127.0.0.1:{gateways[0]}", "127.0.0.1:{gateways[1]}"]\n'
        "children = 2\nmax_call_seconds = 4\ngateway_timeout_seconds = 2\n"
    )
    # The tests call faster than a person dials (2 attempts a second per line, as shipped).
    data = home / "operator-data"
    data.mkdir()
    (data / "protection.csv").write_text("setting,value\nsubscriber_call_attempts_per_second,50\n")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DENWA_HOME=str(home), DENWA_DATA=str(data), DJANGO_SETTINGS_MODULE="denwa.web.settings.dev"
    )
    service = SipService(home=home, port=port, gateways=gateways, env=env)
    init = service.denwa("init", "--demo")
    assert init.returncode == 0, init.stderr
    service.start()
    yield service
    service.stop()


@pytest.fixture
def scenarios_dir(sip_service: SipService) -> Path:
    return sip_service.home
