"""What a call refused by a protection rule is answered and told.

A rule that finds abuse by the caller refuses with 403 and a reason; a limit
that protects the service (overload, maintenance) answers 503 with Retry-After
(SPEC §2 提供中止).  The SIP code, Retry-After, English reason and Japanese
announcement of each are operator data (``protection_refusals.csv``), like the
policy's ``refusals.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from denwa.core.errors import OperatorDataError
from denwa.core.operator_data.table import Row, read_rows

REFUSALS_FILE = "protection_refusals.csv"
REFUSALS_COLUMNS = ("reason", "sip_code", "retry_after_seconds", "reason_en", "announcement_ja")
SERVICE_UNAVAILABLE = 503


class Guard(StrEnum):
    """Every protection rule that can refuse a call or a request."""

    MAINTENANCE = "maintenance"
    OVERLOAD_CALLS = "overload_calls"
    OVERLOAD_GATEWAY = "overload_gateway"
    OVERLOAD_RATE = "overload_rate"
    SUBSCRIBER_CALLS = "subscriber_calls"
    SUBSCRIBER_RATE = "subscriber_rate"
    INCOMPLETE_CALLS = "incomplete_calls"
    INTERNATIONAL_SPEND_CAP = "international_spend_cap"
    SOURCE_BLOCKED = "source_blocked"


@dataclass(frozen=True)
class ProtectionRefusal:
    """The answer to a refused call: SIP code, Retry-After (503), reason and announcement."""

    guard: Guard
    sip_code: int
    reason_en: str
    announcement_ja: str
    retry_after_seconds: int | None = None

    def headers(self) -> list[str]:
        """The reply's headers, as the policy's refusals carry them (and Retry-After)."""
        headers = [
            f'Reason: SIP;cause={self.sip_code};text="{self.reason_en}"',
            f"X-Denwa-Refusal: {self.guard.value}",
            f"X-Denwa-Announcement: {self.announcement_ja}",
        ]
        if self.retry_after_seconds is not None:
            headers.append(f"Retry-After: {self.retry_after_seconds}")
        return headers

    def telling(
        self, announcement_ja: str | None = None, retry_after_seconds: int | None = None
    ) -> ProtectionRefusal:
        """The same refusal with another announcement or Retry-After (the maintenance switch's)."""
        return replace(
            self,
            announcement_ja=announcement_ja or self.announcement_ja,
            retry_after_seconds=retry_after_seconds or self.retry_after_seconds,
        )


@dataclass(frozen=True)
class ProtectionRefusals:
    """The operator's wording for every protection refusal."""

    texts: Mapping[Guard, ProtectionRefusal]

    def __getitem__(self, guard: Guard) -> ProtectionRefusal:
        return self.texts[guard]


def parse_protection_refusals(origin: str, text: str) -> ProtectionRefusals:
    """The table in ``protection_refusals.csv``: every ``Guard`` once, 503s with a Retry-After."""
    texts: dict[Guard, ProtectionRefusal] = {}
    for row in read_rows(origin, text, REFUSALS_COLUMNS):
        guard = row.choice("reason", Guard)
        if guard in texts:
            raise row.error(f"reason {guard.value} is given twice")
        code = row.integer("sip_code", minimum=400)
        if code > 699:
            raise row.error(f"sip_code must be a SIP error code 400-699, not {code}")
        texts[guard] = ProtectionRefusal(
            guard, code, row.text("reason_en"), row.text("announcement_ja"), _retry_after(row, code)
        )
    missing = [guard.value for guard in Guard if guard not in texts]
    if missing:
        raise OperatorDataError(origin, None, f"no wording for {', '.join(missing)}")
    return ProtectionRefusals(texts)


def _retry_after(row: Row, code: int) -> int | None:
    if not row.values["retry_after_seconds"]:
        if code == SERVICE_UNAVAILABLE:
            raise row.error("a 503 needs retry_after_seconds (seconds before a new attempt)")
        return None
    return row.integer("retry_after_seconds", minimum=1)
