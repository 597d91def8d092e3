"""Every key of the SIP side's shared-memory tables (Kamailio htables), built in one place.

The call path (``denwa.sip.routing``) and the Kamailio cfg (through
``denwa.sip.runtime``) take their keys from here; the console reads them back.

Counters are per node: a key may end in ``@<node>`` (``node=""`` on a single
node adds nothing).  With several nodes (issue 8), each node increments its own
keys and a reader sums the same key over the nodes (``summed``); blocks are
not counters and have no node part, so a block set by one node is in force on
every node that has the item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from denwa.core.protection.rules import MAX_WINDOW_SECONDS
from denwa.core.protection.window import MAX_BUCKETS

BLOCKS_TABLE = "blocks"
"""Blocks: one item per blocked line or source, expiring with the block."""
COUNTERS_TABLE = "counters"
"""Counters of rare events in time buckets (sliding windows): they expire after an hour."""
RATE_TABLE = "rate"
"""Per-second counters (call attempts, requests from one address): they expire in seconds."""
TOTALS_TABLE = "totals"
"""Counters that live as long as the node: refusals per rule."""
SPEND_TABLE = "spend"
"""International spend per line and Asia/Tokyo day: reserved by calls in progress, and ended."""
RESERVED_TABLE = "reserved"
"""Yen reserved by a line's international calls in progress on this node, per day.  Never
replicated: a node's reservations end with it (the other nodes see them as gauges)."""
CALLS_TABLE = "calls"
"""This node's calls in progress, per line and per interconnect gateway: counted when a call
is admitted, released at its dialog's end.  Never replicated: the other nodes see a line's
count as its gauge.  (Counters, not dialog profiles: a profile's size is a walk over every
call in its hash bucket under one lock; BENCHMARKS.md, "With protections".)"""
GAUGES_TABLE = "gauges"
"""With several nodes: each node's calls in progress and reserved yen per line, published
for the other nodes to add (``line_calls_key``, ``reserved_key``)."""

NODE_SEPARATOR = "@"
REFUSED_PREFIX = "refused:"
"""Totals keys ``refused:<rule>``: calls (or requests) refused by each rule since the start."""


@dataclass(frozen=True)
class TableSpec:
    """One htable: its name, size (2^size slots), default expiry and integer start value."""

    name: str
    size: int
    autoexpire: int = 0  # seconds without an update before an item goes; 0: never
    counter: bool = True  # an integer table: a missing item reads 0 and increments from 0
    replicated: bool = True  # with several nodes, every write goes to the others (DMQ)

    @property
    def modparam(self) -> str:
        """The ``htable`` module's ``htable`` parameter for this table (on a single node)."""
        spec = f"{self.name}=>size={self.size};autoexpire={self.autoexpire};"
        return spec + ("initval=0;" if self.counter else "")

    def modparam_on(self, nodes: int) -> str:
        """The ``htable`` parameter on one of ``nodes`` nodes: replicated tables say so."""
        replicate = nodes > 1 and self.replicated
        return self.modparam + ("dmqreplicate=1;" if replicate else "")


COUNTERS_KEEP_SECONDS = MAX_WINDOW_SECONDS + MAX_WINDOW_SECONDS // MAX_BUCKETS
"""The longest a bucket must live: the longest window and one bucket of it."""
RATE_KEEP_SECONDS = 3
"""A per-second counter lives its second and a little: the next seconds have their own keys."""
SPEND_KEEP_SECONDS = 2 * 86400
"""A day's spend outlives the day (calls across midnight release into their start day)."""
BLOCK_DEFAULT_SECONDS = 86400
"""Blocks carry their own expiry; the table needs a default for that to work at all."""
GAUGE_SECONDS = 10
"""A node's gauge lives this long unless the node renews it (every ``GAUGE_RENEW_SECONDS``):
a dead node's calls stop counting on the other nodes within this time."""
GAUGE_RENEW_SECONDS = 2

