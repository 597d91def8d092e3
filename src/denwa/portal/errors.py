"""Errors of the portal's services; each carries its data and a stable ``code``."""

from __future__ import annotations

from datetime import datetime

from denwa.core.errors import DenwaError


class PortalError(DenwaError):
    """Base of the portal's errors."""

    code = "portal_error"


class SignInFailed(PortalError):
    """The number and password do not match (the same answer for an unknown number)."""

    code = "sign_in_failed"

    def __init__(self) -> None:
        super().__init__("the 050 number or the password is wrong")


class NumberLocked(PortalError):
    """Too many wrong passwords for this number: refused until ``until``."""

    code = "number_locked"

    def __init__(self, until: datetime) -> None:
        super().__init__(f"too many wrong passwords: locked until {until.isoformat()}")
        self.until = until


class SourceThrottled(PortalError):
    """Too many failed sign-ins from one address: refused until ``until``."""

    code = "source_throttled"

    def __init__(self, source: str, until: datetime) -> None:
        super().__init__(f"too many failed sign-ins from {source}: wait until {until.isoformat()}")
        self.source = source
        self.until = until


class PasswordRejected(PortalError):
    """A new password was refused; ``problems`` says why (already translated for the page)."""

    code = "password_rejected"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class NoWebAccount(PortalError):
    """The contract has no web sign-in yet (the operator has not issued a password)."""

    code = "no_web_account"

    def __init__(self, number: str) -> None:
        super().__init__(f"{number} has no web password yet")
        self.number = number


class NotFound(PortalError):
    """Nothing of this kind with this id belongs to the subscriber (the page answers 404)."""

    code = "not_found"

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"no {what} {ident} for this subscriber")
        self.what = what
        self.ident = ident


class BadFilter(PortalError):
    """A filter of the call detail (month, class, page) is not one the page offers."""

    code = "bad_filter"

    def __init__(self, field: str, value: str, problem: str) -> None:
        super().__init__(f"{field} {value!r}: {problem}")
        self.field = field
        self.value = value
        self.problem = problem
