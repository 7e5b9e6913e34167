"""Does the int8 ONNX MiniLM stand in for the fp32 numpy one? Vectors, speed and issue clustering.

`python -m evals.onnx_agreement`: cosine between the two embedders' vectors on TweetEval's
validation tweets and banking77's queries (../shared/data), texts per second of each on the
same texts in the same run (one thread for onnxruntime, numpy's BLAS as configured), and
`evals.issues_eval` run with each embedder.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from evals.issues_eval import DEFAULT_CSV, evaluate
from reputation.text.embeddings import Embedder, MiniLMEmbedder
from reputation.text.onnx_embedder import OnnxMiniLMEmbedder

TWEETS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sentiment" / "tweeteval_sentiment_val.tsv"


def _texts() -> dict[str, list[str]]:
    with TWEETS.open(encoding="utf-8", newline="") as handle:
        tweets = [row["text"] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]
    with DEFAULT_CSV.open(encoding="utf-8", newline="") as handle:
        queries = [row["text"] for row in csv.DictReader(handle)]
    return {"tweeteval_val": tweets, "banking77": queries}


def _timed(embedder: Embedder, texts: list[str]) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    return vectors, len(texts) / (time.perf_counter() - started)


def main() -> None:
    fp32, int8 = MiniLMEmbedder(), OnnxMiniLMEmbedder()
    fp32.embed(["warm up"])
    int8.embed(["warm up"])
    for name, texts in _texts().items():
        a, speed_a = _timed(fp32, texts)
        b, speed_b = _timed(int8, texts)  # distinct texts: the cache only helps repeats inside the set
        cosine = (a * b).sum(axis=1)
        print(
            f"{name}: {len(texts)} texts; cosine int8 vs fp32 min {cosine.min():.4f}, "
            f"1st percentile {np.percentile(cosine, 1):.4f}, mean {cosine.mean():.4f}; "
            f"numpy fp32 {speed_a:.0f} texts/s, onnx int8 {speed_b:.0f} texts/s ({speed_b / speed_a:.1f}x)"
        )
    for embedder in (MiniLMEmbedder(), OnnxMiniLMEmbedder()):
        print(embedder.__class__.__name__)
        print("\n".join(evaluate(DEFAULT_CSV, embedder)), flush=True)


if __name__ == "__main__":
    main()
