"""The core's exception hierarchy.

Every error carries a stable ``code`` (for logs, APIs and tests) and the data
that explains it, so that an entry point can turn it into a SIP reply, an
HTTP error or a one-line CLI message without parsing text.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path


class DenwaError(Exception):
    """Base of every error the core raises on purpose."""

    code = "denwa_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DenwaError):
    """A value given to the core is malformed (not an operator-data problem)."""

    code = "invalid_input"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class OperatorDataError(DenwaError):
    """An operator data file is wrong; names the file, the line and the problem."""

    code = "operator_data_error"

    def __init__(self, source: str | Path, line: int | None, problem: str) -> None:
        where = f"{source}:{line}" if line is not None else str(source)
        super().__init__(f"{where}: {problem}")
        self.source = str(source)
        self.line = line
        self.problem = problem


class NoTariff(DenwaError):
    """No tariff applies to a call class or destination on a date."""

    code = "no_tariff"

    def __init__(self, what: str, on: date) -> None:
        super().__init__(f"no tariff for {what} on {on.isoformat()}")
        self.what = what
        self.on = on


class NoTaxRate(DenwaError):
    """The tax table has no rate in force on a date."""

    code = "no_tax_rate"

    def __init__(self, on: date) -> None:
        super().__init__(f"no consumption tax rate in force on {on.isoformat()}")
        self.on = on


class IllegalTransition(DenwaError):
    """A contract cannot move from one lifecycle state to another."""

    code = "illegal_transition"

    def __init__(self, from_state: str, to_state: str, event: str | None = None) -> None:
        how = f" by {event}" if event else ""
        super().__init__(f"a contract cannot go from {from_state} to {to_state}{how}")
        self.from_state = from_state
        self.to_state = to_state
        self.event = event


class ContractRuleViolation(DenwaError):
    """A contract operation breaks a business rule (suspension too long, no reason…)."""

    code = "contract_rule"

    def __init__(self, rule: str, problem: str) -> None:
        super().__init__(problem)
        self.rule = rule
        self.problem = problem
