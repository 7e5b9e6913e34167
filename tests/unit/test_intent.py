"""Intent flags that alert rules read (a detractor = negative + needs help or angry)."""

from __future__ import annotations

import pytest

from reputation.text.intent import Intent, detect_intent
from reputation.text.sentiment import Sentiment, SentimentAnalyzer


@pytest.fixture(scope="module")
def analyzer() -> SentimentAnalyzer:
    return SentimentAnalyzer()


def test_labels_name_the_true_flags_in_field_order() -> None:
    intent = Intent(needs_help=True, question=False, problem_report=True, angry=False, churn_threat=True, review=False)
    assert intent.labels == ["needs_help", "problem_report", "churn_threat"]
    assert Intent(False, False, False, False, False, False).labels == []


def test_a_question_about_a_fault_needs_help() -> None:
    intent = detect_intent("My card was charged twice for one order, can you check?")
    assert intent.question and intent.problem_report and intent.needs_help
    assert not intent.churn_threat


def test_an_information_question_is_not_a_problem() -> None:
    intent = detect_intent("What time does the downtown branch open on Saturdays?")
    assert intent.labels == ["question"]


def test_an_explicit_request_needs_help_without_a_question_mark() -> None:
    assert detect_intent("please help, I can't log in to the app").needs_help
    assert detect_intent("@bank DM me, I need a replacement card").needs_help


def test_a_resolved_refund_is_not_a_problem() -> None:
    intent = detect_intent("Got my refund within 2 days, thanks!")
    assert not intent.problem_report
    assert not intent.needs_help


@pytest.mark.parametrize(
    "text",
    [
        "Never again flying with them.",
        "cancelling my contract tomorrow",
        "Taking my business elsewhere.",
        "I'm done with NorthBank, closing my account",
        "switching to a different provider next month",
    ],
)
def test_churn_threats(text: str) -> None:
    assert detect_intent(text).churn_threat


def test_switching_plans_is_not_churn() -> None:
    assert not detect_intent("Just switched my plan to the 50GB one.").churn_threat


def test_angry_needs_a_negative_post(analyzer: SentimentAnalyzer) -> None:
    text = "Worst airline ever. Lost my bag and nobody called back!!"
    angry = detect_intent(text, analyzer.score(text))
    assert angry.angry and angry.problem_report
    # "not terrible at all" says nothing angry once sentiment shows it is positive.
    mild = "Honestly not terrible at all, the crew were lovely"
    assert not detect_intent(mild, analyzer.score(mild)).angry


def test_shouting_with_strong_negative_sentiment_is_angry() -> None:
    shouting = Sentiment("negative", -0.8, 0.9)
    assert detect_intent("WHERE IS MY PACKAGE", shouting).angry
    assert not detect_intent("where is my package", Sentiment("negative", -0.3, 0.8)).angry


def test_review_from_the_platform_or_the_wording() -> None:
    assert detect_intent("Nice kettle.", is_review=True).review
    assert detect_intent("5 stars, would recommend").review
    assert not detect_intent("Nice kettle.").review


@pytest.mark.parametrize(
    "text",
    ["", "\x00\x01\ud800", bytes(range(256)).decode("latin-1"), "help! " * 200_000, "¿Dónde está mi pedido? 😡"],
)
def test_hostile_inputs_give_flags(text: str) -> None:
    assert isinstance(detect_intent(text), Intent)
