"""The geometry of the year report's charts, for inline SVG: bars, axis ticks and labels.

Computed here so the template only places what it is given (no arithmetic in Jinja),
and drawn by the browser from plain SVG: no script, so it prints as it shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

WIDTH = 640                 # SVG user units; the page scales it to the column's width
COLUMNS_HEIGHT = 220
LEFT, BOTTOM, TOP = 64, 28, 16     # room for the tick labels and the bar labels
ROW, LABEL_WIDTH = 22, 190         # horizontal bars: one row per item, names on the left


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str          # under a column, or left of a horizontal bar
    text: str           # the value as read: "25,00" or "3"
    value: int          # the figure itself, as in the CSV (cents or a count)
    key: str            # the CSV row's label
    label_x: float = 0  # where the label and the value text stand
    label_y: float = 0
    text_x: float = 0
    text_y: float = 0


@dataclass(frozen=True)
class Tick:
    position: float     # y of a column chart's gridline
    text: str


@dataclass(frozen=True)
class Chart:
    kind: str           # columns | bars
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    baseline: float     # y of the zero line (columns) or x where bars start (bars)
    left: float = 0     # x where the plot starts (columns: the tick labels end left of it)


def _nice_step(top: int, steps: int = 4) -> int:
    """A round step (1, 2 or 5 times a power of ten) with which `steps` gridlines cover `top`."""
    unit = 1
    while True:
        for factor in (1, 2, 5):
            if unit * factor * steps >= top:
                return unit * factor
        unit *= 10


def columns(items: list[tuple[str, int, str, str]], tick_text: Callable[[int], str], *,
            whole: int = 1) -> Chart:
    """Vertical columns for (key, value, label, text) items of non-negative values; gridlines
    at round multiples of `whole` (100 for cents: whole units)."""
    top = max([value for _, value, _, _ in items] + [0])
    step = _nice_step(max(1, -(-top // whole))) * whole
    scale_top = step * 4
    plot_height = COLUMNS_HEIGHT - BOTTOM - TOP
    baseline = COLUMNS_HEIGHT - BOTTOM
    slot = (WIDTH - LEFT - 8) / max(1, len(items))
    bars = []
    for index, (key, value, label, text) in enumerate(items):
        height = plot_height * value / scale_top
        x, centre = LEFT + index * slot + slot * 0.15, LEFT + index * slot + slot / 2
        bars.append(Bar(x=round(x, 1), y=round(baseline - height, 1), width=round(slot * 0.7, 1),
                        height=round(height, 1), label=label, text=text, value=value, key=key,
                        label_x=round(centre, 1), label_y=baseline + 16,
                        text_x=round(centre, 1), text_y=round(baseline - height - 4, 1)))
    ticks = [Tick(round(baseline - plot_height * i / 4, 1), tick_text(step * i)) for i in range(5)]
    return Chart("columns", WIDTH, COLUMNS_HEIGHT, bars, ticks, baseline, left=LEFT)


def bars(items: list[tuple[str, int, str, str]]) -> Chart:
    """Horizontal bars, one row per (key, value, label, text) item, longest scaled to the width."""
    top = max([value for _, value, _, _ in items] + [1])
    start, room = LABEL_WIDTH + 8, WIDTH - LABEL_WIDTH - 8 - 96     # 96: the value after the bar
    shown = []
    for index, (key, value, label, text) in enumerate(items):
        y, width = TOP / 2 + index * ROW, round(room * value / top, 1)
        middle = y + (ROW - 6) / 2 + 4      # the baseline of text centred on the bar
        shown.append(Bar(x=start, y=y, width=width, height=ROW - 6, label=label, text=text, value=value,
                         key=key, label_x=LABEL_WIDTH, label_y=middle, text_x=start + width + 6, text_y=middle))
    return Chart("bars", WIDTH, int(TOP + len(items) * ROW), shown, [], start, left=start)
