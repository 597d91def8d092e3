"""Blocks of a line or a source address, as they live in the SIP side's shared memory.

A block is one item of the ``blocks`` table: the key names what is blocked
(``line:<050 number>`` or ``source:<IP address>``), the value why and until
when (``<rule>|<Unix time>``), and the item expires by itself at that time.
The console lists them and lifts one by deleting its item (Kamailio's RPC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from denwa.core.protection import keys
from denwa.core.protection.refusals import Guard


class BlockTarget(StrEnum):
    """What a block applies to."""

    LINE = "line"  # a subscriber's 050 number: its new calls are refused
    SOURCE = "source"  # an IP address: its requests are refused or dropped


class BlockRule(StrEnum):
    """Which rule put a block in place."""

    INCOMPLETE_CALLS = "incomplete_calls"
    AUTH_FAILURES = "auth_failures"
    FLOOD = "flood"


BLOCK_GUARDS: dict[BlockRule, Guard | None] = {
    BlockRule.INCOMPLETE_CALLS: Guard.INCOMPLETE_CALLS,
    BlockRule.AUTH_FAILURES: Guard.SOURCE_BLOCKED,
    BlockRule.FLOOD: None,
}
"""How a blocked request is answered: with a refusal, or (None) dropped without an answer."""


@dataclass(frozen=True)
class Block:
    """One block: what, why, until when (Unix seconds)."""

    target: BlockTarget
    subject: str
    rule: BlockRule
    until: int

    @property
    def key(self) -> str:
        """The item's key in the blocks table."""
        return block_key(self.target, self.subject)

    @property
    def value(self) -> str:
        """The item's value: the rule and the end of the block."""
        return f"{self.rule.value}|{self.until}"

    @property
    def guard(self) -> Guard | None:
        """The refusal a blocked request gets, or None: dropped."""
        return BLOCK_GUARDS[self.rule]

    @property
    def until_time(self) -> datetime:
        """The end of the block as an aware time."""
        return datetime.fromtimestamp(self.until, tz=UTC)

    def seconds_left(self, now: float) -> int:
        """Whole seconds until the block ends (0 once it has)."""
        return max(0, int(self.until - now))

    @classmethod
    def parse(cls, key: str, value: str) -> Block | None:
        """The block an item of the blocks table holds, or None if it is not one."""
        target, _, subject = key.partition(":")
        rule, _, until = value.partition("|")
        try:
            return cls(BlockTarget(target), subject, BlockRule(rule), int(until))
        except ValueError:
            return None


def block_key(target: BlockTarget, subject: str) -> str:
    """The key of ``subject``'s block (``line:05055500001``, ``source:192.0.2.7``)."""
    return keys.block_key(target.value, subject)
