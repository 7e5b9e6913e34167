"""Issue clustering measured on banking77: `python -m evals.issues_eval [CSV]`.

banking77's test split (3,080 bank-customer queries, 77 intents) stands in for
complaints. The categories are split in two halves (seeded): the join
threshold is tuned on one (maximising NMI + ARI) and reported on the other, the
number of issues never given. Each half also checks splits: two intents forced
into one issue should come apart, one intent alone should stay whole. Then the
incremental path: the texts arrive in cycles of 500 (with and without the split
check after each cycle), and a second run on the same texts plus 10% new ones
shows how many keep their issue id.
"""

from __future__ import annotations

import csv
import itertools
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from reputation.issues import Complaint, IssueClusterer, average_linkage
from reputation.issues.splits import REVIEW_SAMPLE, issues_to_review, parts_of, review, split_similarity
from reputation.text.embeddings import Embedder, HashingEmbedder, Matrix, MiniLMEmbedder, minilm_available

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "issues" / "banking77_test.csv"
GRID = [round(0.1 + 0.05 * i, 2) for i in range(15)]
CYCLE = 500
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class _Cached:
    """Serves vectors computed once, so the grid and the cycles do not re-embed."""

    def __init__(self, inner: Embedder, texts: Sequence[str], vectors: Matrix) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.known = dict(zip(texts, vectors, strict=True))

    def embed(self, texts: Sequence[str]) -> Matrix:
        missing = [t for t in texts if t not in self.known]
        if missing:
            self.known.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.stack([self.known[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)


def _scores(truth: Sequence[str], found: Sequence[object]) -> tuple[float, float, int]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return normalized_mutual_info_score(truth, found), adjusted_rand_score(truth, found), len(set(found))


def _incremental(
    embedder: Embedder, texts: Sequence[str], join: float | None, split: bool = True
) -> tuple[_Counting, dict[str, str | None]]:
    """The texts in cycles of CYCLE, as `reputation run` feeds them; `join` None lets the clusterer choose the
    level from the first cycle, as it does for a brand in production (MiniLM only)."""
    clusterer = _Counting([], embedder=embedder, join_similarity=join)
    complaints = [Complaint(f"b77:{i}", None, text, T0 + timedelta(seconds=i)) for i, text in enumerate(texts)]
    assigned: dict[str, str | None] = {}
    for start in range(0, len(complaints), CYCLE):
        clusterer.touched.clear()
        assigned.update(clusterer.assign_all(complaints[start : start + CYCLE]))
        if split:
            _split_grown(clusterer, complaints[: start + CYCLE], assigned)
    return clusterer, {key: clusterer.resolve(v) if v else None for key, v in assigned.items()}


class _Counting(IssueClusterer):
    split_count = 0


def _split_grown(clusterer: _Counting, seen: Sequence[Complaint], assigned: dict[str, str | None]) -> None:
    """What the enricher does after a cycle, with the members held in memory instead of the store."""
    for issue in issues_to_review(clusterer):
        members = [
            c for c in seen if assigned[c.mention_key] and clusterer.resolve(str(assigned[c.mention_key])) == issue.id
        ]
        for found in review(clusterer, issue, members[-REVIEW_SAMPLE:], T0):
            assigned.update({key: found.target for key in found.moved})
            clusterer.split_count += 1


def evaluate(path: Path, embedder: Embedder) -> list[str]:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    texts, truth = [r["text"] for r in rows], [r["category"] for r in rows]
    started = time.perf_counter()
    cached = _Cached(embedder, texts, embedder.embed(texts))
    seconds = time.perf_counter() - started
    categories = sorted(set(truth))
    random.Random(7).shuffle(categories)
    dev = set(categories[: len(categories) // 2])
    halves = {
        "tune": [i for i, c in enumerate(truth) if c in dev],
        "held-out": [i for i, c in enumerate(truth) if c not in dev],
    }
    vectors = cached.embed(texts)

    def batch(indexes: list[int], join: float) -> tuple[float, float, int]:
        return _scores([truth[i] for i in indexes], average_linkage(vectors[indexes], join).tolist())

    join = max(GRID, key=lambda j: sum(batch(halves["tune"], j)[:2]))
    lines = [f"{embedder.name}: {len(texts)} texts embedded in {seconds:.1f}s; join similarity tuned: {join}"]
    for name, indexes in halves.items():
        nmi, ari, k = batch(indexes, join)
        lines.append(
            f"  {name:>9} half ({len({truth[i] for i in indexes})} intents): NMI {nmi:.3f} ARI {ari:.3f} issues {k}"
        )
        lines += split_check(vectors, truth, sorted({truth[i] for i in indexes}), split_similarity(embedder.name, join))
    nmi, ari, k = batch(list(range(len(texts))), join)
    lines.append(f"  all, one batch: NMI {nmi:.3f} ARI {ari:.3f} issues {k}")
    order = list(range(len(texts)))
    random.Random(11).shuffle(order)
    shuffled = [texts[i] for i in order]
    base = int(len(order) / 1.1)
    clusterer, first = _incremental(cached, shuffled[:base], join)
    found = [str(first[f"b77:{i}"]) for i in range(base)]
    nmi, ari, k = _scores([truth[order[i]] for i in range(base)], found)
    lines.append(f"  incremental, cycles of {CYCLE}, {base} texts: NMI {nmi:.3f} ARI {ari:.3f} issues {k}")
    _, unsplit = _incremental(cached, shuffled[:base], join, split=False)
    nmi, ari, k = _scores([truth[order[i]] for i in range(base)], [str(unsplit[f"b77:{i}"]) for i in range(base)])
    lines.append(f"    the same without splitting grown issues: NMI {nmi:.3f} ARI {ari:.3f} issues {k}")
    _, adaptive = _incremental(cached, shuffled[:base], None)
    nmi, ari, k = _scores([truth[order[i]] for i in range(base)], [str(adaptive[f"b77:{i}"]) for i in range(base)])
    lines.append(
        f"    the same at the level the clusterer chooses from the first cycle: NMI {nmi:.3f} ARI {ari:.3f} issues {k}"
    )
    reviewed = sum(1 for issue in clusterer.issues.values() if issue.reviewed_size)
    lines.append(f"    issues checked for a split: {reviewed}; parts split off: {clusterer.split_count}")
    later = clusterer.assign_all(
        [Complaint(f"b77:{i}", None, shuffled[i], T0 + timedelta(seconds=i)) for i in range(base, len(order))]
    )
    kept = sum(clusterer.resolve(str(first[f"b77:{i}"])) == str(first[f"b77:{i}"]) for i in range(base))
    lines.append(f"  +10% new texts as a further cycle: {kept / base:.1%} of earlier texts keep their issue id")
    _, rerun = _incremental(cached, shuffled, join)
    same = sum(rerun[f"b77:{i}"] == first[f"b77:{i}"] for i in range(base))
    lines.append(f"  re-run from scratch on the same texts +10%: {same / base:.1%} keep their issue id")
    nmi, ari, k = _scores(
        [truth[order[i]] for i in range(len(order))], [str(rerun[f"b77:{i}"]) for i in range(len(order))]
    )
    lines.append(f"  that re-run, all texts: NMI {nmi:.3f} ARI {ari:.3f} issues {k}; {len(later)} new texts")
    return lines


def split_check(vectors: Matrix, truth: Sequence[str], intents: Sequence[str], split_at: float) -> list[str]:
    """Two intents forced into one issue should come apart; one intent alone should stay whole."""
    from sklearn.metrics import adjusted_rand_score

    rows = {intent: [i for i, t in enumerate(truth) if t == intent] for intent in intents}
    whole = sum(len(parts_of(vectors[rows[intent]], split_at)) == 1 for intent in intents)
    pairs = list(itertools.combinations(sorted(intents), 2))
    random.Random(13).shuffle(pairs)
    recovered, tried = 0, 0
    for a, b in pairs[:100]:
        for small in (len(rows[b]), 10):  # equal parts, and a second problem just starting
            members = rows[a] + rows[b][:small]
            found = [0] * len(members)
            for label, part in enumerate(parts_of(vectors[members], split_at)):
                for row in part:
                    found[row] = label
            recovered += adjusted_rand_score([truth[i] for i in members], found) >= 0.8
            tried += 1
    return [
        f"    one intent as an issue, left whole: {whole}/{len(intents)}",
        f"    two intents forced into one issue, split back apart (ARI >= 0.8): {recovered}/{tried}",
    ]


def main(argv: Sequence[str] = ()) -> None:
    path = Path(argv[0]) if argv else DEFAULT_CSV
    embedders: list[Embedder] = [HashingEmbedder()]
    if minilm_available():
        embedders.append(MiniLMEmbedder())
    for embedder in embedders:
        print("\n".join(evaluate(path, embedder)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
