"""Plain-text forms the page and the CSV share (pure Python: no Django, unit-tested)."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula."""


def mask_number(number: str, mask: bool) -> str:
    """The number with its last four digits hidden (``031234****``) when ``mask``."""
    if not mask:
        return number
    hidden = min(4, len(number))
    return number[: len(number) - hidden] + "*" * hidden


def hms(seconds: int) -> str:
    """Seconds as H:MM:SS (a spreadsheet reads it as a time)."""
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def text_cell(value: str) -> str:
    """Free text made safe for a spreadsheet: never run as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def number_cell(number: str) -> str:
    """A phone number Excel keeps as text, leading 0 included: ``="0312345678"``."""
    return f'="{number}"'


def unwrap_number_cell(cell: str) -> str:
    """The number inside ``number_cell``'s form (for readers other than Excel)."""
    if cell.startswith('="') and cell.endswith('"'):
        return cell[2:-1]
    return cell
