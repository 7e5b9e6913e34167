"""Final-size predictions for every cascade in a CSV of reshare events.

The file has the header ``cascade_id,time,followers`` (other columns are
ignored, order is free): ``time`` is seconds since the cascade's root post and
``followers`` may be empty.  Rows may come in any order.  Per cascade, the root
is its first row (in file order) with time 0; a cascade without such a row gets
a root with an unknown follower count.  Rows after ``observe_seconds`` are not
read into memory.  Negative times are dropped (and counted by
:func:`reputation.spread.seismic.predict`); a non-numeric or non-finite time, or a
non-numeric follower count, raises :class:`~reputation.errors.InputError` naming
the line.  Empty, ``NA``, ``null``, ``none`` and ``nan`` follower counts are
unknown.  Cascades are yielded in order of first appearance.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reputation.errors import InputError
from reputation.spread.seismic import DEFAULT_PARAMS, SeismicParams, predict_many

_COLUMNS = ("cascade_id", "time", "followers")
_MISSING = {"", "na", "n/a", "nan", "null", "none"}
_BATCH = 20_000  # cascades predicted per vectorised call


class _Cascade:
    __slots__ = ("followers", "root", "times")

    def __init__(self) -> None:
        self.root: float | None = None  # followers of the root, once seen (NaN: unknown)
        self.times: list[float] = []
        self.followers: list[float | None] = []


def _number(text: str, what: str, line: int, path: Path) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path}, line {line}: {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{path}, line {line}: {what} {text!r} is not a finite number")
    return value


def _read(path: Path, observe_seconds: float) -> dict[str, _Cascade]:
    limit = 0.0 if math.isnan(observe_seconds) else max(observe_seconds, 0.0)
    cascades: dict[str, _Cascade] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip().lower() for name in next(reader, [])]
            missing = [name for name in _COLUMNS if name not in header]
            if missing:
                raise InputError(f"{path}: header must name {', '.join(_COLUMNS)} (missing {', '.join(missing)})")
            at = [header.index(name) for name in _COLUMNS]
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) <= max(at):
                    raise InputError(f"{path}, line {line}: expected {len(header)} fields, got {len(row)}")
                key, time_text, followers_text = (row[i].strip() for i in at)
                seconds = _number(time_text, "time", line, path)
                followers = (
                    None if followers_text.lower() in _MISSING else _number(followers_text, "followers", line, path)
                )
                if seconds > limit:
                    continue
                cascade = cascades.setdefault(key, _Cascade())
                if seconds == 0 and cascade.root is None:
                    cascade.root = math.nan if followers is None else followers
                else:
                    cascade.times.append(seconds)
                    cascade.followers.append(followers)
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path}: not a readable CSV file ({error})") from None
    return cascades


def predict_csv(path: Path, observe_seconds: float, params: SeismicParams = DEFAULT_PARAMS) -> Iterator[dict[str, Any]]:
    """One dict per cascade: cascade_id, observed, predicted_final, interval [low, high], supercritical."""
    cascades = _read(Path(path), observe_seconds)
    keys = list(cascades)
    for start in range(0, len(keys), _BATCH):
        chunk = keys[start : start + _BATCH]
        rows = []
        for key in chunk:
            cascade = cascades[key]
            root = None if cascade.root is None or math.isnan(cascade.root) else cascade.root
            rows.append(([0.0, *cascade.times], [root, *cascade.followers]))
        for key, result in zip(chunk, predict_many(rows, observe_seconds, params), strict=True):
            yield {
                "cascade_id": key,
                "observed": result.observed,
                "predicted_final": result.predicted_final,
                "interval": [result.interval[0], result.interval[1]],
                "supercritical": result.supercritical,
            }
