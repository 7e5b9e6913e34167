"""The digest as one self-contained HTML page: inline CSS and SVG, no script, no external asset.

Chart geometry is computed here and drawn by the template, so that the template
holds no arithmetic and the numbers it shows are the records' own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from alerts.digest.records import BrandDigest, DayVolume
from reputation.config import slug
from reputation.wording import format_p

CHART_WIDTH = 420  # viewBox units: small enough that the labels stay legible on a phone
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 6, 16, 28
_MAX_LABELS = 8


@dataclass(frozen=True)
class Segment:
    css: str
    y: float
    height: float


@dataclass(frozen=True)
class Column:
    volume: DayVolume
    x: float  # centre
    label: str | None
    segments: list[Segment]
    top: float  # y of the bar's top, for its total


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    height: int
    bar_width: float
    baseline: float
    columns: list[Column]
    ticks: list[Tick]
    lines: list[str] = field(default_factory=list)  # polyline point lists, broken at days without data
    points: list[tuple[float, float, str]] = field(default_factory=list)

    @property
    def width(self) -> int:
        return CHART_WIDTH


def _nice_ceiling(value: float) -> float:
    """A round axis top at or above `value` (at least 1): 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten."""
    if value <= 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value)


def _columns(volumes: list[DayVolume], height: int) -> tuple[float, float, list[tuple[DayVolume, float, str | None]]]:
    slot = (CHART_WIDTH - _LEFT - _RIGHT) / len(volumes)
    every = math.ceil(len(volumes) / _MAX_LABELS)
    placed = []
    for index, volume in enumerate(volumes):
        last = index == len(volumes) - 1
        label = volume.day.strftime("%d %b") if last or (len(volumes) - 1 - index) % every == 0 else None
        placed.append((volume, _LEFT + slot * (index + 0.5), label))
    return min(slot * 0.62, 44.0), float(height - _BOTTOM), placed


def volume_chart(volumes: list[DayVolume], height: int = 170) -> Chart:
    """Stacked bars per day: negative at the bottom, where a rise is easiest to see."""
    bar_width, baseline, placed = _columns(volumes, height)
    peak = _nice_ceiling(max(volume.total for volume in volumes))
    scale = (baseline - _TOP) / peak
    columns = []
    for volume, x, label in placed:
        y = baseline
        segments = []
        for css, count in (("neg", volume.negative), ("neu", volume.neutral), ("pos", volume.positive)):
            if count:
                y -= count * scale
                segments.append(Segment(css, round(y, 1), round(count * scale, 1)))
        columns.append(Column(volume, round(x, 1), label, segments, round(y, 1)))
    ticks = [Tick(round(baseline - value * scale, 1), f"{value:g}") for value in (0, peak / 2, peak)]
    return Chart(height, round(bar_width, 1), baseline, columns, ticks)


def negative_share_chart(volumes: list[DayVolume], height: int = 120) -> Chart:
    """Share of negative mentions per day, 0-100 %; no point for a day with no mentions."""
    bar_width, baseline, placed = _columns(volumes, height)
    scale = baseline - _TOP
    lines: list[str] = []
    points: list[tuple[float, float, str]] = []
    run: list[str] = []
    columns = []
    for volume, x, label in placed:
        share = volume.negative_share
        columns.append(Column(volume, round(x, 1), label, [], baseline))
        if share is None or not volume.monitored:
            if run:
                lines.append(" ".join(run))
            run = []
            continue
        y = round(baseline - share * scale, 1)
        run.append(f"{x:.1f},{y}")
        points.append((round(x, 1), y, f"{100 * share:.0f}%"))
    if run:
        lines.append(" ".join(run))
    ticks = [Tick(round(baseline - value * scale, 1), f"{100 * value:.0f}%") for value in (0, 0.5, 1)]
    return Chart(height, bar_width, baseline, columns, ticks, lines, points)


def spark_points(series: list[int], width: int = 60, height: int = 20) -> str:
    peak = max([*series, 1])
    step = width / max(len(series) - 1, 1)
    return " ".join(f"{index * step + 2:.1f},{height + 2 - height * n / peak:.1f}" for index, n in enumerate(series))


def duration(minutes: float | None) -> str:
    if minutes is None:
        return "\u2013"
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{int(hours)} h {int(minutes % 60):02d} min"
    return f"{int(hours // 24)} d {int(hours % 24)} h"


def percent(share: float | None) -> str:
    return "\u2013" if share is None else f"{100 * share:.0f}%"


def number(value: float | None, digits: int = 1) -> str:
    return "\u2013" if value is None else f"{value:,.{digits}f}"


def local_time(value: datetime, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def brand_anchor(brand: str) -> str:
    return "brand-" + slug(brand)


_environment = Environment(
    loader=PackageLoader("alerts", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters.update(
    duration=duration, percent=percent, number=number, pvalue=format_p, anchor=brand_anchor, local=local_time
)
_environment.globals.update(volume_chart=volume_chart, negative_share_chart=negative_share_chart, spark=spark_points)


def render_html(digests: list[BrandDigest], generated_at: datetime) -> str:
    return _environment.get_template("digest.html.j2").render(digests=digests, generated_at=generated_at)
