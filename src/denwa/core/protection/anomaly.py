"""International minutes far above a subscriber's own history (toll fraud, SPEC §7).

Today's international seconds are compared with the subscriber's daily mean
over the ``anomaly_history_days`` days before today (a day without calls counts
as 0): more than ``anomaly_factor`` times that mean, and more than
``anomaly_min_minutes`` in any case, raises an alert.  The floor keeps a first
call abroad from a line that never called abroad from alerting.
"""

from __future__ import annotations

from collections.abc import Sequence

from denwa.core.protection.rules import ProtectionRules


def anomaly_threshold_seconds(history_seconds: Sequence[int], rules: ProtectionRules) -> int:
    """The seconds of international calls in one day above which the day is anomalous.

    ``history_seconds`` are the daily totals of the days before today that had
    calls (at most ``anomaly_history_days`` of them).
    """
    if len(history_seconds) > rules.anomaly_history_days:
        raise ValueError(
            f"{len(history_seconds)} days of history given; the rule looks at "
            f"{rules.anomaly_history_days}"
        )
    factor_of_mean = rules.anomaly_factor * sum(history_seconds) // rules.anomaly_history_days
    return max(rules.anomaly_min_minutes * 60, factor_of_mean)


def is_anomalous(
    today_seconds: int, history_seconds: Sequence[int], rules: ProtectionRules
) -> bool:
    """Whether today's international seconds jump far above the subscriber's own history."""
    return today_seconds > anomaly_threshold_seconds(history_seconds, rules)
