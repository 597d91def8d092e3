"""The Kamailio cfg: its interconnect test is ``SipConfig.is_trusted``; its replication."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from denwa.core.protection.keys import CALLS_TABLE, RATE_TABLE, RESERVED_TABLE, TABLES
from denwa.sip.config import SipConfig
from denwa.sip.runtime import (
    dmq_modules,
    dmq_route,
    interconnect_route,
    protection_params,
    replication,
)

CONDITION = re.compile(r'\tif \(\$si == "([^"]*)"(?: && \$sp == (\d+))?\) \{ return 1; \}\n')


def cfg_trusts(body: str, ip: str, port: int) -> bool:
    """Evaluate the rendered route body for a source (only the two forms it may contain)."""
    conditions = CONDITION.findall(body)
    assert CONDITION.sub("", body) == "", f"unexpected cfg text in {body!r}"
    return any(
        ip == want_ip and (not want_port or port == int(want_port))
        for want_ip, want_port in conditions
    )


hosts = st.sampled_from(["127.0.0.1", "10.0.0.1", "::1", "::", ":", "gw.example", '1.2.3.4"; exit'])
ports = st.integers(0, 70000)
entries = st.one_of(
    hosts,
    st.builds(lambda h, p: f"{h}:{p}", hosts, ports | st.sampled_from(["", "x", "05070", "٣"])),
)


@given(st.lists(entries, max_size=4), hosts, ports)
def test_the_cfg_trusts_a_source_exactly_when_the_python_side_does(
    trusted: list[str], ip: str, port: int
) -> None:
    config = SipConfig(trusted_sources=tuple(trusted))
    if ip in ("::", ":", "gw.example") or '"' in ip:
        return  # never a source address Kamailio reports
    assert cfg_trusts(interconnect_route(config), ip, port) is config.is_trusted(ip, port)


@pytest.mark.parametrize(
    ("trusted", "body"),
    [
        (("127.0.0.1:5070",), '\tif ($si == "127.0.0.1" && $sp == 5070) { return 1; }\n'),
        (("10.0.0.1",), '\tif ($si == "10.0.0.1") { return 1; }\n'),
        (("gw.example:5060",), ""),
        (('1.2.3.4"; exit; "',), ""),
    ],
    ids=["ip-and-port", "any-port", "host-name", "not-an-address"],
)
def test_only_addresses_reach_the_cfg(trusted: tuple[str, ...], body: str) -> None:
    assert interconnect_route(SipConfig(trusted_sources=trusted)) == body


def test_a_single_node_replicates_nothing() -> None:
    config = SipConfig()
    assert (replication(config), dmq_route(config)) == ("", "\treturn;\n")


def test_a_node_of_several_replicates_registrations_with_its_peers_over_dmq() -> None:
    config = SipConfig(node="a", dmq_port=5090, dmq_peers=("127.0.0.1:5092", "10.0.0.3:5090"))
    lines = replication(config).splitlines()
    assert "listen=udp:127.0.0.1:5090" in lines
    assert 'modparam("dmq", "server_address", "sip:127.0.0.1:5090")' in lines
    assert 'modparam("dmq", "notification_address", "sip:127.0.0.1:5092")' in lines
    assert 'modparam("dmq", "notification_address", "sip:10.0.0.3:5090")' in lines
    assert 'modparam("dmq_usrloc", "enable", 1)' in lines
    assert "$Rp == 5090 && dmq_is_from_node()" in dmq_route(config)


def test_with_several_nodes_every_protection_table_but_the_nodes_own_is_replicated() -> None:
    config = SipConfig(node="a", dmq_port=5090, nodes_sharing=("a", "b"))
    params = protection_params(config)
    replicated = {
        line.split('"')[5].split("=>")[0]
        for line in params.splitlines()
        if "dmqreplicate=1;" in line
    }
    assert replicated == {t.name for t in TABLES} - {RATE_TABLE, RESERVED_TABLE, CALLS_TABLE}
    assert "dmqreplicate" not in protection_params(SipConfig())
    assert 'loadmodule "dmq.so"' in dmq_modules(config)
    assert 'modparam("htable", "enable_dmq", 1)' in replication(config)
