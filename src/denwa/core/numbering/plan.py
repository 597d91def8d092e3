"""Facts of the Japanese numbering plan that number analysis needs.

These are national rules, not operator choices, so they are code (with tests);
who holds which block inside them is operator data (see ``ranges``).
Sources: MIC number assignment, ``shared/notes/japan-numbering.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from denwa.core.numbering.classes import CallClass

EMERGENCY_NUMBERS = frozenset({"110", "118", "119"})
"""Police, coast guard, fire/ambulance: refused with their own message."""

PRIVACY_PREFIXES = {"184": "withhold", "186": "present"}
"""Dialled in front of a number, for this call only; stripped before analysis."""

VISUAL_SEPARATORS = "-. ()"
"""RFC 3966 visual separators a dial string may carry; they mean nothing."""

INTERNATIONAL_PREFIX = "010"
JAPAN_COUNTRY_CODE = "81"
E164_MAX_DIGITS = 15
"""ITU-T E.164: country code plus national significant number."""
INTERNATIONAL_MIN_NSN = 4
"""Shortest national significant number in use abroad (e.g. Niue, Saint Helena)."""

LOCAL_NUMBER_LENGTHS = range(4, 9)
"""A subscriber number without its area code: 4 to 8 digits, not starting with 0 or 1."""


class Kind(StrEnum):
    """What the leading digits of a national number say about it."""

    IP_PHONE = "ip_phone"
    BLOCK_070 = "block_070"
    MOBILE = "mobile"
    FIXED = "fixed"
    NON_GEOGRAPHIC = "non_geographic"
    UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class PlanRow:
    """A national prefix, the lengths its numbers have and their kind."""

    prefix: str
    lengths: tuple[int, ...]
    kind: Kind
    note: str


NATIONAL_PLAN: tuple[PlanRow, ...] = (
    PlanRow("0120", (10,), Kind.NON_GEOGRAPHIC, "freephone"),
    PlanRow("0800", (11,), Kind.NON_GEOGRAPHIC, "freephone"),
    PlanRow("0570", (10,), Kind.NON_GEOGRAPHIC, "navi dial"),
    PlanRow("0180", (10,), Kind.NON_GEOGRAPHIC, "telephone information service"),
    PlanRow("0990", (10,), Kind.NON_GEOGRAPHIC, "dial Q2 information charge"),
    PlanRow("0170", (10,), Kind.NON_GEOGRAPHIC, "dengon dial"),
    PlanRow("020", (11, 14), Kind.NON_GEOGRAPHIC, "pager / M2M"),
    PlanRow("060", (11,), Kind.NON_GEOGRAPHIC, "FMC / UPT"),
    PlanRow("030", (), Kind.UNASSIGNED, "reserved"),
    PlanRow("040", (), Kind.UNASSIGNED, "reserved"),
    PlanRow("050", (11,), Kind.IP_PHONE, "IP phone 050-CDEF-GHJK"),
    PlanRow("070", (11,), Kind.BLOCK_070, "PHS or mobile, by block"),
    PlanRow("080", (11,), Kind.MOBILE, "mobile"),
    PlanRow("090", (11,), Kind.MOBILE, "mobile"),
    PlanRow("0", (10,), Kind.FIXED, "0AB-J fixed line"),
)
"""Longest prefix wins; ``0`` alone catches the geographic 0AB-J numbers."""

_PLAN_BY_PREFIX = {row.prefix: row for row in NATIONAL_PLAN}
_PLAN_PREFIX_LENGTHS = sorted({len(row.prefix) for row in NATIONAL_PLAN}, reverse=True)


@dataclass(frozen=True)
class KindRule:
    """The class a kind gives by default and the classes operator ranges may give it."""

    default: CallClass
    operator_may_set: frozenset[CallClass]


KIND_RULES: dict[Kind, KindRule] = {
    Kind.IP_PHONE: KindRule(
        CallClass.IP_OTHER,
        frozenset(
            {
                CallClass.ONNET,
                CallClass.IP_PARTNER_FREE,
                CallClass.IP_PARTNER_PAID,
                CallClass.NO_AGREEMENT,
            }
        ),
    ),
    # An 070 block in no operator table belongs to a carrier we cannot name,
    # so we hold no agreement for it: refuse rather than guess a tariff.
    Kind.BLOCK_070: KindRule(
        CallClass.NO_AGREEMENT,
        frozenset({CallClass.PHS, CallClass.MOBILE, CallClass.NO_AGREEMENT}),
    ),
    Kind.MOBILE: KindRule(CallClass.MOBILE, frozenset({CallClass.NO_AGREEMENT})),
    Kind.FIXED: KindRule(CallClass.DOMESTIC_FIXED, frozenset({CallClass.NO_AGREEMENT})),
    Kind.NON_GEOGRAPHIC: KindRule(CallClass.NON_GEOGRAPHIC, frozenset()),
    Kind.UNASSIGNED: KindRule(CallClass.INVALID, frozenset()),
}


def plan_row(national: str) -> PlanRow | None:
    """The plan row for a national number (or a prefix of one) starting with 0."""
    for length in _PLAN_PREFIX_LENGTHS:
        if len(national) >= length:
            row = _PLAN_BY_PREFIX.get(national[:length])
            if row is not None:
                return row
    return None


def carrier_code_of(digits: str) -> str:
    """The carrier identification code at the start of ``digits`` (which start 00).

    Forms: 001 (international), 002YZ, 0091NN and 00XY.  An incomplete code is
    returned as far as it was dialled.
    """
    if digits.startswith("001"):
        return "001"
    if digits.startswith("002"):
        return digits[:5]
    if digits.startswith("0091"):
        return digits[:6]
    return digits[:4]
