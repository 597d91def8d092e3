"""The protection parts of the Kamailio cfg and the htable keys the call path uses."""

from __future__ import annotations

import pytest

from denwa.core.protection import keys
from denwa.sip.config import SipConfig
from denwa.sip.runtime import in_dialog_invite, protection_params, source_route

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (keys.incomplete_calls_key("05055500001", 7), "incomplete:05055500001:7"),
        (keys.incomplete_calls_key("05055500001", 7, "b"), "incomplete:05055500001:7@b"),
        (keys.auth_failures_key("192.0.2.7", 3), "auth:192.0.2.7:3"),
        (keys.attempts_key(1795000000), "attempts:1795000000"),
        (keys.line_attempts_key("05055500001", 5, "a"), "attempts:05055500001:5@a"),
        (keys.refused_key("maintenance"), "refused:maintenance"),
        (keys.reserved_key("05055500001", "2026-11-25"), "reserved:05055500001:2026-11-25"),
        (keys.flood_key("$si", "$Ts"), "flood:$si:$Ts"),
        (keys.block_key("source", "192.0.2.7"), "source:192.0.2.7"),
    ],
    ids=["bucket", "bucket-on-node", "auth", "node-second", "line-second", "refused", "spend",
         "flood-in-cfg", "block"],
)  # fmt: skip
def test_every_key_is_built_in_one_place(key: str, expected: str) -> None:
    assert key == expected


def test_a_counter_key_without_its_node_part_groups_the_nodes() -> None:
    assert keys.base_key("refused:maintenance@b") == "refused:maintenance"
    assert keys.summed({"k@a": 2, "k@b": 3}.__getitem__, lambda n: f"k@{n}", ("a", "b")) == 5


def test_counter_tables_start_at_zero_and_blocks_expire_by_themselves() -> None:
    params = protection_params(SipConfig())
    assert 'modparam("htable", "htable", "blocks=>size=10;autoexpire=86400;")' in params
    assert "counters=>size=12;autoexpire=3780;initval=0;" in params
    assert "rate=>size=10;autoexpire=3;initval=0;" in params
    assert "calls=>size=12;autoexpire=0;initval=0;" in params  # released by the calls' ends
    assert "dialog" not in params  # no dialog profiles: their size is a walk under a lock


def test_the_cfg_drops_floods_over_the_nodes_limit_and_hands_blocked_sources_to_python() -> None:
    route = source_route(SipConfig(flood_requests_per_second=50))
    assert route.startswith("\tif (has_totag() || route(INTERCONNECT)) {\n\t\treturn;")
    assert "if ($sht(blocks=>source:$si) != $null)" in route
    assert '$sht(blocks=>source:$si) =~ "^flood[|]") {\n\t\t\texit;' in route  # no Python
    assert "$var(requests) = $shtinc(rate=>flood:$si:$Ts);" in route
    assert "if ($var(requests) > 50)" in route
    assert "if ($var(requests) == 51)" in route
    assert 'python_exec("ksr_source_blocked")' in route


def test_a_flood_limit_of_0_leaves_only_the_block_check() -> None:
    route = source_route(SipConfig(flood_requests_per_second=0))
    assert "shtinc" not in route
    assert "ksr_source_blocked" in route


def test_without_protections_the_cfg_checks_nothing() -> None:
    off = SipConfig(protections=False)
    assert source_route(off) == "\treturn;\n"
    assert in_dialog_invite(off) == ""
    assert "ksr_in_dialog_invite" in in_dialog_invite(SipConfig())
