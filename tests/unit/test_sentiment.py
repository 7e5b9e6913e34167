"""The complaint-domain sentiment layer: what it fixes in VADER, and what it survives."""

from __future__ import annotations

import csv
import time
from collections import Counter
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reputation.text import sentiment as sentiment_module
from reputation.text.sentiment import MAX_CHARS, Sentiment, SentimentAnalyzer, raw_vader
from reputation.text.sentiment_metrics import evaluate, fit_confidence

DATA = Path(__file__).parents[1] / "data" / "complaints_labeled.csv"


@pytest.fixture(scope="module")
def analyzer() -> SentimentAnalyzer:
    return SentimentAnalyzer()


def _rows(split: str) -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["split"] == split]


def test_sentiment_is_a_frozen_record() -> None:
    result = Sentiment("neutral", 0.0, 0.5)
    with pytest.raises(FrozenInstanceError):
        result.label = "positive"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "still waiting for my refund",
        "on hold for 40 minutes and counting",
        "third call this week about the same bill",
        "I was overcharged on my bill",
        "Thanks for nothing @QuickShip",
        "Great, another delay email.",
        "never again.",
        "Super disappointed with the new firmware",
        "my order 😡",
        "The router doesn't work",
    ],
)
def test_complaints_that_plain_vader_misses_are_negative(analyzer: SentimentAnalyzer, text: str) -> None:
    assert raw_vader(text).label != "negative"
    assert analyzer.score(text).label == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "Couldn't be happier with the new phone",
        "New router fixed all my wifi problems",
        "Hats off to the driver who carried it upstairs",
        "Package arrived a day early 👍",
    ],
)
def test_praise_that_plain_vader_misses_is_positive(analyzer: SentimentAnalyzer, text: str) -> None:
    assert raw_vader(text).label != "positive"
    assert analyzer.score(text).label == "positive"


def test_a_short_wait_is_not_a_complaint(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.score("I was on hold for 2 minutes and the agent sorted everything. amazing!").label == "positive"
    assert analyzer.score("I was on hold for 2 hours and nobody picked up").label == "negative"


def test_help_seeking_questions_stay_neutral(analyzer: SentimentAnalyzer) -> None:
    # "dispute", "damage" and "defects" name topics here, not feelings.
    for text in ("How do I dispute a transaction in the app?", "Does the warranty cover accidental damage?"):
        assert raw_vader(text).label == "negative"
        assert analyzer.score(text).label == "neutral"


def test_politeness_inside_a_complaint_is_not_praise(analyzer: SentimentAnalyzer) -> None:
    text = "Delivery guy threw my parcel over the fence, it's broken. Thanks ParcelPro lol"
    assert raw_vader(text).label == "positive"
    assert analyzer.score(text).label == "negative"
    assert analyzer.score("Thanks for the quick fix, all sorted now").label == "positive"


def test_brand_overrides_neutralise_names_that_carry_sentiment() -> None:
    text = "Picked up Crash Bandicoot at the Best Buy on 5th today."
    plain = SentimentAnalyzer().score(text)
    branded = SentimentAnalyzer({"Crash Bandicoot": 0.0, "Best Buy": 0.0}).score(text)
    assert plain.compound != 0.0
    assert branded.label == "neutral"
    assert branded.compound == 0.0


def test_brand_override_can_carry_a_valence() -> None:
    analyzer = SentimentAnalyzer({"LemonPhone": -2.5})
    assert analyzer.score("I bought a LemonPhone").label == "negative"
    assert SentimentAnalyzer().score("I bought a LemonPhone").label == "neutral"


def test_handles_are_names_not_opinions(analyzer: SentimentAnalyzer) -> None:
    assert raw_vader("@united gate 5 or 6 for the 10am?").label == "positive"
    assert analyzer.score("@united gate 5 or 6 for the 10am?").label == "neutral"


def test_raw_vader_is_plain_vader() -> None:
    text = "The book was kind of good, but the ending was awful!"
    expected = SentimentIntensityAnalyzer().polarity_scores(text)["compound"]
    assert raw_vader(text).compound == expected
    assert raw_vader(text).label == "negative"


def test_score_many_is_lazy_and_matches_score(analyzer: SentimentAnalyzer) -> None:
    texts = ["never again", "love it", "what time do you open?"]
    results = analyzer.score_many(iter(texts))
    assert not isinstance(results, list)
    assert list(results) == [analyzer.score(text) for text in texts]


def test_confidence_is_a_probability_that_grows_with_strength(analyzer: SentimentAnalyzer) -> None:
    weak = analyzer.score("the update is kind of annoying")
    strong = analyzer.score("Worst service ever, absolutely disgusting, never again!!!")
    assert weak.label == strong.label == "negative"
    assert 0.0 <= weak.confidence < strong.confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "\x00\x01\x02 refund \x7f\x9b",
        "broken \ud800 lone surrogate \udfff",
        bytes(range(256)).decode("latin-1") * 4,
        "Mi pedido nunca llegó y nadie responde. 最悪のサービス. worst service ever 😡",
        "😡" * 5000,
        ":(" * 3000,
    ],
)
def test_hostile_inputs_give_a_valid_result(analyzer: SentimentAnalyzer, text: str) -> None:
    for result in (analyzer.score(text), raw_vader(text)):
        assert result.label in ("negative", "neutral", "positive")
        assert -1.0 <= result.compound <= 1.0
        assert 0.0 <= result.confidence <= 1.0


