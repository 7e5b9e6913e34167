"""Average-linkage clustering of unit vectors, cut at a similarity: no number of clusters to give.

The tree comes from SciPy's `linkage`, the very routine scikit-learn's `AgglomerativeClustering`
(precomputed distances, average linkage, a distance threshold) hands its work to; the cut below is
the one it makes. Calling SciPy directly keeps the partition and saves loading scikit-learn
(about a second of imports on a cold process, paid by every `reputation run`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from reputation.text.embeddings import Matrix


def average_linkage(vectors: Matrix, join_similarity: float) -> npt.NDArray[np.intp]:
    """Cluster labels for unit vectors: average linkage, cut where similarity falls below the threshold.

    Labels are numbered in order of each cluster's first row; only which rows share one means anything.
    """
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.intp)
    from scipy.cluster.hierarchy import linkage

    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    upper, lower = np.triu_indices(len(vectors), k=1)
    merges = linkage(distance[upper, lower], method="average")
    # As scikit-learn cuts: every merge but those at or above the threshold distance, counted, so the
    # earliest merges are kept (average linkage never merges below an earlier merge's height).
    kept = len(merges) - int(np.count_nonzero(merges[:, 2] >= 1.0 - join_similarity))
    return _flat_labels(merges[:kept, :2].astype(np.intp), len(vectors))


def _flat_labels(merges: npt.NDArray[np.intp], leaves: int) -> npt.NDArray[np.intp]:
    """Which cluster each leaf is in after `merges` (SciPy's rows: node `leaves + i` joins the pair in row i)."""
    parent = np.arange(leaves + len(merges), dtype=np.intp)
    for row, (left, right) in enumerate(merges.tolist()):
        parent[left] = parent[right] = leaves + row
    # A node's parent is always numbered above it, so walking down from the top finds every root in one pass.
    root = parent.tolist()
    for node in range(len(root) - 1, -1, -1):
        root[node] = root[root[node]]
    numbered: dict[int, int] = {}
    return np.array([numbered.setdefault(root[leaf], len(numbered)) for leaf in range(leaves)], dtype=np.intp)
