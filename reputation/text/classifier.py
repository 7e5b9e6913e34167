"""Learned sentiment: a logistic regression over MiniLM embeddings and the lexicon layer's signals.

The lexicon layer (VADER plus the complaint cues, `reputation.text.sentiment`) is precise on
the phrases it was written for and blind outside them; the sentence embedding carries
what rules cannot list (sarcasm, polite complaints, slang). One multinomial logistic
regression reads both: 384 embedding dimensions and the `SIGNALS` below. Weights are
trained by `python -m evals.train_sentiment` (`make train-sentiment`) on public labeled
data only and ship as sentiment_model.npz, sha256-checked at load; sentiment_model.json
beside it names the data, its provenance and the measured figures.

Two adjustments sit on top of the regression, both fitted on a calibration part that the
regression never saw: a temperature that makes the probabilities calibrated, and a bias
towards the negative class, because a detractor monitor must not miss angry customers.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reputation.text import complaint_lexicon as lex
from reputation.text.embeddings import HANDLES_AND_LINKS, Embedder, EmbeddingError, Matrix
from reputation.text.intent import detect_intent
from reputation.text.sentiment import LABELS, NEGATIVE, Sentiment, SentimentAnalyzer, _bounded, _plain_vader

MODEL_PATH = Path(__file__).with_name("sentiment_model.npz")
# sha256 of MODEL_PATH as written by `python -m evals.train_sentiment`.
MODEL_SHA256 = "de6fb0e072c6d7bf2e53cc4281a228f9b786c90e4c89dc8fae2463aea512856e"

SIGNALS = (
    "vader_compound",
    "vader_positive",
    "vader_negative",
    "layer_compound",
    "layer_question",
    "negative_cues",
    "positive_cues",
    "negative_emoji",
    "positive_emoji",
    "praise_then_problem",
    "layer_overturns_vader",
    "needs_help",
    "problem_report",
    "angry",
    "churn_threat",
    "question",
)

# "Great, another delay", "love waiting 2 hours", "thanks a lot": praise that opens a post
# whose other signals are negative, or that names a bad event, reads as irony, not as praise.
_PRAISE_OPENER = re.compile(
    r"^\W*(?:@\w+\W+)*(?:oh\W+)?(?:so\W+)?(?:great|love|loving|thanks?|thank you|awesome|nice|perfect|wonderful|"
    r"fantastic|brilliant|amazing|cool|gotta love|just what i needed|yay|well done|good job)\b",
    re.IGNORECASE,
)
# ... and praise that closes one: "my flight got cancelled again. Love it." / "just great".
_PRAISE_CLOSER = re.compile(
    r"(?:\b(?:love it|loving it|great|perfect|awesome|brilliant|wonderful|fantastic|just great|thanks a lot|"
    r"thanks a bunch|well done|good job|nice one|classic)|just what i needed)\W*(?:#\w+\W*)*$",
    re.IGNORECASE,
)
# Events that are bad news whatever the words around them; with praise, they mark irony.
_BAD_EVENT = re.compile(
    r"\b(?:cancell?ed|delay(?:ed|s)?|late|lost|broke|broken|stuck|stranded|waiting|waited|on hold|again|"
    r"another|still|no one|nobody|never|crash(?:ed|es|ing)?|down|overbooked|missed|charged)\b",
    re.IGNORECASE,
)
_EMOJI = re.compile("|".join(map(re.escape, sorted(lex.EMOJI, key=len, reverse=True))))
# A brand's support team writing ("we're sorry for the delay, please DM us"): its apology is
# not a customer's sentiment, and none of the training sets has such posts, so a rule decides.
_AGENT_VOICE = re.compile(
    r"\b(?:we(?:'re| are) (?:so |very |really |truly |terribly )?sorry|we apologi[sz]e|(?:send|drop) us an? "
    r"(?:dm|direct message|private message|pm)|(?:please )?dm us|our team is (?:working|looking)|"
    r"we(?:'re| are) (?:aware|looking into|working on))\b",
    re.IGNORECASE,
)


def embedding_text(text: str) -> str:
    """The text as the embedder sees it for sentiment: handles and links carry none."""
    return " ".join(HANDLES_AND_LINKS.sub(" ", text).split())


def signals(text: str, analyzer: SentimentAnalyzer) -> npt.NDArray[np.float32]:
    """The lexicon side of the features, in `SIGNALS` order."""
    vader = _plain_vader().polarity_scores(_bounded(text))  # one pass for compound, pos and neg
    layer = analyzer.signals(text)
    intent = detect_intent(text, layer.sentiment)
    emoji = [lex.EMOJI[found] for found in _EMOJI.findall(text[:2000])]
    negative_signal = (
        layer.negative_cues > 0
        or intent.problem_report
        or layer.sentiment.compound < -0.05
        or bool(_BAD_EVENT.search(text[:2000]))
    )
    praise = bool(_PRAISE_OPENER.search(text)) or bool(_PRAISE_CLOSER.search(text[:2000].rstrip()))
    compound = float(vader["compound"])
    return np.array(
        [
            compound,
            float(vader["pos"]),
            float(vader["neg"]),
            layer.sentiment.compound,
            layer.is_question,
            min(layer.negative_cues, 3) / 3,
            min(layer.positive_cues, 3) / 3,
            min(sum(1 for v in emoji if v < 0), 3) / 3,
            min(sum(1 for v in emoji if v > 0), 3) / 3,
            praise and negative_signal,
            compound > 0.05 and layer.sentiment.compound < -0.05,
            intent.needs_help,
            intent.problem_report,
            intent.angry,
            intent.churn_threat,
            intent.question,
        ],
        dtype=np.float32,
    )


@dataclass(frozen=True)
class SentimentModel:
    """The trained weights: standardisation, coefficients, temperature and negative bias."""

    mean: npt.NDArray[np.float32]
    scale: npt.NDArray[np.float32]
    coef: npt.NDArray[np.float32]  # (3, features), rows in LABELS order
    intercept: npt.NDArray[np.float32]
    temperature: float
    negative_bias: float

    def probabilities(self, features: Matrix) -> Matrix:
        logits = ((features - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits = logits / self.temperature
        logits[:, LABELS.index(NEGATIVE)] += self.negative_bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        result: Matrix = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return result

    def save(self, path: Path) -> None:
        # np.savez stamps each member with the current time; a fixed stamp and member
        # order make the same weights give the same bytes, so retraining can be checked.
        arrays = {
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
            "intercept": self.intercept,
            "temperature": np.array(self.temperature, dtype=np.float32),
            "negative_bias": np.array(self.negative_bias, dtype=np.float32),
        }
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
                archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(2026, 1, 1, 0, 0, 0)), buffer.getvalue())


def load_model(path: Path = MODEL_PATH, sha256: str | None = MODEL_SHA256) -> SentimentModel:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256:
        raise EmbeddingError(
            f"{path}: sha256 {digest} is not the expected {sha256}; retrain with `make train-sentiment`"
        )
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return SentimentModel(
            mean=arrays["mean"].astype(np.float32),
            scale=arrays["scale"].astype(np.float32),
            coef=arrays["coef"].astype(np.float32),
            intercept=arrays["intercept"].astype(np.float32),
            temperature=float(arrays["temperature"].reshape(-1)[0]),
            negative_bias=float(arrays["negative_bias"].reshape(-1)[0]),
        )


@lru_cache(maxsize=1)
def default_model() -> SentimentModel:
    return load_model()


class SentimentClassifier:
    """Scores posts with the learned model; per-brand lexicon overrides act through `analyzer`."""

    def __init__(self, embedder: Embedder, model: SentimentModel | None = None) -> None:
        self.embedder = embedder
        self.model = model or default_model()

    def features(self, texts: Sequence[str], analyzer: SentimentAnalyzer, vectors: Matrix | None = None) -> Matrix:
        if vectors is None:
            vectors = self.embedder.embed([embedding_text(text) for text in texts])
        # The lexicon side depends on the text alone, and streams repeat texts (retweets, copied
        # complaints, bots): each distinct text is read once, as the embedder embeds it once.
        distinct = {text: row for row, text in enumerate(dict.fromkeys(texts))}
        lexical = (
            np.stack([signals(text, analyzer) for text in distinct])[[distinct[text] for text in texts]]
            if texts
            else np.zeros((0, len(SIGNALS)))
        )
        result: Matrix = np.hstack([vectors, lexical]).astype(np.float32)
        return result

    def score_many(
        self, texts: Sequence[str], analyzer: SentimentAnalyzer, vectors: Matrix | None = None
    ) -> list[Sentiment]:
        """One Sentiment per text: label, polarity P(positive) - P(negative) on -1..1, calibrated confidence.

        `vectors`, when given, are the texts' embeddings (of `embedding_text(text)`, or of the
        issue clusterer's cleaned text: the pipeline embeds each post once for both).
        """
        if not texts:
            return []
        probabilities = self.model.probabilities(self.features(texts, analyzer, vectors))
        positive, negative = LABELS.index("positive"), LABELS.index(NEGATIVE)
        out = []
        for text, row in zip(texts, probabilities, strict=True):
            if _AGENT_VOICE.search(text[:2000]):
                out.append(Sentiment("neutral", 0.0, round(float(row[LABELS.index("neutral")]), 4)))
                continue
            best = int(row.argmax())
            polarity = float(row[positive] - row[negative])
            out.append(Sentiment(LABELS[best], round(polarity, 4), round(float(row[best]), 4)))
        return out


def classifier_for(embedder: Embedder | None = None) -> SentimentClassifier | None:
    """The learned classifier on `embedder` when it is MiniLM (shared, so posts are embedded once),
    else on its own MiniLM; None when MiniLM is not installed (the lexicon layer then decides alone)."""
    from reputation.text.embeddings import MiniLMEmbedder, make_embedder, minilm_available

    if embedder is not None and embedder.name == MiniLMEmbedder.name:
        return SentimentClassifier(embedder)
    if not minilm_available():
        return None
    return SentimentClassifier(make_embedder("minilm"))
