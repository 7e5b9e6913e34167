"""Three-class sentiment metrics, label normalisation and confidence calibration.

Ground truth comes in two shapes: text labels ("negative", "neu", "-1", ...) and
mean human ratings on VADER's -4..+4 scale (Hutto & Gilbert's tweets). A rating is
neutral when it rounds to the scale's "0 Neutral" anchor, i.e. |rating| <= 0.5:
raters placed it nearer "neither" than "slightly positive/negative". VADER's own
+-0.05 cut-off belongs to its compound score (-1..1); on the -4..+4 rating scale
0.05 is a fortieth of a scale step and would leave only 108 of 4,200 tweets
neutral. Both systems are always scored against the same mapped ground truth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

LABELS = ("negative", "neutral", "positive")
# Half a step of the -4..+4 rating scale either side of its neutral anchor.
RATING_NEUTRAL_BAND = 0.5

_TEXT_LABELS = {
    "negative": "negative", "neg": "negative", "-1": "negative",
    "neutral": "neutral", "neu": "neutral", "0": "neutral",
    "positive": "positive", "pos": "positive", "1": "positive", "+1": "positive",
}  # fmt: skip


def normalize_label(value: object, *, rating_band: float = RATING_NEUTRAL_BAND) -> str:
    """One of LABELS for a text label, -1/0/1, or a mean rating on -4..+4.

    Raises ValueError for anything else (empty, "maybe", NaN, a bool).
    """
    if isinstance(value, bool):
        raise ValueError(f"not a sentiment label: {value!r}")
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _TEXT_LABELS:
            return _TEXT_LABELS[key]
        try:
            rating = float(key)
        except ValueError:
            raise ValueError(f"not a sentiment label: {value!r}") from None
    elif isinstance(value, int | float):
        rating = float(value)
    else:
        raise ValueError(f"not a sentiment label: {value!r}")
    if math.isnan(rating) or math.isinf(rating):
        raise ValueError(f"not a sentiment label: {value!r}")
    if rating > rating_band:
        return "positive"
    if rating < -rating_band:
        return "negative"
    return "neutral"


@dataclass(frozen=True)
class Metrics:
    """Accuracy, macro-F1 and macro-recall over the classes seen, plus the confusion matrix.

    `confusion[i][j]` counts texts of true class LABELS[i] predicted as LABELS[j].
    Macro averages run over the classes present in the truth or the predictions,
    as scikit-learn does by default.
    """

    n: int
    accuracy: float
    macro_f1: float
    macro_recall: float
    confusion: tuple[tuple[int, int, int], ...]
    labels: tuple[str, ...] = LABELS

    def recall(self, label: str) -> float:
        """Share of the texts truly `label` that were predicted `label` (0 when there are none)."""
        row = self.confusion[self.labels.index(label)]
        return row[self.labels.index(label)] / sum(row) if sum(row) else 0.0

    @property
    def negatives_read_positive(self) -> float:
        """Share of truly negative texts predicted positive: the detractor a monitor files as a fan."""
        row = self.confusion[self.labels.index("negative")]
        return row[self.labels.index("positive")] / sum(row) if sum(row) else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "macro_recall": round(self.macro_recall, 4),
            "recall": {label: round(self.recall(label), 4) for label in self.labels},
            "negatives_read_positive": round(self.negatives_read_positive, 4),
            "labels": list(self.labels),
            "confusion": [list(row) for row in self.confusion],
        }


class ConfusionCounter:
    """Streams (true, predicted) pairs into a 3x3 count matrix: constant memory."""

    def __init__(self) -> None:
        self._counts = [[0, 0, 0] for _ in LABELS]
        self._index = {label: i for i, label in enumerate(LABELS)}

    def add(self, true: str, predicted: str) -> None:
        self._counts[self._index[true]][self._index[predicted]] += 1

    @property
    def n(self) -> int:
        return sum(map(sum, self._counts))

    def metrics(self) -> Metrics:
        counts = self._counts
        n = self.n
        correct = sum(counts[i][i] for i in range(len(LABELS)))
        f1s: list[float] = []
        recalls: list[float] = []
        for i in range(len(LABELS)):
            support = sum(counts[i])
            predicted = sum(row[i] for row in counts)
            if not support and not predicted:
                continue  # a class absent on both sides says nothing
            tp = counts[i][i]
            recalls.append(tp / support if support else 0.0)
            f1s.append(2 * tp / (support + predicted))
        return Metrics(
            n=n,
            accuracy=correct / n if n else 0.0,
            macro_f1=sum(f1s) / len(f1s) if f1s else 0.0,
            macro_recall=sum(recalls) / len(recalls) if recalls else 0.0,
            confusion=tuple((row[0], row[1], row[2]) for row in counts),
        )


def evaluate(pairs: Iterable[tuple[str, str]]) -> Metrics:
    """Metrics for (true, predicted) label pairs, both already normalised."""
    counter = ConfusionCounter()
    for true, predicted in pairs:
        counter.add(true, predicted)
    return counter.metrics()


def fit_logistic(
    xs: Sequence[float], ys: Sequence[int], *, l2: float = 1e-3, iterations: int = 100
) -> tuple[float, float]:
    """(intercept, slope) of P(y=1 | x) = sigmoid(a + b x), by Newton's method.

    A small ridge term keeps the fit finite when the classes separate perfectly,
    which happens on a few hundred hand-labelled posts.
    """
    if len(xs) != len(ys) or not xs:
        raise ValueError("need as many targets as inputs, and at least one")
    a = b = 0.0
    for _ in range(iterations):
        ga, gb = l2 * a, l2 * b
        haa, hab, hbb = l2, 0.0, l2
        for x, y in zip(xs, ys, strict=True):
            p = 1.0 / (1.0 + math.exp(-max(min(a + b * x, 35.0), -35.0)))
            w = p * (1.0 - p)
            ga += p - y
            gb += (p - y) * x
            haa += w
            hab += w * x
            hbb += w * x * x
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        step_a = (hbb * ga - hab * gb) / det
        step_b = (haa * gb - hab * ga) / det
        a, b = a - step_a, b - step_b
        if abs(step_a) < 1e-10 and abs(step_b) < 1e-10:
            break
    return a, b


def fit_confidence(
    scored: Iterable[tuple[str, float, str]],
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Calibration pairs for polar and neutral predictions.

    `scored` yields (predicted label, compound, true label); each pair maps
    |compound| to the probability that a prediction of that kind is right.
    """
    polar: tuple[list[float], list[int]] = ([], [])
    neutral: tuple[list[float], list[int]] = ([], [])
    for predicted, compound, true in scored:
        xs, ys = neutral if predicted == "neutral" else polar
        xs.append(abs(compound))
        ys.append(int(predicted == true))
    return fit_logistic(*polar), fit_logistic(*neutral)
