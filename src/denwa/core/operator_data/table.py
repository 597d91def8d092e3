"""Reading one operator CSV file with line numbers for every error."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from denwa.core.errors import OperatorDataError

E = TypeVar("E", bound=Enum)

_YES = {"yes": True, "no": False}
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Row:
    """One data line of an operator file, with typed accessors that name the line."""

    source: str
    line: int
    values: dict[str, str]

    @property
    def where(self) -> str:
        """``file:line``, for messages and audit."""
        return f"{self.source}:{self.line}"

    def error(self, problem: str) -> OperatorDataError:
        """An error about this line."""
        return OperatorDataError(self.source, self.line, problem)

    def text(self, column: str) -> str:
        """A non-empty text value."""
        value = self.values[column]
        if not value:
            raise self.error(f"{column} is empty")
        return value

    def digits(self, column: str) -> str:
        """A non-empty string of ASCII digits."""
        value = self.text(column)
        if not (value.isascii() and value.isdigit()):
            raise self.error(f"{column} must be digits only, not {value!r}")
        return value

    def integer(self, column: str, minimum: int = 0) -> int:
        """A whole number ≥ ``minimum``."""
        value = self.text(column)
        if not _WHOLE_NUMBER.fullmatch(value):
            raise self.error(f"{column} must be a whole number, not {value!r}")
        number = int(value)
        if number < minimum:
            raise self.error(f"{column} must be at least {minimum}, not {number}")
        return number

    def decimal(self, column: str) -> Decimal:
        """A decimal number ≥ 0."""
        value = self.text(column)
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.error(f"{column} must be a decimal number, not {value!r}") from None
        if not number.is_finite() or number < 0:
            raise self.error(f"{column} must be a number ≥ 0, not {value!r}")
        return number

    def day(self, column: str) -> date:
        """A date in ``YYYY-MM-DD``."""
        value = self.text(column)
        try:
            if not _ISO_DATE.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise self.error(f"{column} must be a date YYYY-MM-DD, not {value!r}") from None

    def flag(self, column: str) -> bool:
        """``yes`` or ``no``."""
        value = self.text(column)
        if value not in _YES:
            raise self.error(f"{column} must be yes or no, not {value!r}")
        return _YES[value]

    def choice(self, column: str, enum: type[E]) -> E:
        """One of an enumeration's values."""
        value = self.text(column)
        for member in enum:
            if member.value == value:
                return member
        allowed = ", ".join(str(member.value) for member in enum)
        raise self.error(f"{column} must be one of {allowed}, not {value!r}")


def read_rows(source: str, text: str, columns: Sequence[str]) -> list[Row]:
    """Parse a CSV text: ``#`` comments and blank lines skipped, then a header.

    The header must name exactly ``columns`` (in any order); every data line
    must have one value per column.  Values are stripped of surrounding space.
    """
    header: list[str] | None = None
    rows: list[Row] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [field.strip() for field in next(csv.reader([line]))]
        if header is None:
            header = fields
            _check_header(source, number, header, columns)
            continue
        if len(fields) != len(header):
            raise OperatorDataError(
                source,
                number,
                f"expected {len(header)} values ({', '.join(header)}), got {len(fields)}",
            )
        rows.append(Row(source, number, dict(zip(header, fields, strict=True))))
    if header is None:
        raise OperatorDataError(source, None, f"no header line ({', '.join(columns)})")
    return rows


def _check_header(source: str, line: int, header: list[str], columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in header]
    unknown = [c for c in header if c not in columns]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if duplicated:
        problems.append(f"repeated column(s) {', '.join(duplicated)}")
    if problems:
        raise OperatorDataError(source, line, "header: " + "; ".join(problems))
