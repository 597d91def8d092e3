"""The portal's pure helpers: the 12-month chart's geometry and the text forms of the CSV."""

from __future__ import annotations

import pytest

from denwa.portal.chart import BOTTOM, HEIGHT, TOP, WIDTH, bar_chart
from denwa.portal.formats import hms, mask_number, number_cell, text_cell, unwrap_number_cell

pytestmark = pytest.mark.unit


def test_the_tallest_bar_is_the_largest_total_and_the_others_scale_to_it() -> None:
    chart = bar_chart([("2026-01", 1000), ("2026-02", 500), ("2026-03", None), ("2026-04", 0)])
    room = HEIGHT - BOTTOM - TOP
    assert [bar.height for bar in chart.bars] == [room, room / 2, 0, 0]
    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)
    assert chart.top == 1000


def test_twelve_bars_share_the_width_without_overlapping() -> None:
    chart = bar_chart([(f"2026-{m:02d}", m * 100) for m in range(1, 13)])
    assert len(chart.bars) == 12
    for left, right in zip(chart.bars, chart.bars[1:], strict=False):
        assert left.x + left.width < right.x
    assert chart.bars[-1].x + chart.bars[-1].width <= WIDTH


def test_a_month_of_credits_draws_an_empty_bar_and_no_statement_draws_nothing() -> None:
    chart = bar_chart([("2026-01", -300), ("2026-02", None)])
    assert [bar.height for bar in chart.bars] == [0, 0]
    assert chart.top == 0


@pytest.mark.parametrize(
    ("number", "mask", "shown"),
    [
        ("0312345678", True, "031234****"),
        ("09012345678", True, "0901234****"),
        ("0312345678", False, "0312345678"),
        ("110", True, "***"),
    ],
    ids=["fixed", "mobile", "not-masked", "shorter-than-four"],
)
def test_masking_hides_the_last_four_digits(number: str, mask: bool, shown: str) -> None:
    assert mask_number(number, mask) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0:00:00"), (61, "0:01:01"), (3600 + 125, "1:02:05"), (-5, "0:00:00")],
    ids=["zero", "a-minute", "an-hour", "negative"],
)
def test_durations_are_written_as_hours_minutes_seconds(seconds: int, shown: str) -> None:
    assert hms(seconds) == shown


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+81 3", "'+81 3"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("調整: お詫び", "調整: お詫び"),
    ],
    ids=["equals", "plus", "minus", "at", "plain"],
)
def test_free_text_never_becomes_a_spreadsheet_formula(text: str, cell: str) -> None:
    assert text_cell(text) == cell


def test_a_phone_number_keeps_its_leading_zero_in_excel() -> None:
    assert number_cell("0312345678") == '="0312345678"'
    assert unwrap_number_cell(number_cell("0312345678")) == "0312345678"
    assert unwrap_number_cell("plain") == "plain"
