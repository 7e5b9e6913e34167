"""Average-linkage clustering of unit vectors, cut at a similarity: no number of clusters to give.

The merges come from the nearest-neighbour chain, step for step as SciPy's `linkage(method="average")`
(which scikit-learn's `AgglomerativeClustering` ran for us) finds them, ties included, in numpy: the
same partition without importing scikit-learn and SciPy's clustering modules, a second and more of a
cold process's first batch (`reputation run`, every Airflow task).
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
    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0).astype(np.float64)
    # Every merge below the threshold distance, as scikit-learn cut SciPy's tree: the merges
    # that distance sorts first, whichever order the chain found them in.
    below = 1.0 - join_similarity
    return _components(len(vectors), [(a, b) for a, b, height in _nn_chain(distance) if height < below])


def _nn_chain(distance: npt.NDArray[np.float64]) -> list[tuple[int, int, float]]:
    """Average-linkage merges (kept slot, absorbed slot, height) in the order the chain makes them.

    A cluster lives in the slot of one of its rows; a slot that was absorbed reads as infinitely far.
    """
    count = len(distance)
    far = distance.copy()
    np.fill_diagonal(far, np.inf)
    sizes = np.ones(count)
    merges: list[tuple[int, int, float]] = []
    chain: list[int] = []
    first_alive = 0
    for _ in range(count - 1):
        if not chain:
            while sizes[first_alive] == 0:
                first_alive += 1
            chain.append(first_alive)
        while True:
            x = chain[-1]
            nearest = int(np.argmin(far[x]))  # the lowest row among equals, as SciPy scans
            # On a tie the chain's previous cluster wins, so reciprocal neighbours end the walk.
            previous = chain[-2] if len(chain) > 1 else -1
            y = previous if previous >= 0 and far[x, previous] <= far[x, nearest] else nearest
            if y == previous:
                break
            chain.append(y)
        del chain[-2:]
        x, y = min(x, y), max(x, y)  # the cluster lives on in the higher slot, as in SciPy
        height = float(far[x, y])
        merges.append((x, y, height))
        joined = (sizes[x] * far[x] + sizes[y] * far[y]) / (sizes[x] + sizes[y])
        sizes[y] += sizes[x]
        sizes[x] = 0
        joined[y] = np.inf
        far[y, :] = far[:, y] = joined
        far[x, :] = far[:, x] = np.inf
    return merges


def _components(count: int, pairs: list[tuple[int, int]]) -> npt.NDArray[np.intp]:
    """Each row's group once `pairs` are joined, numbered by the group's first row."""
    parent = list(range(count))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in pairs:
        parent[root(a)] = root(b)
    numbered: dict[int, int] = {}
    return np.array([numbered.setdefault(root(row), len(numbered)) for row in range(count)], dtype=np.intp)