TABLES = (
    TableSpec(BLOCKS_TABLE, 10, BLOCK_DEFAULT_SECONDS, counter=False),
    TableSpec(COUNTERS_TABLE, 12, COUNTERS_KEEP_SECONDS),
    TableSpec(RATE_TABLE, 10, RATE_KEEP_SECONDS, replicated=False),
    TableSpec(TOTALS_TABLE, 4),
    TableSpec(SPEND_TABLE, 10, SPEND_KEEP_SECONDS),
    TableSpec(RESERVED_TABLE, 10, SPEND_KEEP_SECONDS, replicated=False),
    TableSpec(GAUGES_TABLE, 10, GAUGE_SECONDS),
    TableSpec(CALLS_TABLE, 12, replicated=False),
)
"""Every table the call path uses, as the Kamailio cfg declares them.

With several nodes every table but ``rate`` is replicated over DMQ: a block set on
one node is in force on all; each node writes only its own ``@<node>`` counter
keys, so a replicated write never overwrites another node's count (each key is a
part of a G-counter, the sum over nodes); per-second counts stay each node's own
(a message to every node per call attempt for a one-second count is not worth it).
"""


def _on(key: str, node: str) -> str:
    return f"{key}{NODE_SEPARATOR}{node}" if node else key


def block_key(target: str, subject: str) -> str:
    """The key of ``subject``'s block (``line:05055500001``, ``source:192.0.2.7``)."""
    return f"{target}:{subject}"


def incomplete_calls_key(number: str, bucket: int, node: str = "") -> str:
    """A line's calls given up before the answer in one time bucket (``counters``)."""
    return _on(f"incomplete:{number}:{bucket}", node)


def auth_failures_key(source: str, bucket: int, node: str = "") -> str:
    """A source address's failed digest authentications in one time bucket (``counters``)."""
    return _on(f"auth:{source}:{bucket}", node)


def overload_reported_key(guard: str, minute: int, node: str = "") -> str:
    """Refusals by an overload guard in one minute; the first writes the event (``counters``)."""
    return _on(f"overload:{guard}:{minute}", node)


def attempts_key(second: int, node: str = "") -> str:
    """The node's call attempts in one second (``rate``)."""
    return _on(f"attempts:{second}", node)


def line_attempts_key(number: str, second: int, node: str = "") -> str:
    """A line's call attempts in one second (``rate``)."""
    return _on(f"attempts:{number}:{second}", node)


def flood_key(source: str, second: str) -> str:
    """Requests from one address in one second (``rate``); a node's own limit, never summed.

    The Kamailio cfg builds it from pseudo-variables: ``flood_key("$si", "$Ts")``.
    """
    return f"flood:{source}:{second}"


def refused_key(rule: str, node: str = "") -> str:
    """Calls refused (or requests dropped) by ``rule`` since the node started (``totals``)."""
    return _on(f"{REFUSED_PREFIX}{rule}", node)


def reserved_key(number: str, day: str, node: str = "") -> str:
    """Yen reserved by a line's international calls in progress, of one day (``reserved``;
    with several nodes also its gauge in ``gauges``)."""
    return _on(f"reserved:{number}:{day}", node)


def ended_key(number: str, day: str, node: str = "") -> str:
    """Yen of a line's international calls of one day that ended on this node (``spend``)."""
    return _on(f"ended:{number}:{day}", node)


def line_calls_key(number: str, node: str) -> str:
    """A node's calls in progress of one line (``gauges``): its ``own_line_calls_key``."""
    return f"calls:{number}{NODE_SEPARATOR}{node}"


LINE_CALLS_PREFIX = "line:"


def own_line_calls_key(number: str) -> str:
    """This node's calls in progress of one line (``calls``)."""
    return f"{LINE_CALLS_PREFIX}{number}"


def gateway_calls_key(address: str) -> str:
    """This node's calls in progress towards one gateway, ``sip:ip:port`` (``calls``)."""
    return f"gateway:{address}"


def own_gauge(key: str, node: str) -> tuple[str, str] | None:
    """(kind, subject) of ``node``'s own gauge ``key``: ("calls", line) or ("reserved",
    "line:day"); None for another node's key."""
    kind, _, rest = key.partition(":")
    suffix = f"{NODE_SEPARATOR}{node}"
    if kind not in ("calls", "reserved") or not rest.endswith(suffix):
        return None
    return kind, rest.removesuffix(suffix)


def summed(read: Callable[[str], int], key: Callable[[str], str], nodes: Iterable[str]) -> int:
    """One counter summed over ``nodes`` (``key(node)`` builds its key on each)."""
    return sum(read(key(node)) for node in nodes)


def base_key(key: str) -> str:
    """A key without its node part (how the console groups counters over nodes)."""
    return key.partition(NODE_SEPARATOR)[0]
