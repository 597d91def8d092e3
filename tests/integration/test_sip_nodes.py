"""sip.toml with several Kamailio nodes: each node's settings and peers, its runtime files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from denwa.core.errors import OperatorDataError
from denwa.sip.config import SipConfig
from denwa.sip.runtime import kamailio_command, write_runtime

DENWA = Path(sys.executable).parent / "denwa"

TWO_NODES = """
gateways = ["127.0.0.1:5070"]
children = 2

[nodes.a]
listen_port = 5060
dmq_port = 5090

[nodes.b]
listen_port = 5062
dmq_port = 5092
children = 4
"""


def sip_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sip.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_node_gets_the_shared_settings_its_own_and_the_other_nodes_as_peers(
    tmp_path: Path,
) -> None:
    path = sip_toml(tmp_path, TWO_NODES)
    b = SipConfig.load(path, "b")
    assert (b.node, b.listen_port, b.dmq_port, b.children) == ("b", 5062, 5092, 4)
    assert b.gateways == ("127.0.0.1:5070",)
    assert b.dmq_peers == ("127.0.0.1:5090",)
    assert b.replicated


def test_without_a_node_name_the_first_node_is_meant(tmp_path: Path) -> None:
    path = sip_toml(tmp_path, TWO_NODES)
    assert SipConfig.load(path).node == "a"
    assert SipConfig.node_names(path) == ("a", "b")


def test_without_nodes_tables_there_is_one_node_and_no_replication(tmp_path: Path) -> None:
    config = SipConfig.load(sip_toml(tmp_path, "listen_port = 5080\n"))
    assert (config.node, config.node_name, config.replicated) == ("", "sip", False)
    assert SipConfig.node_names(tmp_path / "sip.toml") == ()


def test_a_node_may_name_its_peers_itself(tmp_path: Path) -> None:
    text = TWO_NODES.replace(
        "dmq_port = 5090\n", 'dmq_port = 5090\ndmq_peers = ["10.0.0.2:5092"]\n'
    )
    assert SipConfig.load(sip_toml(tmp_path, text), "a").dmq_peers == ("10.0.0.2:5092",)


@pytest.mark.parametrize(
    ("text", "node", "problem"),
    [
        (TWO_NODES, "c", "no node 'c' (nodes: a, b)"),
        (TWO_NODES.replace("dmq_port = 5092\n", ""), "a", "nodes.b: dmq_port is required"),
        (TWO_NODES.replace("5062", "5060"), "a", "nodes.b: 127.0.0.1:5060 is also a's port"),
        (TWO_NODES.replace("5092", "5060"), "a", "nodes.b: 127.0.0.1:5060 is also a's port"),
        (TWO_NODES.replace("[nodes.b]", "[nodes.B]"), "a", "node name 'B'"),
        (TWO_NODES.replace("children = 4", "children = '4'"), "b", "nodes.b.children must be"),
        (TWO_NODES.replace("children = 4", "colour = 4"), "b", "unknown setting nodes.b.'colour'"),
        (TWO_NODES + '\n[nodes.c]\nnode = "x"\n', "a", "nodes.c: the node's name is its table's"),
        ("nodes = 3\n", None, "nodes must be tables"),
        ('memory_manager = "jemalloc"\n', None, "memory_manager must be one of qm, fm, tlsf"),
    ],
    ids=[
        "unknown-node",
        "no-dmq-port",
        "same-sip-port",
        "dmq-port-is-another-nodes-sip-port",
        "bad-name",
        "wrong-type",
        "unknown-setting",
        "node-key-in-table",
        "nodes-not-tables",
        "unknown-memory-manager",
    ],
)
def test_a_wrong_nodes_table_is_refused_naming_the_problem(
    tmp_path: Path, text: str, node: str | None, problem: str
) -> None:
    with pytest.raises(OperatorDataError, match=re.escape(problem)):
        SipConfig.load(sip_toml(tmp_path, text), node)


def test_kamailio_runs_with_the_memory_manager_sip_toml_names(tmp_path: Path) -> None:
    config = SipConfig.load(sip_toml(tmp_path, 'memory_manager = "fm"\n'))
    command = kamailio_command(tmp_path, config)
    assert command[command.index("-x") + 1] == command[command.index("-X") + 1] == "fm"


def test_each_node_gets_its_own_runtime_directory_and_shares_the_auth_secret(
    tmp_path: Path,
) -> None:
    cfgs = [
        write_runtime(tmp_path, SipConfig(node=node, dmq_port=port))
        for node, port in (("a", 5090), ("b", 5092))
    ]
    assert cfgs == [
        tmp_path / "sip" / "a" / "kamailio.cfg",
        tmp_path / "sip" / "b" / "kamailio.cfg",
    ]
    secret = (tmp_path / "sip" / "auth_secret").read_text()
    assert all(f'"secret", "{secret}"' in cfg.read_text() for cfg in cfgs)
    loader = (tmp_path / "sip" / "b" / "kemi_loader.py").read_text()
    assert "os.environ['DENWA_SIP_NODE'] = 'b'" in loader


def test_every_node_of_the_tables_shares_the_counters(tmp_path: Path) -> None:
    b = SipConfig.load(sip_toml(tmp_path, TWO_NODES), "b")
    assert (b.cluster, b.peer_nodes) == (("a", "b"), ("a",))
    assert (SipConfig().cluster, SipConfig().peer_nodes) == (("",), ())


@pytest.mark.parametrize("command", [("up", "--node", "c"), ("sip", "run", "--node", "c")])
def test_starting_a_node_sip_toml_does_not_have_is_refused_naming_the_nodes(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    sip_toml(tmp_path, TWO_NODES)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DENWA_DATA")}
    env.update(DENWA_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="denwa.web.settings.dev")
    done = subprocess.run(
        [str(DENWA), *command], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "no node 'c' (nodes: a, b)" in done.stderr
    assert not (tmp_path / "sip" / "c").exists()
