"""The call path's protection decisions, each from a count the SIP side keeps in shared memory.

Limits are "at the threshold and not one call before": with a limit of N,
N concurrent calls (or N attempts in one second) go through and the next one
is refused; the N-th incomplete call (or failed authentication) in its window
starts the block, and the requests after it are refused.  A limit of 0 is no
limit (a node's capacity limits only: the policy's are at least 1).
"""

from __future__ import annotations

from denwa.core.protection.blocks import Block, BlockRule, BlockTarget
from denwa.core.protection.refusals import Guard, ProtectionRefusal, ProtectionRefusals
from denwa.core.protection.rules import ProtectionRules
from denwa.core.protection.state import Maintenance


def admits_another(in_progress: int, limit: int) -> bool:
    """Whether one more call fits while ``in_progress`` calls hold ``limit`` places."""
    return limit <= 0 or in_progress < limit


def within_rate(attempt: int, limit: int) -> bool:
    """Whether the ``attempt``-th call attempt of one second is within ``limit`` per second."""
    return limit <= 0 or attempt <= limit


def reaches(count: int, limit: int) -> bool:
    """Whether the event just counted (``count`` in its window, itself included) starts a block."""
    return limit > 0 and count >= limit


def maintenance_refusal(
    switch: Maintenance, refusals: ProtectionRefusals
) -> ProtectionRefusal | None:
    """The answer to a new call while the maintenance switch is on (None while it is off)."""
    if not switch.on:
        return None
    return refusals[Guard.MAINTENANCE].telling(switch.message, switch.retry_after_seconds)


def incomplete_calls_block(number: str, now: float, rules: ProtectionRules) -> Block:
    """The block of a line whose incomplete calls reached the limit: its cooling-off period."""
    until = int(now) + rules.incomplete_calls_block_seconds
    return Block(BlockTarget.LINE, number, BlockRule.INCOMPLETE_CALLS, until)


def auth_failures_block(source: str, now: float, rules: ProtectionRules) -> Block:
    """The block of a source address whose failed authentications reached the limit."""
    until = int(now) + rules.auth_block_seconds
    return Block(BlockTarget.SOURCE, source, BlockRule.AUTH_FAILURES, until)


def flood_block(source: str, now: float, seconds: int) -> Block:
    """The block of a source address that flooded the node with requests."""
    return Block(BlockTarget.SOURCE, source, BlockRule.FLOOD, int(now) + seconds)
