"""The usage page's bar chart of the last 12 months' totals, as geometry for an inline SVG.

Pure Python (no Django): the template draws the bars this computes, so the
chart needs no script and nothing from outside the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 600
HEIGHT = 220
TOP = 24  # room for the value over the tallest bar
BOTTOM = 28  # room for the month labels
GAP = 0.25  # share of a slot left between bars


@dataclass(frozen=True)
class Bar:
    """One month's bar: where it stands and what it says (``value`` None: no statement)."""

    month: str
    value: int | None
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class BarChart:
    """Bars in a ``width`` x ``height`` box, the baseline's y, and the largest value."""

    bars: tuple[Bar, ...]
    width: int
    height: int
    baseline: float
    top: int


def bar_chart(values: Sequence[tuple[str, int | None]]) -> BarChart:
    """Bars for (month, total) pairs, oldest first; heights scale to the largest total.

    A negative total (a month of credits) is drawn as an empty bar at the baseline.
    """
    baseline = float(HEIGHT - BOTTOM)
    room = baseline - TOP
    top = max([v for _, v in values if v is not None] + [0])
    slot = WIDTH / max(len(values), 1)
    bars = []
    for index, (month, value) in enumerate(values):
        height = room * max(value or 0, 0) / top if top else 0.0
        bars.append(
            Bar(
                month=month,
                value=value,
                x=round(index * slot + slot * GAP / 2, 1),
                y=round(baseline - height, 1),
                width=round(slot * (1 - GAP), 1),
                height=round(height, 1),
                label_x=round(index * slot + slot / 2, 1),
            )
        )
    return BarChart(tuple(bars), WIDTH, HEIGHT, baseline, top)