def test_empty_text_is_neutral(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.score("").label == "neutral"
    assert analyzer.score("").compound == 0.0


def test_a_megabyte_is_bounded_to_its_head(analyzer: SentimentAnalyzer) -> None:
    head = "Still waiting for my refund, worst bank ever. "
    text = head + "lovely wonderful amazing " * 45_000  # ~1 MB
    assert len(text) > 1_000_000
    started = time.perf_counter()
    result = analyzer.score(text)
    assert time.perf_counter() - started < 2.0
    # Only the first MAX_CHARS count, so it equals scoring that head alone.
    assert result == analyzer.score(text[:MAX_CHARS].rsplit(" ", 1)[0])


def test_the_labelled_set_has_the_promised_shape() -> None:
    dev, heldout = _rows("dev"), _rows("heldout")
    labels = Counter(row["label"] for row in dev + heldout)
    total = len(dev) + len(heldout)
    assert 280 <= total <= 320
    assert 0.5 <= len(dev) / total <= 0.65
    assert labels["negative"] > labels["neutral"] > labels["positive"] > 0.2 * total


def test_beats_plain_vader_on_the_dev_split(analyzer: SentimentAnalyzer) -> None:
    dev = _rows("dev")
    ours = evaluate((row["label"], analyzer.score(row["text"]).label) for row in dev)
    plain = evaluate((row["label"], raw_vader(row["text"]).label) for row in dev)
    assert ours.macro_f1 > plain.macro_f1 + 0.15
    assert ours.accuracy > plain.accuracy + 0.15


def test_shipped_calibration_is_the_fit_on_dev(analyzer: SentimentAnalyzer) -> None:
    scored = []
    for row in _rows("dev"):
        result = analyzer.score(row["text"])
        scored.append((result.label, result.compound, row["label"]))
    polar, neutral = fit_confidence(scored)
    shipped = (sentiment_module.POLAR_CALIBRATION, sentiment_module.NEUTRAL_CALIBRATION)
    message = f"lexicon changed: refit gives POLAR={polar}, NEUTRAL={neutral}; update reputation/text/sentiment.py"
    for fitted, constant in zip((polar, neutral), shipped, strict=True):
        assert fitted == pytest.approx(constant, abs=0.01), message


def test_blank_override_names_are_ignored() -> None:
    text = "Still waiting for my refund"
    assert SentimentAnalyzer({"": 3.0, "  ": 3.0}).score(text) == SentimentAnalyzer().score(text)
