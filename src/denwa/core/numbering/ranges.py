"""Operator number ranges: which 050 / 070 / other blocks belong to whom.

A range is a digit prefix of the national number.  All ranges from all the
operator's files live in one table and the longest matching prefix wins, so
an operator can carve a no-agreement block out of a wider range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from denwa.core.numbering.classes import CallClass


@dataclass(frozen=True)
class RangeEntry:
    """One operator-data row: a prefix, the class it gives and who holds it."""

    prefix: str
    call_class: CallClass
    holder: str
    carrier: str | None = None  # PHS carrier key, for the direction rules
    source: str = ""  # "file:line", so a support desk can see why


@dataclass(frozen=True)
class RangeTable:
    """Longest-prefix lookup over every operator range."""

    entries: Mapping[str, RangeEntry] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Iterable[RangeEntry]) -> RangeTable:
        """Build a table; a prefix given twice is the loader's error to report."""
        return cls({entry.prefix: entry for entry in entries})

    def longest_match(self, number: str) -> RangeEntry | None:
        """The entry with the longest prefix of ``number``, or None."""
        for length in range(len(number), 0, -1):
            entry = self.entries.get(number[:length])
            if entry is not None:
                return entry
        return None
