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

    Only which rows share a label means anything, not the numbers.
    """
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.intp)
    from scipy.cluster.hierarchy import fcluster, linkage

    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    upper, lower = np.triu_indices(len(vectors), k=1)
    merges = linkage(distance[upper, lower], method="average")
    # scikit-learn keeps the merges strictly below the threshold distance; fcluster keeps those at or below
    # its t, so t is the largest float under the threshold.
    cut = np.nextafter(1.0 - join_similarity, -np.inf)
    labels: npt.NDArray[np.intp] = np.asarray(fcluster(merges, t=cut, criterion="distance"), dtype=np.intp) - 1
    return labels
