"""SIP routing as a sequence of small named steps (Kamailio's basic KEMI example, our policy).

``Router.request`` runs for every request that needs deciding: the Kamailio cfg
(``kamailio.cfg.template``) has already dropped malformed requests and handled
CANCEL, requests inside a dialog and retransmissions, which decide nothing.  Each
step either finishes the request (reply, relay, drop) by returning ``DONE`` or
lets the next one run.  Every admit/refuse decision comes from the core's
``decide``; every INVITE leaves exactly one CDR (refused now, the others when the
dialog ends).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from denwa.core.contracts.lifecycle import State
from denwa.core.numbering.classes import CallClass, Direction, Privacy
from denwa.core.policy.decision import Admit, CallRequest, Refuse, Route, decide
from denwa.core.protection.refusals import ProtectionRefusal
from denwa.core.timeutil import billing_date
from denwa.sip.config import SipConfig
from denwa.sip.message import SipMessage
from denwa.sip.protection import GATEWAY_VAR, LINE_VAR, CallGuards, LineNote
from denwa.sip.snapshot import PolicySnapshot, SnapshotWatcher
from denwa.sip.spool import CdrSpool, call_fields, iso

DONE = True
NEXT = False

CANCELLED = 487
AUTH_OK = 1
AUTH_NONCE_STALE = -4  # auth module: the nonce expired, challenge again
REGISTRATION_REFUSED_STATES = frozenset({State.TERMINATED, State.APPLIED})
SPOOL_FULL = "spool_full"
"""The ``X-Denwa-Refusal`` of a call refused because the CDR spool has no room."""
ZENKOKU_CALL_HEADER = "X-Denwa-Caller-Service"
"""The interconnect's indication of the caller's services (e.g. ``zenkoku_call``)."""


CALL_VAR = "call"
"""The dialog variable with the call's CDR members (``spool.call_fields``), set by its INVITE.

