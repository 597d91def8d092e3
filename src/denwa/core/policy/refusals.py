"""Why a call is refused, and what the caller is told.

The reasons are fixed by the policy; the SIP code, English reason and
Japanese announcement of each are operator data (``refusals.csv``), so the
wording can change without a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class RefusalReason(StrEnum):
    """Every reason the policy can refuse a call for."""

    EMERGENCY = "emergency"
    SPECIAL_3DIGIT = "special_3digit"
    NON_GEOGRAPHIC = "non_geographic"
    CARRIER_PREFIX = "carrier_prefix"
    NO_AGREEMENT = "no_agreement"
    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    INCOMPLETE = "incomplete"
    TOO_LONG = "too_long"
    LOCAL_DIALLING = "local_dialling"
    UNASSIGNED = "unassigned"
    UNKNOWN_COUNTRY = "unknown_country"
    INTERNATIONAL_BARRED = "international_barred"
    NO_TARIFF = "no_tariff"
    PHS_OUTBOUND = "phs_outbound"
    PHS_INBOUND = "phs_inbound"
    CALLER_NOT_ACTIVE = "caller_not_active"
    CALLER_SUSPENDED = "caller_suspended"
    CALLER_STOPPED = "caller_stopped"
    CALLER_TERMINATED = "caller_terminated"
    CALLEE_UNKNOWN = "callee_unknown"
    CALLEE_NOT_ACTIVE = "callee_not_active"
    CALLEE_SUSPENDED = "callee_suspended"
    CALLEE_STOPPED = "callee_stopped"
    CALLEE_TERMINATED = "callee_terminated"
    NOT_OUR_NUMBER = "not_our_number"
    CALLER_ID_INVALID = "caller_id_invalid"


@dataclass(frozen=True)
class RefusalText:
    """What a refusal sends back: SIP code, English reason, Japanese announcement."""

    sip_code: int
    reason_en: str
    announcement_ja: str


@dataclass(frozen=True)
class RefusalTable:
    """The operator's wording for every refusal reason."""

    texts: Mapping[RefusalReason, RefusalText]

    def __getitem__(self, reason: RefusalReason) -> RefusalText:
        return self.texts[reason]
