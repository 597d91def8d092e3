"""What the call path's protection steps decide from, besides the counters in shared memory.

- ``ProtectionWatcher``: the protection snapshot (``DENWA_HOME/sip/protection.json``:
  maintenance switch, international caps, today's spend) and the protection
  policy its files name, re-read by each worker when the file changes, like the
  policy snapshot (``denwa.sip.snapshot``);
- ``EventSpool``: the events the console ingests (``<node>-<pid>.events.jsonl``,
  one ``write(2)`` per line, like the CDR spool).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from denwa.core.protection import keys
from denwa.core.protection.blocks import Block, BlockTarget
from denwa.core.protection.events import EVENTS_SUFFIX, EventKind, ProtectionEvent, unix_time
from denwa.core.protection.guards import (
    admits_another,
    auth_failures_block,
    flood_block,
    incomplete_calls_block,
    maintenance_refusal,
    reaches,
    within_rate,
)
from denwa.core.protection.hold import puts_on_hold
from denwa.core.protection.keys import (
    BLOCKS_TABLE,
    CALLS_TABLE,
    COUNTERS_TABLE,
    GAUGES_TABLE,
    RATE_TABLE,
    RESERVED_TABLE,
    SPEND_TABLE,
    TOTALS_TABLE,
)
from denwa.core.protection.policy import ProtectionPolicy, load_protection
from denwa.core.protection.refusals import Guard, ProtectionRefusal
from denwa.core.protection.rules import NodeLimits, ProtectionRules
from denwa.core.protection.spend import Reservation, call_cost, reserve
from denwa.core.protection.state import ProtectionState, parse_state
from denwa.core.protection.window import SlidingWindow
from denwa.core.rating.tariffs import Tariff
from denwa.sip.message import SipMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Protection:
    """The protection in force: the published state and the policy (rules, refusal wording)."""

    state: ProtectionState
    policy: ProtectionPolicy


@dataclass
class ProtectionWatcher:
    """Keeps a worker's protection fresh: a stat at most every ``check_every`` seconds.

    Without a snapshot (before the web side first publishes one) the shipped
    policy is in force with the maintenance switch off and the default cap.
    """

    path: Path | None
    check_every: float = 0.5
    _current: Protection | None = None
    _mtime_ns: int = -1
    _checked_at: float = field(default=-1e9)

    def current(self) -> Protection:
        """The freshest protection (the last good one if the file is being replaced or broken)."""
        now = time.monotonic()
        if self._current is None or now - self._checked_at >= self.check_every:
            self._checked_at = now
            self._reload_if_changed()
        if self._current is None:
            policy = load_protection(None)
            state = ProtectionState(default_cap_yen=policy.rules.international_daily_cap_yen)
            self._current = Protection(state, policy)
        return self._current

    def _reload_if_changed(self) -> None:
        if self.path is None:
            return
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._mtime_ns and self._current is not None:
            return
        try:
            state = parse_state(json.loads(self.path.read_text(encoding="utf-8")))
            policy = self._current.policy if self._current else None
            if policy is None or policy.key != state.policy_key:
                policy = load_protection(state.data_dir)
            self._current = Protection(state, policy)
            self._mtime_ns = mtime
        except (OSError, ValueError, KeyError, TypeError):
            return  # keep the last good one; the next check tries again


@dataclass
class EventSpool:
    """Appends events to ``directory/<name>-<pid>.events.jsonl``, one per worker process.

    Events are rare (a block, a hold, a spend-cap refusal, a minute with overload
    refusals): the process id is asked per event rather than tracked through forks.
    """

    directory: Path
    name: str = "sip"
    _fd: int | None = None
    _pid: int = -1

    def append(self, event: ProtectionEvent) -> None:
        """Write one event: one write of one line; ``OSError`` if it cannot."""
        line = (
            json.dumps(event.record(), ensure_ascii=False, separators=(",", ":")) + "\n"
        ).encode()
        if self._fd is None or self._pid != os.getpid():
            self.directory.mkdir(parents=True, exist_ok=True)
            self._pid = os.getpid()
            path = self.directory / f"{self.name}-{self._pid}{EVENTS_SUFFIX}"
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        written = os.write(self._fd, line)
        if written != len(line):
            raise OSError(f"short write to the event spool ({written} of {len(line)} bytes)")


LINE_VAR = "line"
"""Dialog variable of an outbound call: ``<050 number>`` and, for an international call,
``|<reserved yen>|<unit seconds>|<yen per unit>|<day>`` (released at its end)."""
HELD_VAR = "held"
"""Dialog variable: the Unix time the call was put on hold ("" while it is not)."""
GATEWAY_VAR = "gateway"
"""Dialog variable: the gateway (``sip:ip:port``) the call is counted at ("" once it left it)."""
NODE_OVERLOAD_GUARDS = frozenset(
    {Guard.OVERLOAD_CALLS, Guard.OVERLOAD_GATEWAY, Guard.OVERLOAD_RATE}
)
"""Refusals that protect the node: the first of each minute writes an ``overload`` event
(a line at its own limits is the line's business, not an alert)."""


@dataclass(frozen=True)
class LineNote:
    """What an outbound call's dialog notes of its line (``LINE_VAR``): the 050 number and,
    for an international call, its reservation and tariff (yen, unit, price, day)."""

    number: str
    yen: int = 0
    unit_seconds: int = 0
    yen_per_unit: int = 0
    day: str = ""

    def encode(self) -> str:
        """The dialog variable's text."""
        if not self.yen:
            return self.number
        return f"{self.number}|{self.yen}|{self.unit_seconds}|{self.yen_per_unit}|{self.day}"

    @classmethod
    def decode(cls, text: str) -> LineNote:
        """The note a dialog variable holds."""
        number, *spend = text.split("|")
        if len(spend) != 4:
            return cls(number)
        return cls(number, int(spend[0]), int(spend[1]), int(spend[2]), spend[3])


@dataclass
class CallGuards:
    """The protection steps of the call path: each reads or counts in shared memory.

    Each method answers with the refusal the request gets (None: go on); the
    counters, blocks and events it leaves are its side effects.  ``node`` is the
    per-node part of the counters' keys (``denwa.core.protection.keys``).

    A line's and a gateway's calls in progress are counters in ``calls``, counted when
    the call is admitted (or sent to another gateway) and released once, at its
    dialog's end (``call_ended``) or when it cannot be sent at all (``not_relayed``);
    the dialog notes what it holds (``LINE_VAR``, ``GATEWAY_VAR``).

    With several nodes (README, "Production layout") the tables are replicated and
    ``peers`` names the other nodes: a count is this node's key plus every peer's
    (each node writes only its own keys: a G-counter, never a lost update); a line's
    calls in progress are this node's counter plus each peer's published
    gauge, which the peer renews every ``GAUGE_RENEW_SECONDS`` (``renew_gauges``) and
    which goes ``GAUGE_SECONDS`` after the peer stops (a dead node's calls stop
    counting).
    """

    limits: NodeLimits
    watcher: ProtectionWatcher
    events: EventSpool
    node: str = ""
    peers: tuple[str, ...] = ()

    @property
    def rules(self) -> ProtectionRules:
        return self.watcher.current().policy.rules

    def refusal(self, guard: Guard) -> ProtectionRefusal:
        """The wording of ``guard``'s refusal (the operator's table)."""
        return self.watcher.current().policy.refusals[guard]

    # --- new calls ---------------------------------------------------------------------

    def new_call(self, sip: SipMessage, now: float) -> ProtectionRefusal | None:
        """Any new call: the maintenance switch, then the node's attempts and calls."""
        protection = self.watcher.current()
        maintenance = maintenance_refusal(protection.state.maintenance, protection.policy.refusals)
        if maintenance is not None:
            return self._refused(sip, maintenance, now)
        limits = self.limits
        if limits.max_call_attempts_per_second > 0:
            attempt = sip.htable_inc(RATE_TABLE, keys.attempts_key(int(now), self.node))
            if not within_rate(attempt, limits.max_call_attempts_per_second):
                return self._refused(sip, self.refusal(Guard.OVERLOAD_RATE), now)
        if limits.max_calls > 0 and not admits_another(sip.calls_in_progress(), limits.max_calls):
            return self._refused(sip, self.refusal(Guard.OVERLOAD_CALLS), now)
        return None

    def outbound(self, sip: SipMessage, number: str, now: float) -> ProtectionRefusal | None:
        """A subscriber's new call: its block, its attempts per second, its calls in progress."""
        value = sip.htable_get(BLOCKS_TABLE, keys.block_key(BlockTarget.LINE, number))
        block = Block.parse(keys.block_key(BlockTarget.LINE, number), str(value)) if value else None
        if block is not None and block.guard is not None:
            return self._refused(sip, self.refusal(block.guard), now)
        rules = self.rules
        attempt = sip.htable_inc(RATE_TABLE, keys.line_attempts_key(number, int(now), self.node))
        if not within_rate(attempt, rules.subscriber_call_attempts_per_second):
            return self._refused(sip, self.refusal(Guard.SUBSCRIBER_RATE), now)
        calls = _count_of(sip, keys.own_line_calls_key(number)) + self._peers_calls(sip, number)
        if not admits_another(calls, rules.subscriber_max_calls):
            return self._refused(sip, self.refusal(Guard.SUBSCRIBER_CALLS), now)
        return None

    def admitted(self, sip: SipMessage, number: str | None) -> None:
        """Count an admitted outbound call in its line's calls (the node's count itself)."""
        if number is not None:
            calls = sip.htable_inc(CALLS_TABLE, keys.own_line_calls_key(number))
            if self.peers:
                sip.htable_set_int(GAUGES_TABLE, keys.line_calls_key(number, self.node), calls)

    def renew_gauges(self, sip: SipMessage) -> None:
        """Republish this node's calls in progress and reservations per line (a gauge with
        nothing left goes).

        Every ``GAUGE_RENEW_SECONDS`` from the node's timer process, with several nodes.
        """
        reserved = sip.htable_keys(RESERVED_TABLE)
        published = [k for k in sip.htable_keys(GAUGES_TABLE) if keys.own_gauge(k, self.node)]
        counted = [
            keys.line_calls_key(k.removeprefix(keys.LINE_CALLS_PREFIX), self.node)
            for k in sip.htable_keys(CALLS_TABLE)
            if k.startswith(keys.LINE_CALLS_PREFIX)
        ]
        for key in dict.fromkeys(reserved + published + counted):
            kind, subject = keys.own_gauge(key, self.node) or ("", "")
            if kind == "calls":
                self._publish(sip, subject)
            elif kind == "reserved":
                self._publish_reserved(sip, key)

    def _publish_reserved(self, sip: SipMessage, key: str) -> None:
        if not self.peers:
            return
        yen = _int(sip.htable_get(RESERVED_TABLE, key))
        if yen > 0:
            sip.htable_set_int(GAUGES_TABLE, key, yen)
        else:
            sip.htable_delete(GAUGES_TABLE, key)

    def _publish(self, sip: SipMessage, number: str) -> None:
        key = keys.line_calls_key(number, self.node)
        calls = _count_of(sip, keys.own_line_calls_key(number))
        if calls > 0:
            sip.htable_set_int(GAUGES_TABLE, key, calls)
        else:  # a call admitted meanwhile is in ``calls``: the next renewal publishes it
            sip.htable_delete(GAUGES_TABLE, key)

    def _peers_calls(self, sip: SipMessage, number: str) -> int:
        return sum(
            max(0, _int(sip.htable_get(GAUGES_TABLE, keys.line_calls_key(number, peer))))
            for peer in self.peers
        )

    def gateway_with_room(self, sip: SipMessage) -> str | None:
        """Pass over gateways at their limit; count the call at the one chosen.

        Returns what the dialog notes (``GATEWAY_VAR``): the gateway counted at, "" when
        gateways are not counted (no limit); None: every gateway is at its limit.
        """
        limit = self.limits.max_calls_per_gateway
        if limit <= 0:
            return ""
        address = sip.gateway_address()
        while not admits_another(_count_of(sip, keys.gateway_calls_key(address)), limit):
            if not sip.skip_gateway():
                return None
            address = sip.gateway_address()
        sip.htable_inc(CALLS_TABLE, keys.gateway_calls_key(address))
        return address

    def refused_by_gateways(self, sip: SipMessage, now: float) -> ProtectionRefusal:
        """Every gateway is at its limit: the call's refusal."""
        return self._refused(sip, self.refusal(Guard.OVERLOAD_GATEWAY), now)

    def leave_gateway(self, sip: SipMessage) -> None:
        """The call leaves the gateway that failed it (before the next is tried)."""
        address = sip.dialog_var(GATEWAY_VAR)
        if address:
            sip.set_dialog_var(GATEWAY_VAR, "")
            self.release_gateway(sip, address)

    def release_gateway(self, sip: SipMessage, address: str) -> None:
        """One call fewer at ``address`` (a call refused after it was counted there)."""
        _uncount(sip, keys.gateway_calls_key(address))

    def next_gateway(self, sip: SipMessage) -> bool:
        """Fail over: the next gateway with room counts the call (False: none has room)."""
        address = self.gateway_with_room(sip)
        if address:
            sip.set_dialog_var(GATEWAY_VAR, address)
        return address is not None

    def not_relayed(self, sip: SipMessage) -> None:
        """An admitted call that could not be sent on: what it holds is released now.

        Its notes are cleared, so that a dialog event after this releases nothing twice.
        """
        self._leave_line(sip)
        self.leave_gateway(sip)

    def reserve(
        self, sip: SipMessage, number: str, tariff: Tariff, now: float, day: date
    ) -> Reservation | ProtectionRefusal:
        """An international call's reservation against the line's daily cap, or its refusal.

        Read, decided and written under the lock of the line's reserved item, so two
        calls of one line never both take the same rest of the cap.
        """
        protection = self.watcher.current()
        reserved_key = keys.reserved_key(number, day.isoformat(), self.node)
        ended_key = keys.ended_key(number, day.isoformat(), self.node)
        with sip.htable_locked(RESERVED_TABLE, reserved_key):
            reserved = _int(sip.htable_get(RESERVED_TABLE, reserved_key))
            ended = _int(sip.htable_get(SPEND_TABLE, ended_key))
            peers = self._peers_spend(sip, number, day.isoformat())
            spend = protection.state.day_spend(number, day, reserved + peers[0], ended + peers[1])
            reservation = reserve(spend, tariff.unit_seconds, tariff.yen_per_unit, self.rules)
            if reservation is not None:
                sip.htable_set_int(RESERVED_TABLE, reserved_key, reserved + reservation.yen)
                self._publish_reserved(sip, reserved_key)
        if reservation is not None:
            return reservation
        refusal = self._refused(sip, self.refusal(Guard.INTERNATIONAL_SPEND_CAP), now)
        detail = {
            "cap_yen": spend.cap_yen,
            "spent_yen": spend.spent_yen,
            "reserved_yen": spend.reserved_yen,
            "dialled": sip.ruri_user(),
            "yen_per_unit": tariff.yen_per_unit,
            "unit_seconds": tariff.unit_seconds,
        }
        self._event(
            EventKind.REFUSED, now, number=number, call_id=sip.call_id(),
            rule=Guard.INTERNATIONAL_SPEND_CAP.value, detail=detail,
        )  # fmt: skip
        return refusal

    def _peers_spend(self, sip: SipMessage, number: str, day: str) -> tuple[int, int]:
        """(reserved, ended) yen of the line's day on the other nodes (reserved: their gauges,
        gone with a node that stops; ended: spent for good)."""

        def read(table: str) -> Callable[[str], int]:
            return lambda key: max(0, _int(sip.htable_get(table, key)))

        return (
            keys.summed(
                read(GAUGES_TABLE), lambda peer: keys.reserved_key(number, day, peer), self.peers
            ),
            keys.summed(
                read(SPEND_TABLE), lambda peer: keys.ended_key(number, day, peer), self.peers
            ),
        )

    # --- sources -----------------------------------------------------------------------

    def blocked_source(self, sip: SipMessage, now: float) -> ProtectionRefusal | None:
        """A request from a blocked address: its refusal, or None to drop it (a flood)."""
        key = keys.block_key(BlockTarget.SOURCE, sip.source_ip())
        value = sip.htable_get(BLOCKS_TABLE, key)
        block = Block.parse(key, str(value)) if value else None
        if block is None or block.guard is None:
            return None
        return self._refused(sip, self.refusal(block.guard), now)

    def flood(self, sip: SipMessage, now: float) -> None:
        """An address went over the node's requests per second: block it (its requests dropped)."""
        block = flood_block(sip.source_ip(), now, self.limits.flood_block_seconds)
        self._block(sip, block, self.limits.flood_requests_per_second + 1, now)
        sip.htable_inc(TOTALS_TABLE, keys.refused_key(block.rule.value, self.node))

    def auth_failed(self, sip: SipMessage, now: float) -> None:
        """A failed digest authentication: counted per address; the limit-th blocks it."""
        rules = self.rules
        source = sip.source_ip()
        window = SlidingWindow(rules.auth_failures_window_seconds)
        count = self._count(
            sip, window, now, lambda b, node: keys.auth_failures_key(source, b, node)
        )
        if reaches(count, rules.auth_failures_limit):
            self._block(sip, auth_failures_block(source, now, rules), count, now)

    # --- the dialog --------------------------------------------------------------------

    def call_ended(
        self, sip: SipMessage, call: str, cancelled: bool, answer: str | None, ended: float
    ) -> None:
        """A call's end: its reservation released, a cancelled call counted, a hold ended.

        ``call`` is the call's CDR members (``spool.call_fields``), ``answer`` its
        answer time as the CDR has it (None: never answered).
        """
        held = sip.dialog_var(HELD_VAR)
        if held:
            self._resumed(sip, float(held), ended, _subscriber(sip.dialog_var(LINE_VAR), call))
        self.leave_gateway(sip)
        line = self._leave_line(sip, answer, ended)
        if line is not None and cancelled and answer is None:
            self._incomplete(sip, line.number, ended)

    def _leave_line(
        self, sip: SipMessage, answer: str | None = None, ended: float = 0.0
    ) -> LineNote | None:
        """The call leaves its line's calls and releases its reservation (what it talked
        from ``answer`` to ``ended`` is spent); its note is cleared.  The note it had
        (None: none)."""
        noted = sip.dialog_var(LINE_VAR)
        if not noted:
            return None
        sip.set_dialog_var(LINE_VAR, "")
        line = LineNote.decode(noted)
        _uncount(sip, keys.own_line_calls_key(line.number))
        if self.peers:
            self._publish(sip, line.number)
        if line.yen:
            seconds = int(ended - datetime.fromisoformat(answer).timestamp()) if answer else 0
            cost = call_cost(seconds, line.unit_seconds, line.yen_per_unit) if seconds > 0 else 0
            self._release(sip, line, cost)
        return line

    def reinvite(self, sip: SipMessage, call: str, now: float) -> None:
        """A re-INVITE inside a call: a hold starts (``held``) or ends (``resumed``)."""
        holding = puts_on_hold(sip.body())
        if holding is None:
            return
        held = sip.dialog_var(HELD_VAR)
        if holding and not held:
            sip.set_dialog_var(HELD_VAR, repr(now))
            number = _subscriber(sip.dialog_var(LINE_VAR), call)
            self._event(EventKind.HELD, now, number=number, call_id=sip.dialog_call_id())
        elif not holding and held:
            sip.set_dialog_var(HELD_VAR, "")
            self._resumed(sip, float(held), now, _subscriber(sip.dialog_var(LINE_VAR), call))

    # --- helpers -----------------------------------------------------------------------

    def _resumed(self, sip: SipMessage, held: float, now: float, number: str) -> None:
        detail = {"held_seconds": max(0, int(now - held))}
        self._event(
            EventKind.RESUMED, now, number=number, call_id=sip.dialog_call_id(), detail=detail
        )

    def _release(self, sip: SipMessage, line: LineNote, cost: int) -> None:
        reserved_key = keys.reserved_key(line.number, line.day, self.node)
        ended_key = keys.ended_key(line.number, line.day, self.node)
        with sip.htable_locked(RESERVED_TABLE, reserved_key):
            reserved = _int(sip.htable_get(RESERVED_TABLE, reserved_key))
            sip.htable_set_int(RESERVED_TABLE, reserved_key, max(0, reserved - line.yen))
            self._publish_reserved(sip, reserved_key)
            if cost:
                ended = _int(sip.htable_get(SPEND_TABLE, ended_key))
                sip.htable_set_int(SPEND_TABLE, ended_key, ended + cost)

    def _incomplete(self, sip: SipMessage, number: str, now: float) -> None:
        rules = self.rules
        window = SlidingWindow(rules.incomplete_calls_window_seconds)
        count = self._count(
            sip, window, now, lambda b, node: keys.incomplete_calls_key(number, b, node)
        )
        if reaches(count, rules.incomplete_calls_limit):
            self._block(sip, incomplete_calls_block(number, now, rules), count, now)

    def _count(
        self,
        sip: SipMessage,
        window: SlidingWindow,
        now: float,
        key: Callable[[int, str], str],
    ) -> int:
        """Count one event in its bucket (this node's key); the events in the window on every
        node, this one included."""
        current = window.bucket(now)
        counted = sip.htable_inc(COUNTERS_TABLE, key(current, self.node))

        def read(item: str) -> int:
            return max(0, _int(sip.htable_get(COUNTERS_TABLE, item)))

        def bucket_count(bucket: int) -> int:
            own = counted if bucket == current else read(key(bucket, self.node))
            return own + keys.summed(read, lambda peer: key(bucket, peer), self.peers)

        return window.count(bucket_count, now)

    def _block(self, sip: SipMessage, block: Block, count: int, now: float) -> None:
        if sip.htable_get(BLOCKS_TABLE, block.key):
            return  # already blocked (by another worker a moment ago)
        sip.htable_set(BLOCKS_TABLE, block.key, block.value, block.seconds_left(now) or 1)
        number = block.subject if block.target is BlockTarget.LINE else ""
        source = block.subject if block.target is BlockTarget.SOURCE else ""
        self._event(
            EventKind.BLOCKED, now, number=number, source=source, rule=block.rule.value,
            count=count, until=block.until_time,
        )  # fmt: skip

    def _refused(
        self, sip: SipMessage, refusal: ProtectionRefusal, now: float
    ) -> ProtectionRefusal:
        sip.htable_inc(TOTALS_TABLE, keys.refused_key(refusal.guard.value, self.node))
        if refusal.guard in NODE_OVERLOAD_GUARDS:
            minute = int(now // 60)
            key = keys.overload_reported_key(refusal.guard.value, minute, self.node)
            if sip.htable_inc(COUNTERS_TABLE, key) == 1:
                self._event(EventKind.OVERLOAD, now, rule=refusal.guard.value)
        return refusal

    def _event(self, kind: EventKind, now: float, **fields: Any) -> None:
        try:
            self.events.append(ProtectionEvent(kind, unix_time(now), **fields))
        except OSError:
            logger.exception("protection event %s not written", kind.value)


def _count_of(sip: SipMessage, key: str) -> int:
    """This node's calls in progress under ``key`` (``calls``)."""
    return max(0, _int(sip.htable_get(CALLS_TABLE, key)))


def _uncount(sip: SipMessage, key: str) -> None:
    """One call fewer under ``key``; an item with none left goes (never below 0).

    Under the item's lock, which an increment also takes: a call counted meanwhile
    waits and counts from 0 again, instead of being deleted with the item.
    """
    with sip.htable_locked(CALLS_TABLE, key):
        if sip.htable_dec(CALLS_TABLE, key) <= 0:
            sip.htable_delete(CALLS_TABLE, key)


def _int(value: object) -> int:
    try:
        return int(value) if value is not None else 0  # type: ignore[call-overload]
    except ValueError:
        return 0


def _subscriber(noted: str | None, call: str) -> str:
    """The subscriber a call is about: the caller of an outbound call, else the callee."""
    if noted:
        return LineNote.decode(noted).number
    if not call:
        return ""
    try:
        return str(json.loads("{" + call + "}").get("callee", ""))
    except ValueError:
        return ""
