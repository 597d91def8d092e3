"""The call path's cached time formatting gives exactly what the plain computation gives."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from denwa.core.timeutil import billing_date
from denwa.sip.routing import billing_date_of
from denwa.sip.spool import iso

# 2000-01-01 .. 2100-01-01, with sub-millisecond fractions.
moments = st.floats(min_value=946_684_800, max_value=4_102_444_800, allow_nan=False)


@given(moments)
def test_spool_iso_equals_datetime_isoformat_in_milliseconds(moment: float) -> None:
    expected = datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec="milliseconds")
    assert iso(moment) == expected


@given(st.lists(moments, min_size=1, max_size=20))
def test_billing_date_of_equals_the_tokyo_date_whatever_order_moments_come_in(
    seq: list[float],
) -> None:
    for moment in seq:
        assert billing_date_of(moment) == billing_date(datetime.fromtimestamp(moment, tz=UTC))


def test_iso_of_none_is_none() -> None:
    assert iso(None) is None


def test_billing_date_changes_at_tokyo_midnight() -> None:
    midnight_tokyo = datetime(2026, 11, 30, 15, 0, tzinfo=UTC).timestamp()
    assert str(billing_date_of(midnight_tokyo - 0.001)) == "2026-11-30"
    assert str(billing_date_of(midnight_tokyo)) == "2026-12-01"
