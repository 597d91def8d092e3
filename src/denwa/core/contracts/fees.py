"""The fee schedule and the billing rules the operator may tune (SPEC §2, §3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from denwa.core.errors import NoTariff


class Fee(StrEnum):
    """The fixed charges of a phone contract; also their statement line codes."""

    INITIAL_REGISTRATION = "initial_registration"  # 初期登録料
    REACTIVATION = "reactivation"  # 再開登録料
    BASIC = "basic_fee"  # 基本料
    TA_RENTAL = "ta_rental"  # 機器レンタル料
    TA_COLLECTION = "ta_collection"  # 機器回収手数料


EARLY_TERMINATION = "early_termination"
"""Line code of the minimum-period charge."""


@dataclass(frozen=True)
class FeeVersion:
    """An amount of a fee in force from ``valid_from``."""

    fee: Fee
    amount_yen: int
    valid_from: date


@dataclass(frozen=True)
class FeeSchedule:
    """Every fee's amounts over time."""

    versions: Mapping[Fee, Sequence[FeeVersion]]

    def amount(self, fee: Fee, on: date) -> int:
        """The amount of ``fee`` in force on ``on``."""
        in_force = [v for v in self.versions.get(fee, ()) if v.valid_from <= on]
        if not in_force:
            raise NoTariff(fee.value, on)
        return max(in_force, key=lambda v: v.valid_from).amount_yen


@dataclass(frozen=True)
class BillingRules:
    """Operator-tunable rules; the shipped values are the service page's."""

    minimum_period_months: int = 6
    max_suspension_months: int = 6
    early_termination_charge: bool = True
    basic_fee_in_full_suspension_months: bool = False
    rental_in_start_month: bool = True