A call's dialog events may run in any Kamailio worker, so what its records need
travels with the dialog: in one variable, since each costs Kamailio shared memory.
"""
ANSWER_VAR = "answer"
"""The dialog variable with the answer time (``spool.iso``), set at ``dialog:start``."""


@dataclass
class Router:
    """denwa's request route (register, invite, other) and the dialog's events."""

    config: SipConfig
    snapshots: SnapshotWatcher
    spool: CdrSpool
    clock: Callable[[], float] = field(default=time.time)
    guards: CallGuards | None = None
    """The protection steps (README, "Protection"); None: none (``protections = false``)."""
    _steps: tuple[Callable[[SipMessage], bool], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._steps = (self.register, self.spool_room, self.invite, self.other_method)

    def request(self, sip: SipMessage) -> None:
        """Route one SIP request."""
        for step in self._steps:
            if step(sip) is DONE:
                return

    # --- steps --------------------------------------------------------------------

    def register(self, sip: SipMessage) -> bool:
        """REGISTER with digest authentication against the snapshot's HA1."""
        if sip.method() != "REGISTER":
            return NEXT
        snapshot = self.snapshots.current()
        if not self._authenticated(sip, snapshot, proxy=False):
            return DONE
        subscriber = snapshot.find(sip.from_user())
        if subscriber is None or subscriber.state in REGISTRATION_REFUSED_STATES:
            sip.reply(403, "Forbidden")
            return DONE
        if not sip.save_location():
            sip.reply(500, "Server Internal Error")
        return DONE

    def spool_room(self, sip: SipMessage) -> bool:
        """A new call needs room for its records: with the spool's disk full, 503 + Retry-After.

        No call is accepted without a record (``CdrSpool.has_room``: the file system at
        most once a second, and whether the last write failed).  The refusal cannot be
        written to the full spool: the node logs the change of state and the protection
        watch raises the spool-disk alert (README, "Durability and faults").
        """
        if sip.method() != "INVITE" or self.spool.has_room():
            return NEXT
        sip.reply(
            503,
            "Service Unavailable",
            [
                f"Retry-After: {self.config.spool_full_retry_after_seconds}",
                'Reason: SIP;cause=503;text="CDR spool full"',
                f"X-Denwa-Refusal: {SPOOL_FULL}",
            ],
        )
        return DONE

    def invite(self, sip: SipMessage) -> bool:
        """A new call: from the interconnect (trusted source) or from a subscriber."""
        if sip.method() != "INVITE":
            return NEXT
        started = self.clock()
        snapshot = self.snapshots.current()
        if self.config.is_trusted(sip.source_ip(), sip.source_port()):
            self._inbound(sip, snapshot, started)
        else:
            self._outbound(sip, snapshot, started)
        return DONE

    def other_method(self, sip: SipMessage) -> bool:
        """OPTIONS keep-alives get 200; anything else out of dialog is refused."""
        if sip.method() == "OPTIONS":
            sip.reply(200, "OK")
        elif sip.method() != "ACK":
            sip.reply(
                405, "Method Not Allowed", ["Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER"]
            )
        return DONE

    # --- calls ----------------------------------------------------------------------

    def _outbound(self, sip: SipMessage, snapshot: PolicySnapshot, started: float) -> None:
        if not self._authenticated(sip, snapshot, proxy=True):
            return
        caller = snapshot.find(sip.from_user())
        if caller is None:
            sip.reply(403, "Forbidden")
            return
        if self.guards is not None:
            refusal = self.guards.new_call(sip, started) or self.guards.outbound(
                sip, caller.number, started
            )
            if refusal is not None:
                self._refused(sip, refusal.sip_code, refusal.headers(), started, caller.number)
                return
        request = CallRequest(
            Direction.OUT, sip.ruri_user(), billing_date_of(started), caller=caller
        )
        decision = decide(request, snapshot.data, snapshot)
        if isinstance(decision, Refuse):
            self._refuse(sip, decision, started, caller.number)
            return
        self._admit(sip, decision, started, caller.number, line=caller.number)

    def _inbound(self, sip: SipMessage, snapshot: PolicySnapshot, started: float) -> None:
        asserted = sip.asserted_user() or sip.from_user()
        remote = None if asserted.lower() in ("", "anonymous") else asserted
        services = frozenset(
            s.strip() for s in (sip.header(ZENKOKU_CALL_HEADER) or "").split(",") if s.strip()
        )
        if self.guards is not None and (refusal := self.guards.new_call(sip, started)):
            self._refused(sip, refusal.sip_code, refusal.headers(), started, remote or "anonymous")
            return
        request = CallRequest(
            Direction.IN,
            sip.ruri_user(),
            billing_date_of(started),
            remote_number=remote,
            caller_services=services,
        )
        decision = decide(request, snapshot.data, snapshot)
        if isinstance(decision, Refuse):
            self._refuse(sip, decision, started, remote or "anonymous")
            return
        self._admit(sip, decision, started, remote or "anonymous", inbound=True)

    def _admit(
        self,
        sip: SipMessage,
        decision: Admit,
        started: float,
        caller: str,
        inbound: bool = False,
        line: str | None = None,
    ) -> None:
        """Relay an admitted call; ``line``: the caller's 050 number of an outbound call."""
        dialled = sip.ruri_user()
        callee = dialled if inbound else (decision.number or dialled)
        call = call_fields(sip.call_id(), caller, callee, started)
        if decision.route is Route.SUBSCRIBER:
            if not sip.lookup_location(callee):
                sip.reply(480, "Temporarily Unavailable")
                self.spool.append_cdr(call, None, iso(started), "no_answer", 480)
                return
            sip.record_route()
            guarded = self._guarded(sip, decision, started, call, line)
            if guarded is None:
                return
            self._track(sip, guarded, line)
            sip.watch_failures()
            if not sip.relay():
                self._not_relayed(sip)
            return
        if callee != dialled:
            sip.set_ruri_user(callee)
        sip.remove_header("P-Asserted-Identity")
        sip.add_header(f"P-Asserted-Identity: <sip:{caller}@{self.config.realm}>")
        if decision.privacy is Privacy.WITHHOLD:
            sip.add_header("Privacy: id")
        sip.record_route()
        if not sip.select_gateway():
            sip.reply(503, "Service Unavailable", ["Retry-After: 30"])
            return
        guarded = self._guarded(sip, decision, started, call, line, gateway=True)
        if guarded is None:
            return
        self._track(sip, guarded, line)
        if not sip.relay_to_gateway():
            self._not_relayed(sip)

    def _guarded(
        self,
        sip: SipMessage,
        decision: Admit,
        started: float,
        call: str,
        line: str | None,
        gateway: bool = False,
    ) -> tuple[dict[str, str], int | None] | None:
        """The admitted call's last protection steps: a gateway with room, the spend cap.

        Returns the dialog's variables and maximum length, or None: refused (answered).
        """
        variables = {CALL_VAR: call}
        guards = self.guards
        if guards is None:
            return variables, None
        refusal: ProtectionRefusal | None = None
        max_seconds = None
        counted_at = guards.gateway_with_room(sip) if gateway else ""
        if counted_at is None:
            refusal = guards.refused_by_gateways(sip, started)
        elif line is not None:
            noted = LineNote(line)
            tariff = decision.tariff
            if decision.call_class is CallClass.INTERNATIONAL and tariff is not None:
                day = billing_date_of(started)
                reserved = guards.reserve(sip, line, tariff, started, day)
                if isinstance(reserved, ProtectionRefusal):
                    refusal = reserved
                else:
                    max_seconds = reserved.timeout_seconds
                    per_unit = (tariff.unit_seconds, tariff.yen_per_unit)
                    noted = LineNote(line, reserved.yen, *per_unit, day.isoformat())
            variables[LINE_VAR] = noted.encode()
        if refusal is not None:
            if counted_at:
                guards.release_gateway(sip, counted_at)
            self._refused(sip, refusal.sip_code, refusal.headers(), started, line or "anonymous")
            return None
        if counted_at:
            variables[GATEWAY_VAR] = counted_at
        return variables, max_seconds

    def _track(
        self, sip: SipMessage, guarded: tuple[dict[str, str], int | None], line: str | None
    ) -> None:
        """The admitted call's dialog, then its count in its line's calls.

        In this order: the dialog notes what the call holds (``LINE_VAR``), which its
        end releases, and the line's published gauge (several nodes) includes the call.
        """
        sip.track_dialog(*guarded)
        if self.guards is not None:
            self.guards.admitted(sip, line)

    def _not_relayed(self, sip: SipMessage) -> None:
        """The admitted call could not be sent on (no route to the next hop): 503."""
        if self.guards is not None:
            self.guards.not_relayed(sip)
        sip.reply(503, "Service Unavailable", ["Retry-After: 30"])

    # --- failures and dialog events -------------------------------------------------------

    def gateway_failure(self, sip: SipMessage) -> None:
        """A gateway answered 5xx or timed out: try the next one; otherwise note the failure."""
        if sip.is_cancelled():
            sip.set_dialog_var("final_code", str(CANCELLED))
            return
        code = sip.final_reply_code()
        if code >= 500 or code == 408:
            if self.guards is not None:
                self.guards.leave_gateway(sip)
            if sip.skip_gateway() and (self.guards is None or self.guards.next_gateway(sip)):
                if sip.relay_to_gateway():
                    return
                if self.guards is not None:
                    self.guards.leave_gateway(sip)
        sip.set_dialog_var("final_code", str(code))

    def subscriber_failure(self, sip: SipMessage) -> None:
        """The called TA did not answer: keep the final code for the CDR."""
        code = CANCELLED if sip.is_cancelled() else sip.final_reply_code()
        sip.set_dialog_var("final_code", str(code))

    def dialog_timeout(self, sip: SipMessage) -> None:
        """The maximum call length is reached: write the CDR now; the dialog module sends BYEs.

        Marked as written, so that a ``dialog:end`` after the BYEs writes no second CDR.
        """
        self._write_cdr(sip, "answered", ended=self.clock(), mark_written=True)

    def dialog_event(self, sip: SipMessage, event: str) -> None:
        """dialog:start → note the answer time; dialog:end/failed → write the call's CDR."""
        now = self.clock()
        if event == "dialog:start":
            self._journal_answer(sip, now)
        elif event == "dialog:end":
            self._write_cdr(sip, "answered", ended=now)
        elif event == "dialog:failed":
            code = _int(sip.dialog_var("final_code")) or sip.final_reply_code()
            self._write_cdr(sip, FAILURE_DISPOSITIONS.get(code, "failed"), code, ended=now)

    def _call(self, sip: SipMessage, moment: float) -> str:
        """The current dialog's call, as its INVITE noted it (``spool.call_fields``)."""
        noted = sip.dialog_var(CALL_VAR)
        if noted:
            return noted
        return call_fields(sip.dialog_call_id(), sip.from_user(), sip.ruri_user(), moment)

    def _journal_answer(self, sip: SipMessage, answered: float) -> None:
        """Note the answered call now, so a call whose end never comes is still billed."""
        answer = iso(answered)
        sip.set_dialog_var(ANSWER_VAR, answer)
        max_end = iso(answered + self.config.max_call_seconds)
        self.spool.append_journal(self._call(sip, answered), answer, max_end)

    def _write_cdr(
        self,
        sip: SipMessage,
        disposition: str,
        sip_code: int | None = None,
        *,
        ended: float,
        mark_written: bool = False,
    ) -> None:
        if sip.dialog_var("cdr_written"):
            return  # one CDR per call, whichever of the timeout and the end comes first
        if mark_written:
            sip.set_dialog_var("cdr_written", "1")
        answer = sip.dialog_var(ANSWER_VAR) if disposition == "answered" else None
        if disposition == "answered" and not answer:
            disposition = "failed"
        call = self._call(sip, ended)
        self.spool.append_cdr(call, answer, iso(ended), disposition, sip_code)
        if self.guards is not None:
            self.guards.call_ended(sip, call, sip_code == CANCELLED, answer, ended)

    # --- protection entry points of the cfg ----------------------------------------------

    def source_blocked(self, sip: SipMessage) -> None:
        """A request from a blocked address: refused (failed authentications) or dropped (flood)."""
        refusal = self.guards.blocked_source(sip, self.clock()) if self.guards else None
        if refusal is not None:
            sip.reply(refusal.sip_code, _reason_phrase(refusal.sip_code), refusal.headers())

    def flooding(self, sip: SipMessage) -> None:
        """An address just went over the node's requests per second: it is blocked (dropped)."""
        if self.guards is not None:
            self.guards.flood(sip, self.clock())

    def in_dialog_invite(self, sip: SipMessage) -> None:
        """A re-INVITE with SDP inside a call (the cfg relays it): a hold starts or ends."""
        if self.guards is not None:
            self.guards.reinvite(sip, sip.dialog_var(CALL_VAR) or "", self.clock())

    def _refuse(self, sip: SipMessage, refusal: Refuse, started: float, caller: str) -> None:
        text = refusal.text
        headers = [
            f'Reason: SIP;cause={text.sip_code};text="{text.reason_en}"',
            f"X-Denwa-Refusal: {refusal.reason.value}",
            f"X-Denwa-Announcement: {text.announcement_ja}",
        ]
        self._refused(sip, text.sip_code, headers, started, caller)

    def _refused(
        self, sip: SipMessage, code: int, headers: list[str], started: float, caller: str
    ) -> None:
        """Answer a refused call and write its CDR (the policy's or a protection rule's)."""
        sip.reply(code, _reason_phrase(code), headers)
        call = call_fields(sip.call_id(), caller, sip.ruri_user(), started)
        self.spool.append_cdr(call, None, iso(started), "refused", code)

    def _authenticated(self, sip: SipMessage, snapshot: PolicySnapshot, proxy: bool) -> bool:
        """Digest-authenticate the sender as the From user; challenge or refuse otherwise."""
        user = sip.from_user()
        authenticating = sip.auth_username()
        if authenticating is None:
            sip.challenge(self.config.realm, proxy)
            return False
        credentials = snapshot.credentials(user)
        if credentials is None or authenticating != user:
            self._auth_failed(sip)
            return False
        result = sip.check_auth(self.config.realm, credentials.ha1, proxy)
        if result < AUTH_OK:
            if result == AUTH_NONCE_STALE:
                sip.challenge(self.config.realm, proxy)
            else:
                self._auth_failed(sip)
            return False
        sip.consume_credentials()
        return True

    def _auth_failed(self, sip: SipMessage) -> None:
        """Wrong credentials: 403, and one more failure counted against the source address."""
        sip.reply(403, "Forbidden")
        if self.guards is not None:
            self.guards.auth_failed(sip, self.clock())


FAILURE_DISPOSITIONS = {
    486: "busy",
    600: "busy",
    487: "cancelled",
    408: "no_answer",
    480: "no_answer",
}
"""The final SIP code of an unanswered call → its CDR disposition."""


def _int(text: str | None) -> int:
    try:
        return int(text) if text else 0
    except ValueError:
        return 0


_billing_minute: tuple[int, date] = (-1, date.min)


def billing_date_of(moment: float) -> date:
    """The Asia/Tokyo date of a Unix time (tariffs and tax go by it).

    Cached per UTC minute (a date in any whole-minute offset changes only at a minute).
    """
    global _billing_minute
    minute = int(moment // 60)
    if _billing_minute[0] != minute:
        _billing_minute = (minute, billing_date(datetime.fromtimestamp(minute * 60, tz=UTC)))
    return _billing_minute[1]


_PHRASES = {
    403: "Forbidden",
    404: "Not Found",
    480: "Temporarily Unavailable",
    484: "Address Incomplete",
    503: "Service Unavailable",
}


def _reason_phrase(code: int) -> str:
    return _PHRASES.get(code, "Call Refused")
