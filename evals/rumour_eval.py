"""The spread forecast on real rumour reply trees (SemEval-2017 Task 8, RumourEval).

Run ``python -m evals.rumour_eval DIR`` where ``DIR`` holds ``traindev/`` and ``test/``
folders with ``posts.json`` (post id -> {"time": unix seconds, "text": ...}) and
``structures.json`` (thread id -> nested reply tree), as converted in
CloneNOX/MSA-BiGCN @ f202004b8d20e01843b8a76da78a2d2803318597, ``datasets/semeval2017-task8``
(data: Derczynski et al., SemEval-2017 Task 8, built on PHEME, CC BY 4.0; tweets remain
Twitter's).  The data is not in this repository: copy it to a scratch folder.

Each thread is a cascade: the source tweet is the root, every reply in its tree an
event at its seconds since the source; no follower counts.  The final size is the
number of replies collected.  Scored: threads with at least ``MIN_FINAL`` replies, seen
at 15 min, 30 min and 1 h, with the shipped prior (fitted on simulated cascades only)
and, to train on one source and test on another, with a prior fitted on the other
split's real threads (``traindev`` -> ``test`` and back; each split is small, so these
priors fall back to the shipped cells where a cell has too few threads).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from evals.spread_prior import MIN_FINAL
from reputation.spread.forecast import forecast
from reputation.spread.prior import Prior, Samples, fit, recent_share, shipped
from reputation.spread.seismic import predict_many

HOURS = (0.25, 0.5, 1.0)
FIT_HOURS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 24.0)
Cascade = tuple[list[float], list[float | None]]


def _ids(node: Any, out: list[str]) -> None:
    if isinstance(node, dict):
        for key, child in node.items():
            out.append(str(key))
            _ids(child, out)


def load_split(folder: Path) -> list[Cascade]:
    posts: dict[str, dict[str, Any]] = json.loads((folder / "posts.json").read_text(encoding="utf-8"))
    trees: dict[str, Any] = json.loads((folder / "structures.json").read_text(encoding="utf-8"))
    cascades: list[Cascade] = []
    for thread, tree in sorted(trees.items()):
        if thread not in posts:
            continue
        start = float(posts[thread]["time"])
        ids: list[str] = []
        _ids(tree, ids)
        times = sorted(float(posts[i]["time"]) - start for i in ids if i != thread and i in posts)
        cascades.append(([0.0, *times], [None] * (len(times) + 1)))
    return cascades


def _seismic(cascades: list[Cascade], hours: float) -> tuple[np.ndarray, np.ndarray]:
    results = predict_many(cascades, hours * 3600.0)
    return np.array([float(r.observed) for r in results]), np.array([r.predicted_final for r in results])


def _recent(cascades: list[Cascade], hours: float) -> np.ndarray:
    return np.array([recent_share(times[1:], hours * 3600.0) for times, _ in cascades])


def real_prior(cascades: list[Cascade]) -> Prior:
    final = np.array([float(len(times) - 1) for times, _ in cascades])
    parts = [(hours, *_seismic(cascades, hours)) for hours in FIT_HOURS]
    samples = Samples(
        platform=["*"] * (len(cascades) * len(parts)),
        age_seconds=np.concatenate([np.full(len(cascades), h * 3600.0) for h, _, _ in parts]),
        observed=np.concatenate([obs for _, obs, _ in parts]),
        recent=np.concatenate([_recent(cascades, h) for h, _, _ in parts]),
        seismic_final=np.concatenate([s for _, _, s in parts]),
        final=np.tile(final, len(parts)),
    )
    return fit(samples, min_cell=15, min_final=MIN_FINAL, source="rumour").over(shipped())


def report(label: str, prior: Prior, cascades: list[Cascade]) -> None:
    final = np.array([float(len(times) - 1) for times, _ in cascades])
    for hours in HOURS:
        observed, seismic = _seismic(cascades, hours)
        ages = np.full(final.size, hours * 3600.0)
        result = forecast(prior, ["*"] * final.size, ages, observed, _recent(cascades, hours), seismic)
        inside = (result.low <= final) & (final <= result.high)
        print(
            f"  {label:24s} {hours:>5.2f} h  n={final.size}  naive {np.median((final - observed) / final):.3f}"
            f"  SEISMIC {np.median(np.abs(seismic - final) / final):.3f}"
            f"  blend {np.median(np.abs(result.predicted_final - final) / final):.3f}"
            f"  coverage {inside.mean():.2f}  uncertain {result.uncertain.mean():.2f}"
        )


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m evals.rumour_eval DIR  (DIR holds traindev/ and test/)")
    root = Path(sys.argv[1])
    splits = {name: load_split(root / name) for name in ("traindev", "test")}
    scored = {name: [c for c in found if len(c[0]) - 1 >= MIN_FINAL] for name, found in splits.items()}
    print(f"RumourEval reply trees with >= {MIN_FINAL} replies (median relative error; 90% interval coverage):")
    for name, found in scored.items():
        report(f"shipped prior / {name}", shipped(), found)
    for train, test in (("traindev", "test"), ("test", "traindev")):
        report(f"fit {train} / {test}", real_prior(scored[train]), scored[test])


if __name__ == "__main__":
    main()
