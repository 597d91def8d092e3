"""CSV downloads of a statement and of the call detail, made for Excel on Japanese Windows.

Encoding: UTF-8 with a byte-order mark, CRLF line ends.  Excel (2016 and
later, the versions Microsoft supports) opens such a file by double-click with
the Japanese intact; the BOM is what tells it the file is UTF-8.  Shift_JIS
(cp932), the other common choice, cannot hold every character an operator may
type in an adjustment reason or a subscriber's name (e.g. 𠮷 or emoji), and a
file that silently loses characters is worse than none.  Python's ``csv`` module
and other tools read the same file once told ``utf-8-sig``.

Numbers dialled are written as ``="0312345678"``: Excel otherwise reads a
phone number as a number and drops its leading 0.  Other text that begins
with ``= + - @`` gets a leading apostrophe so that Excel never runs it as a
formula.  Times are Asia/Tokyo ``YYYY-MM-DD HH:MM:SS``, amounts whole yen.
The header row and the words follow the page's language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from denwa.core.timeutil import TOKYO
from denwa.portal import services
from denwa.portal.formats import hms, mask_number, number_cell, text_cell
from denwa.portal.labels import class_label, line_label, tax_label
from denwa.subscribers.models import Contract

ENCODING = "utf-8-sig"


@dataclass(frozen=True)
class CsvFile:
    """A download: its file name and its bytes."""

    filename: str
    content: bytes


def to_csv(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as CSV bytes: UTF-8 with BOM, CRLF, minimal quoting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode(ENCODING)


def calls_csv(
    contract: Contract, month: str | None, call_class: str | None, mask: bool = False
) -> CsvFile:
    """Every call of the call detail's filter (all pages) as CSV."""
    chosen = services.parse_call_filter(contract, month, call_class, "1", mask)
    header = [
        _("Date and time"),
        _("Number"),
        _("Class"),
        _("Duration (seconds)"),
        _("Duration"),
        _("Charge (yen, tax excl.)"),
    ]
    rows: list[Sequence[object]] = [header]
    for answered, callee, dialled, klass, seconds, charge in services.call_rows(contract, chosen):
        rows.append(
            [
                answered.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S"),
                number_cell(mask_number(callee or dialled, mask)),
                class_label(klass),
                seconds,
                hms(seconds),
                charge,
            ]
        )
    suffix = f"-{chosen.call_class}" if chosen.call_class else ""
    return CsvFile(f"calls-{contract.number}-{chosen.month}{suffix}.csv", to_csv(rows))


def statement_csv(contract: Contract, statement_id: int) -> CsvFile:
    """A statement's lines, tax per rate, subtotal and total as CSV."""
    detail = services.statement_detail(contract, statement_id)
    rows: list[Sequence[object]] = [
        [_("Kind"), _("Item"), _("Quantity"), _("Duration (seconds)"), _("Amount (yen)")]
    ]
    for line in detail.lines:
        name, extra = line_label(line.code, line.description)
        rows.append(
            [
                _("Charge"),
                text_cell(f"{name} ({extra})" if extra else name),
                line.quantity,
                line.seconds if line.call_class else "",
                line.amount_yen,
            ]
        )
    rows.append([_("Subtotal"), _("Subtotal (tax excl.)"), "", "", detail.subtotal_yen])
    for tax in detail.taxes:
        base = _("on %(amount)s yen") % {"amount": f"{tax.subtotal_yen:,}"}
        label = f"{tax_label(tax.tax_category, tax.rate_percent)} ({base})"
        rows.append([_("Tax"), label, "", "", tax.tax_yen])
    rows.append([_("Total"), _("Amount billed (tax incl.)"), "", "", detail.total_yen])
    filename = f"statement-{contract.number}-{detail.summary.month}.csv"
    return CsvFile(filename, to_csv(rows))
