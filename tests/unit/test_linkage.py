import math

import numpy as np
import pytest

from reputation.issues import average_linkage
from reputation.text.embeddings import normalise_rows


def _partition(labels: np.ndarray) -> list[tuple[int, ...]]:
    groups: dict[int, list[int]] = {}
    for row, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(row)
    return sorted(tuple(group) for group in groups.values())


@pytest.mark.parametrize("seed", range(12))
def test_the_same_partition_as_scikit_learns_agglomerative_clustering(seed: int) -> None:
    # The implementation it replaced; repeated texts give exact duplicates, so half the cases have them.
    from sklearn.cluster import AgglomerativeClustering

    rng = np.random.default_rng(seed)
    count = int(rng.integers(2, 200))
    centres = rng.normal(size=(int(rng.integers(1, 10)), 16))
    points = centres[rng.integers(0, len(centres), count)] + rng.normal(scale=rng.uniform(0.2, 1.2), size=(count, 16))
    if seed % 2:
        points[count // 2 :] = points[: count - count // 2]
    vectors = normalise_rows(points.astype(np.float32))
    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)
    for join in (0.3, 0.55, 0.8):
        expected = AgglomerativeClustering(
            n_clusters=None, metric="precomputed", linkage="average", distance_threshold=1.0 - join
        ).fit_predict(distance)
        assert _partition(average_linkage(vectors, join)) == _partition(expected)


def test_a_merge_exactly_at_the_threshold_is_not_made() -> None:
    # scikit-learn cut strictly below the threshold distance; two vectors at exactly cos 0.5 stay apart at 0.5.
    vectors = np.array([[1.0, 0.0], [0.5, np.sqrt(0.75)]], dtype=np.float32)  # cosine 0.5, exactly
    assert _partition(average_linkage(vectors, 0.5)) == [(0,), (1,)]
    assert _partition(average_linkage(vectors, 0.5 - 1e-6)) == [(0, 1)]
    assert average_linkage(vectors[:1], 0.9).tolist() == [0]


def test_shared_words_add_their_cosine_times_the_weight_and_how_specific_the_texts_are() -> None:
    from reputation.issues.linkage import with_shared_words

    vectors = normalise_rows(np.random.default_rng(3).normal(size=(6, 8)).astype(np.float32))
    words = [{"seat", "flight"}, {"seat", "flight"}, {"bag", "flight"}, {"flight", "wifi"}, {"flight"}, {"flight"}]
    widened = with_shared_words(vectors, words, weight=0.1)
    gained = widened @ widened.T - vectors @ vectors.T
    # Rows 0 and 1 name the same thing, which 2 of 6 texts name: their words' cosine is 1, and each is as specific
    # as that word's idf, log(6 / 2), against log(6) for a word only one text would name.
    assert gained[0, 1] == pytest.approx(0.1 * math.log(3) / math.log(6), abs=1e-6)
    # "flight", in every row, separates nothing and adds nothing; "bag" and "wifi", named once, cannot be shared.
    assert np.allclose([gained[0, 2], gained[0, 3], gained[2, 3], gained[4, 5]], 0.0, atol=1e-6)


def test_a_word_many_texts_share_brings_them_less_close_than_a_rare_one() -> None:
    from reputation.issues.linkage import with_shared_words

    vectors = normalise_rows(np.eye(12, dtype=np.float32))
    words = [{"hinge"}, {"hinge"}, *[{"card"}] * 6, set(), set(), set(), set()]
    widened = with_shared_words(vectors, words, weight=0.1)
    gained = widened @ widened.T  # the posts' own vectors are orthogonal: all closeness is the words'
    assert gained[0, 1] > 2 * gained[2, 3] > 0


def test_without_shared_words_the_vectors_are_left_as_they_are() -> None:
    from reputation.issues.linkage import with_shared_words

    vectors = normalise_rows(np.eye(3, dtype=np.float32))
    assert with_shared_words(vectors, [{"seat"}, {"bag"}, set()]) is vectors
    assert with_shared_words(vectors, [{"seat"}, {"seat"}, set()], weight=0.0) is vectors


def test_two_complaints_a_little_apart_join_when_they_name_the_same_thing() -> None:
    from reputation.issues.linkage import with_shared_words

    # Three posts pairwise at cosine 0.5, under a join level of 0.55, beside seven posts like none of them: alone,
    # none join. The two that name the seat come within the level once their shared word counts (0.1 times
    # log(10 / 2) / log(10), 0.07); the third stays apart.
    vectors = np.zeros((10, 10), dtype=np.float32)
    vectors[:3, :3] = [[1.0, 0.0, 0.0], [0.5, np.sqrt(0.75), 0.0], [0.5, 0.5 / np.sqrt(3), np.sqrt(2 / 3)]]
    vectors[3:, 3:] = np.eye(7)
    alone = [(0,), (1,), (2,), *[(i,) for i in range(3, 10)]]
    assert _partition(average_linkage(vectors, 0.55)) == alone
    words = [{"seat"}, {"seat"}, {"bag"}, *[set()] * 7]
    widened = with_shared_words(vectors, words, weight=0.1)
    assert _partition(average_linkage(widened, 0.55)) == [(0, 1), (2,), *[(i,) for i in range(3, 10)]]
