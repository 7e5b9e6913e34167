"""Average-linkage clustering of unit vectors, cut at a similarity: no number of clusters to give.

The tree comes from SciPy's `linkage`, the very routine scikit-learn's `AgglomerativeClustering`
(precomputed distances, average linkage, a distance threshold) hands its work to; the cut below is
the one it makes. Calling SciPy directly keeps the partition and saves loading scikit-learn
(about a second of imports on a cold process, paid by every `reputation run`).

`with_shared_words` lets the things two complaints both name count beside their embeddings: MiniLM puts
"thank you Omar for seating us together" near every other thank-you, whatever it thanks for, and groups
held together by tone have no thing in common to be named by.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Sequence

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


# How much two complaints naming the same things gain in similarity, at most. Chosen over 0.15 and 0.2 on banking77,
# CFPB and the tuning halves of the airline sets (`python -m evals.topics_eval --split`): issue names that name the
# gold topic averaged 0.60 over the four at 0.1, 0.56 at 0.15, 0.55 at 0.2. README.md has the held-out figures.
SHARED_WORDS_WEIGHT = 0.1


def with_shared_words(vectors: Matrix, words: Sequence[Collection[str]], weight: float = SHARED_WORDS_WEIGHT) -> Matrix:
    """`vectors` with a TF-IDF part over the words each text names (`words[i]` for row i), so that the dot product
    of two rows is their cosine plus `weight` times their words' cosine times how specific both are.

    Only words that two or more texts share count, weighted by how rare they are in the batch (idf). A text's
    specificity is the length of its TF-IDF vector against that of a word only it would use (log n), at most 1: a
    post naming only a word a third of the batch uses ("card" among bank queries, "flight" among an airline's)
    gains little from sharing it, one naming a word few others use gains nearly the whole weight. Without it,
    shuffled banking77 queries fed in cycles of 500 at the fixed level 0.55 fell from NMI 0.769 to 0.734 (`python
    -m evals.issues_eval`); with it, to 0.751. Rows are no longer unit vectors, but average linkage only needs the
    dot products."""
    counts = Counter(word for named in words for word in set(named))
    shared = sorted(word for word, count in counts.items() if count >= 2)
    if weight <= 0 or not shared:
        return vectors
    column = {word: i for i, word in enumerate(shared)}
    part = np.zeros((len(vectors), len(shared)), dtype=np.float32)
    for row, named in enumerate(words):
        for word in set(named):
            if word in column:
                part[row, column[word]] = math.log(len(words) / counts[word])
    norms = np.linalg.norm(part, axis=1, keepdims=True)
    specific = np.minimum(norms / math.log(len(words)), 1.0)
    part = np.divide(part, norms, out=np.zeros_like(part), where=norms > 0) * np.sqrt(specific)
    return np.hstack([vectors, math.sqrt(weight) * part]).astype(np.float32)
