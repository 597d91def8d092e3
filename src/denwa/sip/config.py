"""SIP service configuration: ports, interconnect gateways, limits.

Defaults here; an operator overrides any of them in ``DENWA_HOME/sip.toml``::

    listen_port = 5060
    gateways = ["127.0.0.1:5070", "127.0.0.1:5071"]   # tried in this order
    max_call_seconds = 14400

Several nodes (README, "Production layout"): one ``[nodes.<name>]`` table per
Kamailio node, each overriding the settings above for that node (at least its
``listen_port`` and ``dmq_port`` when they share an address)::

    [nodes.a]
    listen_port = 5060
    dmq_port = 5090

    [nodes.b]
    listen_port = 5062
    dmq_port = 5092

``denwa sip run --node b`` runs node b; its DMQ peers are the other nodes'
``listen_address:dmq_port`` unless its table names ``dmq_peers`` itself.
Without a ``nodes`` table there is one node and no replication (as before).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from denwa.core.errors import OperatorDataError
from denwa.core.protection.rules import NodeLimits

_LIMITS = NodeLimits()


@dataclass(frozen=True)
class SipConfig:
    """Everything the SIP side needs to know besides the policy snapshot."""

    listen_address: str = "127.0.0.1"
    listen_port: int = 5060
    realm: str = "denwa.local"
    gateways: tuple[str, ...] = ("127.0.0.1:5070",)
    trusted_sources: tuple[str, ...] = ()  # "ip" or "ip:port"; default: the gateways
    max_call_seconds: int = 4 * 3600
    gateway_timeout_seconds: int = 4
    children: int = field(default_factory=lambda: os.cpu_count() or 2)
    """Kamailio's UDP workers: one per CPU.  Each runs its own Python; more workers than
    CPUs only make them evict each other's caches (BENCHMARKS.md, SIP capacity)."""
    shared_memory_mb: int = 256
    private_memory_mb: int = 16
    memory_manager: str = "tlsf"
    """Kamailio's allocator for shared and private memory (``-x``/``-X``): "tlsf", "fm"
    (f_malloc) or "qm" (q_malloc, Kamailio's own default, whose first-fit search of the
    shared memory held its global lock long enough to cap a node at 3,750 calls/s:
    4,500 with tlsf; BENCHMARKS.md, "SIP capacity", "Memory manager")."""
    spool_reserve_mb: int = 64
    """Room the CDR spool's file system keeps for the records of calls in progress: with
    less free, new calls get 503 (README, "Durability and faults"); 64 MB ≈ 250,000 records."""
    spool_full_retry_after_seconds: int = 60
    """The Retry-After of that 503."""
    # The node's capacity (``NodeLimits``; README, "Protection"); 0 switches a check off.
    max_calls: int = _LIMITS.max_calls
    max_calls_per_gateway: int = _LIMITS.max_calls_per_gateway
    max_call_attempts_per_second: int = _LIMITS.max_call_attempts_per_second
    flood_requests_per_second: int = _LIMITS.flood_requests_per_second
    flood_block_seconds: int = _LIMITS.flood_block_seconds
    protections: bool = True
    """False skips every protection step (only to measure what they cost: bench/sip_capacity)."""

    @cached_property
    def limits(self) -> NodeLimits:
        """The node's capacity limits."""
        return NodeLimits(
            self.max_calls,
            self.max_calls_per_gateway,
            self.max_call_attempts_per_second,
            self.flood_requests_per_second,
            self.flood_block_seconds,
        )

    node: str = ""
    """This node's name ("" for a single node): its spool files, its runtime directory, its
    own keys of the replicated counters."""
    dmq_port: int = 0
    """The port of this node's DMQ (node-to-node replication) listener; 0: no replication."""
    dmq_peers: tuple[str, ...] = ()
    """The other nodes' DMQ listeners ("ip:port"); default: from the ``nodes`` tables."""
    nodes_sharing: tuple[str, ...] = ()
    """Every node's name, this one's included: whose counter keys are summed; default: the
    ``nodes`` tables (a node on a host of its own names them here)."""

    @property
    def cluster(self) -> tuple[str, ...]:
        """The names of every node that shares the counters (this one alone on a single node)."""
        return self.nodes_sharing or (self.node,)

    @property
    def peer_nodes(self) -> tuple[str, ...]:
        """The other nodes' names (their ``@<node>`` counter keys are added to this node's)."""
        return tuple(name for name in self.cluster if name != self.node)

    @property
    def node_name(self) -> str:
        """The name this node's spool files and counter keys carry ("sip" for a single node)."""
        return self.node or "sip"

    @property
    def replicated(self) -> bool:
        """Whether this node shares registrations and protection state with other nodes."""
        return self.dmq_port > 0

    @cached_property
    def trusted(self) -> frozenset[str]:
        """Sources ("ip" or "ip:port") whose INVITEs are the interconnect's (no digest auth)."""
        return frozenset(self.trusted_sources or self.gateways)

    @cached_property
    def _trusted_pairs(self) -> frozenset[tuple[str, int]]:
        """The "ip:port" entries of ``trusted`` as (ip, port), for ``is_trusted``."""
        pairs = (entry.rsplit(":", 1) for entry in self.trusted if ":" in entry)
        return frozenset(
            (ip, int(port)) for ip, port in pairs if port.isdigit() and str(int(port)) == port
        )

    def is_trusted(self, ip: str, port: int) -> bool:
        """Whether a request from ``ip:port`` comes from the interconnect.

        An entry of ``trusted`` is either the ip itself or exactly "ip:port".
        """
        return ip in self.trusted or (ip, port) in self._trusted_pairs

    @classmethod
    def load(cls, path: Path | None, node: str | None = None) -> SipConfig:
        """Defaults, overridden by ``path`` (TOML) when it exists, then by ``[nodes.<node>]``.

        ``node`` None: the first node of the ``nodes`` tables (or the single node).
        """
        raw = _read(path)
        nodes = _node_tables(path, raw.pop("nodes", {}))
        base = _settings(path, raw, "")
        if not nodes:
            single = replace(cls(), **base)
            return replace(single, node=node) if node else single
        name = node or next(iter(nodes))
        if name not in nodes:
            known = ", ".join(nodes)
            raise OperatorDataError(path or "sip.toml", None, f"no node {name!r} (nodes: {known})")
        configs = {
            other: replace(cls(), **(base | _settings(path, table, f"nodes.{other}.")), node=other)
            for other, table in nodes.items()
        }
        _check_distinct(path or "sip.toml", configs)
        own = configs[name]
        if "nodes_sharing" not in nodes[name] and "nodes_sharing" not in base:
            own = replace(own, nodes_sharing=tuple(nodes))
        if "dmq_peers" in nodes[name]:
            return own
        peers = tuple(
            f"{other.listen_address}:{other.dmq_port}"
            for other in configs.values()
            if other.node != name
        )
        return replace(own, dmq_peers=peers)

    @classmethod
    def node_names(cls, path: Path | None) -> tuple[str, ...]:
        """The names of the ``nodes`` tables of ``path`` (empty for a single node)."""
        return tuple(_node_tables(path, _read(path).get("nodes", {})))


