"""Errors of the protection services; each carries its data and a stable code."""

from __future__ import annotations

from pathlib import Path

from denwa.core.errors import DenwaError


class ProtectionError(DenwaError):
    """Base of the protection services' errors."""

    code = "protection_error"


class SipNotRunning(ProtectionError):
    """Kamailio's control socket does not answer: blocks and counters cannot be read or lifted."""

    code = "sip_not_running"

    def __init__(self, socket: Path, problem: str) -> None:
        super().__init__(
            f"SIP is not running here ({problem} at {socket}): start it with `denwa up` or "
            "`denwa sip run`; blocks and counters live in its memory"
        )
        self.socket = socket
        self.problem = problem


class SipCommandFailed(ProtectionError):
    """Kamailio answered an RPC command with an error."""

    code = "sip_command_failed"

    def __init__(self, command: str, problem: str) -> None:
        super().__init__(f"Kamailio refused `{command}`: {problem}")
        self.command = command
        self.problem = problem
        digits = problem.split(" ", 1)[0]
        self.rpc_code = int(digits) if digits.isdigit() else None


class NoSuchBlock(ProtectionError):
    """The key names no block (it may have expired or been lifted already)."""

    code = "no_such_block"

    def __init__(self, key: str) -> None:
        super().__init__(f"no block {key!r} is in force (expired, lifted, or never there)")
        self.key = key


class InvalidMaintenance(ProtectionError):
    """The maintenance switch was given a value it cannot take."""

    code = "invalid_maintenance"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class AlertWithoutLine(ProtectionError):
    """An alert about a source address, not a subscriber's line: there is no line to stop."""

    code = "alert_without_line"

    def __init__(self, alert: str) -> None:
        super().__init__(f"{alert} is not about a subscriber's line: there is no line to stop")
        self.alert = alert
