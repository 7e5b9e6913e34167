"""Final-size predictions for every cascade in a CSV of reshare events.

The file has the header ``cascade_id,time,followers`` (other columns are
ignored, order is free), or is JSON lines (``.jsonl``/``.ndjson``: one object per
event with those keys, ``followers`` possibly null or absent): ``time`` is seconds since the cascade's root post and
``followers`` may be empty.  Rows may come in any order.  Per cascade, the root
is its first row (in file order) with time 0; a cascade without such a row gets
a root with an unknown follower count.  Rows after ``observe_seconds`` are not
read into memory.  Negative times are dropped (and counted by
:func:`reputation.spread.seismic.predict`); a non-numeric or non-finite time, or a
non-numeric follower count, raises :class:`~reputation.errors.InputError` naming
the line.  Empty, ``NA``, ``null``, ``none`` and ``nan`` follower counts are
unknown.  Cascades are yielded in order of first appearance.

Each SEISMIC prediction is blended with the shipped prior's history
(:mod:`reputation.spread.forecast`): ``predicted_final`` and ``interval`` are the
blend's, ``coverage_level`` the share of final sizes the interval is meant to hold and
``uncertain`` whether the forecast is too loose to act on.  ``supercritical`` is still
SEISMIC's own verdict.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from reputation.errors import InputError
from reputation.spread.forecast import forecast
from reputation.spread.prior import ANY_PLATFORM, Prior, recent_share, shipped
from reputation.spread.seismic import DEFAULT_PARAMS, SeismicParams, predict_many

_COLUMNS = ("cascade_id", "time", "followers")
_MISSING = {"", "na", "n/a", "nan", "null", "none"}
_BATCH = 20_000  # cascades predicted per vectorised call
_JSON_LINES = {".jsonl", ".ndjson"}


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


def _csv_rows(handle: TextIO, path: Path) -> Iterator[tuple[int, str, str, str]]:
    """(line, cascade_id, time, followers) of each non-blank CSV row."""
    reader = csv.reader(handle)
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in _COLUMNS if name not in header]
    if missing:
        raise InputError(f"{path}: header must name {', '.join(_COLUMNS)} (missing {', '.join(missing)})")
    at = [header.index(name) for name in _COLUMNS]
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) <= max(at):
            raise InputError(f"{path}, line {reader.line_num}: expected {len(header)} fields, got {len(row)}")
        key, time_text, followers_text = (row[i].strip() for i in at)
        yield reader.line_num, key, time_text, followers_text


def _jsonl_rows(handle: TextIO, path: Path) -> Iterator[tuple[int, str, str, str]]:
    """The same from JSON lines: one object per event with the same three keys (followers may be null)."""
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError:
            raise InputError(f"{path}, line {line}: not a JSON object") from None
        if not isinstance(item, dict) or "cascade_id" not in item or "time" not in item:
            raise InputError(f"{path}, line {line}: an event needs cascade_id and time")
        followers = item.get("followers")
        yield line, str(item["cascade_id"]).strip(), str(item["time"]), "" if followers is None else str(followers)


def _read(path: Path, observe_seconds: float) -> dict[str, _Cascade]:
    limit = 0.0 if math.isnan(observe_seconds) else max(observe_seconds, 0.0)
    cascades: dict[str, _Cascade] = {}
    rows = _jsonl_rows if path.suffix.lower() in _JSON_LINES else _csv_rows
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for line, key, time_text, followers_text in rows(handle, path):
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


def predict_csv(
    path: Path, observe_seconds: float, params: SeismicParams = DEFAULT_PARAMS, prior: Prior | None = None
) -> Iterator[dict[str, Any]]:
    """One dict per cascade: cascade_id, observed, predicted_final, interval [low, high], supercritical,
    coverage_level, uncertain."""
    history = prior if prior is not None else shipped()
    age = 0.0 if math.isnan(observe_seconds) else max(observe_seconds, 0.0)
    cascades = _read(Path(path), observe_seconds)
    keys = list(cascades)
    for start in range(0, len(keys), _BATCH):
        chunk = keys[start : start + _BATCH]
        rows = []
        for key in chunk:
            cascade = cascades[key]
            root = None if cascade.root is None or math.isnan(cascade.root) else cascade.root
            rows.append(([0.0, *cascade.times], [root, *cascade.followers]))
        results = predict_many(rows, observe_seconds, params)
        observed = np.array([float(result.observed) for result in results])
        blended = forecast(
            history,
            [ANY_PLATFORM] * len(results),
            np.full(len(results), age),
            observed,
            np.array([recent_share(cascades[key].times, age) for key in chunk]),
            np.array([result.predicted_final for result in results]),
        )
        for i, (key, result) in enumerate(zip(chunk, results, strict=True)):
            yield {
                "cascade_id": key,
                "observed": result.observed,
                "predicted_final": float(blended.predicted_final[i]),
                "interval": [float(blended.low[i]), float(blended.high[i])],
                "supercritical": result.supercritical,
                "coverage_level": blended.level,
                "uncertain": bool(blended.uncertain[i]),
            }
