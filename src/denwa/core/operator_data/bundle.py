"""Everything the operator configures, loaded and validated, as one immutable value.

This is the in-memory snapshot the call path decides from: building it reads
files once; using it touches no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from denwa.core.contracts.fees import BillingRules, FeeSchedule
from denwa.core.numbering.ranges import RangeTable
from denwa.core.policy.phs import PhsCarrier
from denwa.core.policy.refusals import RefusalTable
from denwa.core.rating.tariffs import TariffBook
from denwa.core.rating.tax import TaxTable


@dataclass(frozen=True)
class DataSource:
    """Where one operator file was read from, and its content hash (for versioning)."""

    name: str
    origin: str
    sha256: str


@dataclass(frozen=True)
class OperatorData:
    """Ranges, PHS rules, tariffs, tax, fees, billing rules and refusal wording."""

    ranges: RangeTable
    phs_carriers: Mapping[str, PhsCarrier]
    phs_service_numbers: Mapping[str, str]
    tariffs: TariffBook
    taxes: TaxTable
    fees: FeeSchedule
    rules: BillingRules
    refusals: RefusalTable
    sources: Mapping[str, DataSource]

    def phs_services_of(self, number: str | None) -> frozenset[str]:
        """Services a PHS caller is known to have, from the operator's number list."""
        if not number:
            return frozenset()
        return frozenset(
            service
            for prefix, service in self.phs_service_numbers.items()
            if number.startswith(prefix)
        )
