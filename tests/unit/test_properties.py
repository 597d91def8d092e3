"""Properties that hold for every input: analysis, policy and rating never surprise (SPEC §1, §3).

Hypothesis draws the inputs; the operator data is the shipped defaults, loaded
once at import (a function-scoped fixture inside ``@given`` would be reused
across examples, which Hypothesis rightly refuses).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_CEILING, Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from denwa.core.errors import InvalidInput
from denwa.core.numbering import CallClass, Direction, analyse
from denwa.core.operator_data.loader import load_operator_data
from denwa.core.policy.decision import Admit, Refuse
from denwa.core.rating.calls import price, rate_call
from denwa.core.rating.tariffs import Tariff, TariffBook
from denwa.core.services import classify_number

pytestmark = pytest.mark.unit

DATA = load_operator_data()
ON = date(2003, 9, 1)

ADMITTED_CLASSES = frozenset(
    {
        CallClass.ONNET,
        CallClass.IP_PARTNER_FREE,
        CallClass.IP_PARTNER_PAID,
        CallClass.IP_OTHER,
        CallClass.DOMESTIC_FIXED,
        CallClass.MOBILE,
        CallClass.PHS,
        CallClass.INTERNATIONAL,
    }
)

PREFIXES = ("", "0", "00", "010", "050", "070", "184", "186", "+81", "81")

dial_like = st.builds(
    lambda prefix, rest: (prefix + rest)[:20],
    st.sampled_from(PREFIXES),
    st.text(
        alphabet=st.one_of(st.sampled_from("0123456789+-"), st.characters()),
        max_size=17,
    ),
)
"""Mostly digits, '+' and '-' after a prefix that steers into each branch of the analysis."""

dialled_strings = st.one_of(st.text(max_size=20), dial_like)

durations = st.decimals(
    min_value=0, max_value=100000, places=3, allow_nan=False, allow_infinity=False
)

utc_offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


# --- number analysis -------------------------------------------------------------------


@settings(max_examples=300)
@given(dialled=dialled_strings)
@example(dialled="")
@example(dialled="+")
@example(dialled="184")
@example(dialled="+81")
@example(dialled="010")
@example(dialled="０３１２３４５６７８")
def test_any_string_gets_exactly_one_class_and_a_number_only_when_not_invalid(
    dialled: str,
) -> None:
    analysis = analyse(dialled, DATA.ranges)

    assert isinstance(analysis.call_class, CallClass)
    assert (analysis.number is None) == (analysis.call_class is CallClass.INVALID)
    if analysis.number is not None:
        assert _is_ascii_digits(analysis.number)
    else:
        assert analysis.problem is not None


# --- policy ---------------------------------------------------------------------------


@settings(max_examples=200)
@given(
    dialled=dialled_strings,
    direction=st.sampled_from(list(Direction)),
    on=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)),
)
@example(dialled="110", direction=Direction.OUT, on=ON)
@example(dialled="", direction=Direction.IN, on=ON)
def test_deciding_never_raises_and_a_refusal_always_has_a_sip_error_code_and_both_texts(
    dialled: str, direction: Direction, on: date
) -> None:
    decision = classify_number(DATA, dialled, on, direction)

    if isinstance(decision, Refuse):
        assert decision.admitted is False
        assert 400 <= decision.sip_code <= 699
        assert decision.text.reason_en.strip()
        assert decision.text.announcement_ja.strip()
    else:
        assert isinstance(decision, Admit)
        assert decision.admitted is True
        assert decision.call_class in ADMITTED_CLASSES
        assert decision.number is not None
        assert _is_ascii_digits(decision.number)
        if direction is Direction.OUT:
            assert decision.tariff is not None


# --- rating ---------------------------------------------------------------------------

ADMITTED_NUMBERS = [
    pytest.param(CallClass.ONNET, "05055500001", id="onnet"),
    pytest.param(CallClass.IP_PARTNER_FREE, "05055510001", id="ip_partner_free"),
    pytest.param(CallClass.IP_PARTNER_PAID, "05055530001", id="ip_partner_paid"),
    pytest.param(CallClass.IP_OTHER, "05033001234", id="ip_other"),
    pytest.param(CallClass.DOMESTIC_FIXED, "0312345678", id="domestic_fixed"),
    pytest.param(CallClass.MOBILE, "09012345678", id="mobile"),
    pytest.param(CallClass.PHS, "07053123456", id="phs"),
    pytest.param(CallClass.INTERNATIONAL, "0101212555 0123", id="international-nanp"),
    pytest.param(CallClass.INTERNATIONAL, "0104420712345678", id="international-uk"),
]


def _tariff_for(call_class: CallClass, dialled: str) -> tuple[str, Tariff]:
    analysis = analyse(dialled, DATA.ranges)
    assert analysis.call_class is call_class
    assert analysis.number is not None
    return analysis.number, DATA.tariffs.for_call(call_class, analysis.number, ON)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


@pytest.mark.parametrize(("call_class", "dialled"), ADMITTED_NUMBERS)
@settings(max_examples=60)
@given(first=durations, second=durations)
def test_a_longer_call_never_costs_less_and_units_are_started_units_of_whole_seconds(
    call_class: CallClass, dialled: str, first: Decimal, second: Decimal
) -> None:
    _, tariff = _tariff_for(call_class, dialled)
    short, long = sorted((first, second))

    short_call = price(call_class, short, tariff)
    long_call = price(call_class, long, tariff)

    for duration, rated in ((short, short_call), (long, long_call)):
        seconds = int(duration.to_integral_value(rounding=ROUND_CEILING))
        assert rated.billed_seconds == seconds
        assert rated.units == _ceil_div(seconds, tariff.unit_seconds)
        assert type(rated.charge_yen) is int
        assert rated.charge_yen >= 0
        assert rated.charge_yen == rated.units * tariff.yen_per_unit
    assert long_call.charge_yen >= short_call.charge_yen


def test_units_are_exact_integer_arithmetic_for_a_very_long_duration() -> None:
    _, tariff = _tariff_for(CallClass.DOMESTIC_FIXED, "0312345678")
    units = 2**60

    rated = price(CallClass.DOMESTIC_FIXED, Decimal(units * tariff.unit_seconds + 1), tariff)

    assert rated.units == units + 1


@pytest.mark.parametrize(("call_class", "dialled"), ADMITTED_NUMBERS)
@settings(max_examples=20)
@given(ended=st.none() | st.datetimes(timezones=utc_offsets))
def test_an_unanswered_call_costs_nothing(
    call_class: CallClass, dialled: str, ended: datetime | None
) -> None:
    number, _ = _tariff_for(call_class, dialled)

    rated = rate_call(DATA.tariffs, call_class, number, None, ended)

    assert rated.units == 0
    assert rated.charge_yen == 0


PRICE_CHANGE = date(2003, 10, 1)
CHANGING_BOOK = TariffBook.of(
    {
        CallClass.DOMESTIC_FIXED: [
            Tariff(180, 8, date(2003, 1, 1), "before"),
            Tariff(60, 10, PRICE_CHANGE, "after"),
        ]
    },
    {},
)
"""One class whose price changes at midnight Tokyo time on 2003-10-01."""


def _tokyo_date(moment: datetime) -> date:
    # Asia/Tokyo has kept UTC+9 without daylight saving since 1951.
    return (moment.astimezone(UTC) + timedelta(hours=9)).date()


@settings(max_examples=200)
@given(
    utc_instant=st.datetimes(
        min_value=datetime(2003, 9, 29), max_value=datetime(2003, 10, 2, 23, 59, 59)
    ),
    offset=utc_offsets,
    seconds=st.integers(min_value=0, max_value=7200),
)
@example(  # 00:00 in Tokyo on the day of the change, recorded in UTC
    utc_instant=datetime(2003, 9, 30, 15, 0), offset=UTC, seconds=61
)
@example(  # 23:59:59 in Tokyo the day before, recorded at UTC-10
    utc_instant=datetime(2003, 9, 30, 14, 59, 59),
    offset=timezone(timedelta(hours=-10)),
    seconds=61,
)
def test_the_tariff_is_the_one_in_force_on_the_tokyo_date_of_the_answer_whatever_the_offset(
    utc_instant: datetime, offset: timezone, seconds: int
) -> None:
    answered = utc_instant.replace(tzinfo=UTC).astimezone(offset)
    ended = answered + timedelta(seconds=seconds)

    rated = rate_call(CHANGING_BOOK, CallClass.DOMESTIC_FIXED, "0312345678", answered, ended)

    expected = "after" if _tokyo_date(answered) >= PRICE_CHANGE else "before"
    assert rated.tariff_name == expected
    unit = 60 if expected == "after" else 180
    assert rated.billed_seconds == seconds
    assert rated.units == _ceil_div(seconds, unit)


AWARE = datetime(2003, 9, 1, 10, 0, tzinfo=timezone(timedelta(hours=9)))
NAIVE = datetime(2003, 9, 1, 10, 0)


@pytest.mark.parametrize(
    ("answered", "ended"),
    [
        pytest.param(NAIVE, NAIVE + timedelta(seconds=30), id="both-naive"),
        pytest.param(
            NAIVE,
            AWARE + timedelta(seconds=30),
            id="answer-naive",
        ),
        pytest.param(
            AWARE,
            NAIVE + timedelta(seconds=30),
            id="end-naive",
        ),
    ],
)
def test_a_naive_time_is_refused_as_invalid_input(answered: datetime, ended: datetime) -> None:
    with pytest.raises(InvalidInput):
        rate_call(DATA.tariffs, CallClass.DOMESTIC_FIXED, "0312345678", answered, ended)