NODE_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,15}")
"""A node's name: it goes into file names and counter keys (``-`` separates those)."""


def _read(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise OperatorDataError(path, getattr(error, "lineno", None), str(error)) from None


def _node_tables(path: Path | None, nodes: Any) -> dict[str, dict[str, Any]]:
    source = path or "sip.toml"
    if not isinstance(nodes, dict) or not all(isinstance(t, dict) for t in nodes.values()):
        raise OperatorDataError(source, None, "nodes must be tables: [nodes.<name>]")
    for name, table in nodes.items():
        if not NODE_NAME.fullmatch(name):
            raise OperatorDataError(
                source, None, f"node name {name!r}: 1-16 of a-z, 0-9 and _, starting a-z or 0-9"
            )
        if "node" in table:
            raise OperatorDataError(source, None, f"nodes.{name}: the node's name is its table's")
        if len(nodes) > 1 and not table.get("dmq_port"):
            raise OperatorDataError(source, None, f"nodes.{name}: dmq_port is required")
    return nodes


def _settings(path: Path | None, raw: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The settings of one table, each checked against its default's type."""
    source = path or "sip.toml"
    known = {f.name for f in fields(SipConfig)}
    defaults = SipConfig()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise OperatorDataError(source, None, f"unknown setting {prefix}{key!r}")
        default = getattr(defaults, key)
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise OperatorDataError(source, None, f"{prefix}{key} must be a list of strings")
            value = tuple(value)
        elif not isinstance(value, type(default)) or isinstance(value, bool) != isinstance(
            default, bool
        ):
            raise OperatorDataError(
                source, None, f"{prefix}{key} must be a {type(default).__name__}"
            )
        if key == "memory_manager" and value not in MEMORY_MANAGERS:
            managers = ", ".join(MEMORY_MANAGERS)
            raise OperatorDataError(source, None, f"{prefix}{key} must be one of {managers}")
        values[key] = value
    return values


MEMORY_MANAGERS = ("qm", "fm", "tlsf")
"""Kamailio's memory managers (its ``-x``/``-X`` options)."""


def _check_distinct(source: Path | str, configs: dict[str, SipConfig]) -> None:
    """Two nodes never listen on the same address and port (SIP or DMQ)."""
    seen: dict[tuple[str, int], str] = {}
    for config in configs.values():
        for port in (config.listen_port, config.dmq_port):
            where = (config.listen_address, port)
            if where in seen and port:
                raise OperatorDataError(
                    source,
                    None,
                    f"nodes.{config.node}: {where[0]}:{port} is also {seen[where]}'s port",
                )
            seen[where] = config.node
