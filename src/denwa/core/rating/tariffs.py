"""Tariffs: what a call of a class (or to a destination) costs per unit.

Tariffs are operator data with a ``valid_from`` date, so a price change is a
new row, not an edit of history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from denwa.core.errors import NoTariff
from denwa.core.numbering.classes import CallClass


class TaxCategory(StrEnum):
    """Whether consumption tax applies to a charge."""

    STANDARD = "standard"
    EXEMPT = "exempt"  # international telephone calls are export-exempt (輸出免税)


TAX_CATEGORY_BY_CLASS: Mapping[CallClass, TaxCategory] = {
    CallClass.INTERNATIONAL: TaxCategory.EXEMPT,
}
"""A law, not an operator choice: every other class is taxed at the standard rate."""


def tax_category_of(call_class: CallClass) -> TaxCategory:
    """The tax category of calls of ``call_class``."""
    return TAX_CATEGORY_BY_CLASS.get(call_class, TaxCategory.STANDARD)


@dataclass(frozen=True)
class Tariff:
    """Per call: ``yen_per_unit`` for each started ``unit_seconds``."""

    unit_seconds: int
    yen_per_unit: int
    valid_from: date
    name: str
    source: str = ""
    key: str = ""  # the class, or "intl:<prefix>": which row priced a call, for re-rating

    @property
    def is_free(self) -> bool:
        """True when a call at this tariff never costs anything."""
        return self.yen_per_unit == 0


@dataclass(frozen=True)
class _Dated:
    """Versions of one tariff, newest first."""

    versions: Sequence[Tariff]

    def on(self, day: date) -> Tariff | None:
        for tariff in self.versions:
            if tariff.valid_from <= day:
                return tariff
        return None


def _dated(tariffs: Iterable[Tariff]) -> _Dated:
    return _Dated(tuple(sorted(tariffs, key=lambda t: t.valid_from, reverse=True)))


@dataclass(frozen=True)
class TariffBook:
    """Every tariff: per class, and per international destination prefix."""

    by_class: Mapping[CallClass, _Dated] = field(default_factory=dict)
    international: Mapping[str, _Dated] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        by_class: Mapping[CallClass, Iterable[Tariff]],
        international: Mapping[str, Iterable[Tariff]],
    ) -> TariffBook:
        """Build the book from tariff versions grouped by class and by prefix."""
        return cls(
            {call_class: _dated(ts) for call_class, ts in by_class.items()},
            {prefix: _dated(ts) for prefix, ts in international.items()},
        )

    def for_class(self, call_class: CallClass, day: date) -> Tariff:
        """The tariff of a domestic class in force on ``day``."""
        dated = self.by_class.get(call_class)
        tariff = dated.on(day) if dated else None
        if tariff is None:
            raise NoTariff(call_class.value, day)
        return tariff

    def for_international(self, number: str, day: date) -> Tariff:
        """The tariff of an international number (``010``…), longest prefix first."""
        digits = number.removeprefix("010")
        for length in range(len(digits), 0, -1):
            dated = self.international.get(digits[:length])
            tariff = dated.on(day) if dated else None
            if tariff is not None:
                return tariff
        raise NoTariff(f"international {number}", day)

    def for_call(self, call_class: CallClass, number: str, day: date) -> Tariff:
        """The tariff for a call of ``call_class`` to ``number`` answered on ``day``."""
        if call_class is CallClass.INTERNATIONAL:
            return self.for_international(number, day)
        return self.for_class(call_class, day)
