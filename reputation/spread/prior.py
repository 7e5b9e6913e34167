"""What cascades of a given age and size went on to do: the history a forecast shrinks toward.

A :class:`Prior` holds one :class:`Cell` per (platform, age bin, observed-size bin,
tempo bin), fitted by :func:`fit` from finished cascades: each sample is one cascade
seen at one age (its observed count then, the share of those events in the second
half of its age, SEISMIC's final then, and its true final size).  The tempo (that
recent share) tells a cascade still gathering pace from one that stalled, whatever
its platform's reaction times; every sample also counts for its cell of any tempo
(:data:`ANY_TEMPO`), the fallback where a tempo cell has too few samples.  The
package ships a prior fitted on simulated cascades (``prior.json``, built by
``python -m evals.spread_prior``); :func:`reputation.spread.cascades.learned_prior` fits one
from the store's own finished cascades and :meth:`Prior.over` lets it take over each
cell once the store has :data:`MIN_CELL` samples there.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from reputation.spread.seismic import FloatArray

AGE_EDGES_HOURS = (0.375, 0.75, 1.5, 3.0, 6.0, 12.0, 36.0)  # bins centred on 15 min, 30 min, 1 h, 2 h, 4 h ...
SIZE_EDGES = (1, 2, 3, 5, 8, 13, 21, 40, 80, 160, 400, 1000)  # observed events: 0, 1, 2, 3-4, 5-7, ...
TEMPO_EDGES = (0.2, 0.45)  # share of the observed events in the second half of the age: stalled, steady, rising
ANY_TEMPO = -1
MIN_CELL = 40  # samples a cell needs before it is trusted
LEVEL = 0.9  # the share of final sizes an interval claims to hold
# Residual quantiles are taken at this wider level: a margin for cascades unlike the history.
# Chosen with evals.spread_eval: at 0.90 a regime the prior never saw was covered 0.68-0.91,
# at 0.94 0.73-0.93 (and regimes it saw 0.92-0.96).
QUANTILE_LEVEL = 0.94
WEIGHTS = tuple(round(0.1 * i, 1) for i in range(11))
SHIFTS = tuple(round(-1.5 + 0.05 * i, 2) for i in range(51))
ANY_PLATFORM = "*"


Key = tuple[str, int, int, int]  # platform, age bin, size bin, tempo bin


def cell_index(age_seconds: float, observed: float, recent: float) -> tuple[int, int, int]:
    """(age bin, size bin, tempo bin) of a cascade ``age_seconds`` old with ``observed`` events,
    a share ``recent`` of them in the second half of that age."""
    age = bisect.bisect_right(AGE_EDGES_HOURS, max(age_seconds, 0.0) / 3600.0)
    return age, bisect.bisect_right(SIZE_EDGES, max(observed, 0.0)), bisect.bisect_right(TEMPO_EDGES, recent)


def recent_share(times_seconds: Iterable[float], age_seconds: float) -> float:
    """Share of the events seen by ``age_seconds`` (root excluded) that came in its second half."""
    seen = [t for t in times_seconds if 0.0 <= t <= age_seconds]
    return sum(t > age_seconds / 2.0 for t in seen) / len(seen) if seen else 0.0


@dataclass(frozen=True)
class Cell:
    count: int  # samples it was fitted on
    history: float  # median log growth log((final + 1) / (observed + 1))
    weight: float  # weight of SEISMIC's log growth in the blend
    shift: float  # added to the blend: the median-relative-error optimum
    low: float  # residual quantile at (1 - quantile_level) / 2
    high: float  # residual quantile at (1 + quantile_level) / 2
    error: float  # median relative error of the point forecast on its samples
    naive_error: float  # the same for "no further growth"


@dataclass(frozen=True)
class Prior:
    level: float
    max_ratio: float  # upper end of the interval, times observed, where no cell fits
    cells: dict[Key, Cell] = field(default_factory=dict)
    source: str = ""
    # The history holds only cascades that reached this many events: below it, whether a
    # cascade gets there at all is not in the history, so the interval starts at the observed count.
    min_final: int = 0

    def lookup(self, platform: str, age: int, size: int, tempo: int) -> Cell | None:
        """The platform's cell, else any platform's, first at this tempo then at any; else the
        nearest age with the same size."""
        for pace in (tempo, ANY_TEMPO):
            for key in (platform, ANY_PLATFORM):
                cell = self.cells.get((key, age, size, pace))
                if cell is not None:
                    return cell
        for step in range(1, len(AGE_EDGES_HOURS) + 1):
            for near in (age - step, age + step):
                cell = self.cells.get((ANY_PLATFORM, near, size, ANY_TEMPO))
                if cell is not None:
                    return cell
        return None

    def over(self, base: Prior) -> Prior:
        """This prior's cells where it has them, ``base``'s elsewhere."""
        return Prior(
            level=self.level,
            max_ratio=base.max_ratio,
            cells={**base.cells, **self.cells},
            source=f"{self.source} over {base.source}".strip(),
            min_final=max(self.min_final, base.min_final),
        )

    def to_json(self) -> str:
        cells = [
            {"platform": p, "age": a, "size": s, "tempo": t, **asdict(c)}
            for (p, a, s, t), c in sorted(self.cells.items())
        ]
        head = {
            "level": self.level,
            "max_ratio": self.max_ratio,
            "source": self.source,
            "min_final": self.min_final,
            "age_edges_hours": AGE_EDGES_HOURS,
            "size_edges": SIZE_EDGES,
            "tempo_edges": TEMPO_EDGES,
        }
        # One cell a line: small, and a rebuild shows as a readable diff.
        lines = [json.dumps(head)[:-1] + ', "cells": [', ",\n".join(json.dumps(cell) for cell in cells), "]}"]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Prior:
        body: dict[str, Any] = json.loads(text)
        edges = (tuple(body["age_edges_hours"]), tuple(body["size_edges"]), tuple(body.get("tempo_edges", ())))
        if edges != (AGE_EDGES_HOURS, SIZE_EDGES, TEMPO_EDGES):
            raise ValueError("prior was built with other bins; rebuild it with python -m evals.spread_prior")
        names = Cell.__dataclass_fields__
        cells = {
            (str(row["platform"]), int(row["age"]), int(row["size"]), int(row["tempo"])): Cell(
                **{k: row[k] for k in names}
            )
            for row in body["cells"]
        }
        return cls(
            level=float(body["level"]),
            max_ratio=float(body["max_ratio"]),
            cells=cells,
            source=str(body["source"]),
            min_final=int(body["min_final"]),
        )


@cache
def shipped() -> Prior:
    """The prior that ships with the package (fitted on simulated cascades)."""
    return Prior.from_json(resources.files("reputation.spread").joinpath("prior.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Samples:
    """Finished cascades each seen at one age: parallel arrays (platform one string each)."""

    platform: list[str]
    age_seconds: FloatArray
    observed: FloatArray
    recent: FloatArray  # share of the observed events in the second half of the age
    seismic_final: FloatArray
    final: FloatArray


def fit(
    samples: Samples,
    level: float = LEVEL,
    quantile_level: float = QUANTILE_LEVEL,
    min_cell: int = MIN_CELL,
    max_ratio: float = 20.0,
    min_final: int = 0,
    source: str = "",
) -> Prior:
    """One cell per (platform, age bin, size bin, tempo bin) with at least ``min_cell`` samples.

    Each platform gets its own cells and every sample also counts for ``ANY_PLATFORM``
    and for ``ANY_TEMPO``.  ``min_final``: the smallest final size the samples were chosen with.
    """
    growth = np.log((samples.final + 1.0) / (samples.observed + 1.0))
    seismic = np.log((np.maximum(samples.seismic_final, samples.observed) + 1.0) / (samples.observed + 1.0))
    index = [
        cell_index(a, o, r)
        for a, o, r in zip(
            samples.age_seconds.tolist(), samples.observed.tolist(), samples.recent.tolist(), strict=True
        )
    ]
    groups: dict[Key, list[int]] = {}
    for row, ((age, size, tempo), platform) in enumerate(zip(index, samples.platform, strict=True)):
        for key in {platform, ANY_PLATFORM}:
            for pace in (tempo, ANY_TEMPO):
                groups.setdefault((key, age, size, pace), []).append(row)
    cells: dict[Key, Cell] = {}
    for group, rows in groups.items():
        if len(rows) >= min_cell:
            chosen = np.array(rows)
            cells[group] = _fit_cell(
                growth[chosen], seismic[chosen], samples.observed[chosen], samples.final[chosen], quantile_level
            )
    return Prior(level=level, max_ratio=max_ratio, cells=cells, source=source, min_final=min_final)


def _fit_cell(
    growth: FloatArray, seismic: FloatArray, observed: FloatArray, final: FloatArray, quantile_level: float
) -> Cell:
    history = float(np.median(growth))
    truth = np.maximum(final, 1.0)
    base = observed + 1.0
    naive_error = float(np.median(np.abs(observed - final) / truth))
    best = (naive_error, 0.0, -math.inf)  # (error, weight, shift): -inf shift means "naive"
    for weight in WEIGHTS:
        center = weight * seismic + (1.0 - weight) * history
        for shift in SHIFTS:
            predicted = np.maximum(base * np.exp(center + shift) - 1.0, observed)
            error = float(np.median(np.abs(predicted - final) / truth))
            if error < best[0] - 1e-9:
                best = (error, weight, shift)
    error, weight, shift = best
    if math.isinf(shift):  # nothing beat "no further growth": forecast growth 0 (log 0 = observed)
        weight, shift = 0.0, -history
    residual = growth - (weight * seismic + (1.0 - weight) * history + shift)
    tail = (1.0 - quantile_level) / 2.0
    low, high = np.quantile(residual, [tail, 1.0 - tail])
    return Cell(
        count=int(growth.size),
        history=round(history, 6),
        weight=weight,
        shift=round(shift, 6),
        low=round(float(low), 6),
        high=round(float(high), 6),
        error=round(error, 4),
        naive_error=round(naive_error, 4),
    )
