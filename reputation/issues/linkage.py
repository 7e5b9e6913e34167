"""Average-linkage clustering of unit vectors, cut at a similarity: no number of clusters to give."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from reputation.text.embeddings import Matrix


def average_linkage(vectors: Matrix, join_similarity: float) -> npt.NDArray[np.intp]:
    """Cluster labels for unit vectors: average linkage, cut where similarity falls below the threshold."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.intp)
    from sklearn.cluster import AgglomerativeClustering

    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    model = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=1.0 - join_similarity
    )
    labels: npt.NDArray[np.intp] = np.asarray(model.fit_predict(distance), dtype=np.intp)
    return labels
