"""The call classes of SPEC §1 and the privacy choices a dialled prefix makes."""

from __future__ import annotations

from enum import StrEnum


class CallClass(StrEnum):
    """Exactly one of these is given to every dialled string."""

    ONNET = "onnet"
    IP_PARTNER_FREE = "ip_partner_free"
    IP_PARTNER_PAID = "ip_partner_paid"
    IP_OTHER = "ip_other"
    DOMESTIC_FIXED = "domestic_fixed"
    MOBILE = "mobile"
    PHS = "phs"
    INTERNATIONAL = "international"
    SPECIAL_3DIGIT = "special_3digit"
    NON_GEOGRAPHIC = "non_geographic"
    CARRIER_PREFIX = "carrier_prefix"
    NO_AGREEMENT = "no_agreement"
    INVALID = "invalid"


class Privacy(StrEnum):
    """Caller-ID presentation asked for by a 184 / 186 prefix."""

    WITHHOLD = "withhold"
    PRESENT = "present"


class Direction(StrEnum):
    """Which way a call goes, seen from our subscriber."""

    OUT = "out"
    IN = "in"


class Problem(StrEnum):
    """Why a dialled string is not a number we can take further.

    Each is a key of the refusal table; the class it comes with is given by
    the analysis (most are ``invalid``).
    """

    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    INCOMPLETE = "incomplete"
    TOO_LONG = "too_long"
    LOCAL_DIALLING = "local_dialling"
    UNASSIGNED = "unassigned"
    UNKNOWN_COUNTRY = "unknown_country"


CLASS_LABELS: dict[CallClass, tuple[str, str]] = {
    CallClass.ONNET: ("KCT-Net IP電話相互", "KCT-Net IP phone"),
    CallClass.IP_PARTNER_FREE: ("提携ISPのIP電話", "Partner ISP IP phone"),
    CallClass.IP_PARTNER_PAID: ("有料提携ISPのIP電話", "Paid partner ISP IP phone"),
    CallClass.IP_OTHER: ("その他のIP電話 (050)", "Other IP phone (050)"),
    CallClass.DOMESTIC_FIXED: ("国内の一般固定電話", "Fixed lines in Japan"),
    CallClass.MOBILE: ("国内の携帯電話", "Mobile phones"),
    CallClass.PHS: ("PHS", "PHS"),
    CallClass.INTERNATIONAL: ("国際通話", "International"),
    CallClass.SPECIAL_3DIGIT: ("3桁番号", "Three-digit numbers"),
    CallClass.NON_GEOGRAPHIC: ("0120・0570等", "0120, 0570 and similar"),
    CallClass.CARRIER_PREFIX: ("電話会社識別番号付き", "Carrier prefix"),
    CallClass.NO_AGREEMENT: ("接続協定のない事業者", "Carrier without agreement"),
    CallClass.INVALID: ("無効な番号", "Invalid number"),
}
"""How a class is named to a subscriber: (Japanese, English)."""
