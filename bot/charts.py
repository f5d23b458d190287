"""Report charts as PNG bytes, drawn with matplotlib's Agg backend (no display, no pyplot global state), sized to
be read on a phone: 1,080 px wide, large type, at most TOP_ROWS bars plus one for the rest."""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot import i18n

WIDTH_PX = 1080
DPI = 100
TOP_ROWS = 12
COLORS = ("#b3202a", "#f2a900")  # KPU red, and a warm yellow that reads on it.


@dataclass(frozen=True, slots=True)
class BarChart:
    """Horizontal bars, one row per label, one bar per series in each row (all series the same length)."""

    title: str
    subtitle: str
    labels: list[str]
    series: list[tuple[str, list[int]]]
    locale: str = i18n.DEFAULT_LOCALE


def top_rows(rows: list[tuple[str, list[int]]], rest_label: str, limit: int = TOP_ROWS) -> list[tuple[str, list[int]]]:
    """The first LIMIT rows (already ordered) and one REST_LABEL row adding up the others, so totals still hold."""
    if len(rows) <= limit + 1:
        return rows
    rest = [sum(values) for values in zip(*(values for _label, values in rows[limit:]), strict=True)]
    return [*rows[:limit], (rest_label, rest)]


def _short(label: str, width: int = 26) -> str:
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def render(chart: BarChart) -> bytes:
    """The chart as PNG bytes."""
    rows = max(1, len(chart.labels))
    height_in = 3.2 + 0.95 * rows
    figure = Figure(figsize=(WIDTH_PX / DPI, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    count = max(1, len(chart.series))
    thickness = 0.8 / count
    positions = list(range(rows))
    biggest = max((v for _name, values in chart.series for v in values), default=0)

    def number(value: float, _pos: object = None) -> str:
        return i18n.format_number(int(value), chart.locale)

    for index, (name, values) in enumerate(chart.series):
        offsets = [p - 0.4 + thickness * (index + 0.5) for p in positions[: len(values)]]
        bars = axes.barh(offsets, values, height=thickness * 0.92, color=COLORS[index % len(COLORS)], label=name)
        axes.bar_label(bars, labels=[number(v) for v in values], padding=6, fontsize=17)
    axes.set_yticks(positions, [_short(label) for label in chart.labels] or [""], fontsize=19)
    axes.invert_yaxis()  # the largest first, at the top
    axes.xaxis.set_major_formatter(FuncFormatter(number))
    axes.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    axes.tick_params(axis="x", labelsize=16)
    # Room on the right for the number after the longest bar.
    axes.set_xlim(0, max(1, biggest) * 1.22)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="x", alpha=0.3)
    axes.set_axisbelow(True)
    if len(chart.series) > 1:
        axes.legend(fontsize=17, loc="lower right", frameon=False)
    figure.suptitle(chart.title, fontsize=26, fontweight="bold", wrap=True)
    axes.set_title(chart.subtitle, fontsize=18, color="#444444", pad=12)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
