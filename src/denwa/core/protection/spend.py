"""The daily international spending cap against toll fraud (SPEC §7).

A subscriber's international calls of one Asia/Tokyo day may cost at most the
cap (tax-exclusive yen, as the CDRs are rated).  What counts against it is
what the rated CDRs of the day cost plus the worst case of the calls still in
progress.  A new international call reserves its own worst case: the price of
its reserved length, which is the smaller of ``international_reservation_seconds``
and what the rest of the cap buys; the call is admitted only if that is at least
``international_min_call_seconds``, and it is ended at that length.  So the
cap holds even while calls are in progress: the refused call is the one the
rest of the day's cap cannot pay a minimal call for.
"""

from __future__ import annotations

from dataclasses import dataclass

from denwa.core.protection.rules import ProtectionRules
from denwa.core.rating.calls import units_for

TIMER_MARGIN_SECONDS = 2
"""A reserved call is ended this much before its reserved length: the answer time the
CDR records and the dialog timer's start differ by milliseconds, and one second more
would be billed as one unit more."""


@dataclass(frozen=True)
class DaySpend:
    """A subscriber's international spending on one day, as the call path knows it."""

    cap_yen: int
    spent_yen: int
    reserved_yen: int = 0

    @property
    def remaining_yen(self) -> int:
        """What the cap still allows for a new call."""
        return max(0, self.cap_yen - self.spent_yen - self.reserved_yen)


@dataclass(frozen=True)
class Reservation:
    """A new international call's worst case: its longest length and that length's price."""

    seconds: int
    yen: int

    @property
    def timeout_seconds(self) -> int:
        """The call's maximum length (its dialog timeout)."""
        return max(1, self.seconds - TIMER_MARGIN_SECONDS)


def spent_today(published_yen: int, ended_on_node_yen: int) -> int:
    """What the day's ended calls cost, from the two views the call path has.

    ``published_yen`` comes from the rated CDRs (the snapshot the web side
    publishes); ``ended_on_node_yen`` is what this node saw its calls end at
    since the day began (the CDRs not yet rated are only there).  Both count the
    same calls when they are up to date, so the larger is the better lower bound
    of the truth; the difference lasts no longer than the ingest's delay.
    """
    return max(published_yen, ended_on_node_yen)


def reserve(
    spend: DaySpend, unit_seconds: int, yen_per_unit: int, rules: ProtectionRules
) -> Reservation | None:
    """The reservation of a new call at ``yen_per_unit`` per ``unit_seconds``, or None to refuse."""
    longest = rules.international_reservation_seconds
    if yen_per_unit > 0:
        affordable_units = spend.remaining_yen // yen_per_unit
        longest = min(longest, affordable_units * unit_seconds)
    if longest < rules.international_min_call_seconds:
        return None
    return Reservation(longest, units_for(longest, unit_seconds) * yen_per_unit)


def call_cost(seconds: int, unit_seconds: int, yen_per_unit: int) -> int:
    """What a call of ``seconds`` (answer to end, whole seconds) costs: started units."""
    return units_for(seconds, unit_seconds) * yen_per_unit
