"""Untrusted text in a Slack alert is data: it cannot ping, format or mislead."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from alerts.rules import Finding
from alerts.slack.blocks import build_message, escape_mrkdwn
from reputation.alerting import RaisedAlert
from reputation.config import Severity

HOSTILE = (
    "<!channel> <!here> <@U024BE7LH> <#C123|general> *bold* _it_ ~s~ `code` "
    "<https://evil.example|voltmart.com> &amp; \u202eRTL\u202c zero\u200bwidth \ud800 "
)


def alert_and_finding(text: str, handle: str = "maya", title: str = "Detractor post") -> tuple[RaisedAlert, Finding]:
    facts: dict[str, Any] = {
        "text": text,
        "url": "https://x.com/maya/status/1",
        "platform": "x",
        "handle": handle,
        "followers": 3800,
        "cascade_size": 12,
        "cascade_authors": 9,
        "velocity_per_hour": 7.0,
        "reach": 50_000,
        "negative_share": 0.8,
        "predicted_final": 80.0,
        "issue_label": text[:50],
    }
    finding = Finding(
        "detractor:x:1",
        "detractor",
        "Voltmart",
        Severity.HIGH,
        title,
        12.0,
        datetime(2026, 1, 8, tzinfo=UTC),
        facts=facts,
    )
    alert = RaisedAlert(1, "detractor", "high", "Voltmart", title, "summary", False)
    return alert, finding


def texts_of(payload: dict[str, Any]) -> list[str]:
    found: list[str] = [payload["text"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payload["blocks"])
    return found


def assert_inert(payload: dict[str, Any]) -> None:
    for block in Block.parse_all(payload["blocks"]):
        block.validate_json()  # slack_sdk's own checks, including lengths
    assert len(payload["blocks"]) <= 50
    for text in texts_of(payload):
        # Our single link is the only "<" allowed; everything else is escaped.
        stripped = text.replace("<https://x.com/maya/status/1|Open the post>", "")
        assert "<" not in stripped and ">" not in stripped, text
    json.dumps(payload)  # serialisable, as the webhook will send it


def test_hostile_post_cannot_ping_or_format() -> None:
    alert, finding = alert_and_finding(HOSTILE, handle="<!channel>", title="<@U1> *pinged*")
    payload = build_message(alert, finding, history=[{"when": "t", "platform": "x", "snippet": "<!here>"}])
    assert_inert(payload)
    assert "&lt;!channel&gt;" in json.dumps(payload)


def test_huge_post_respects_slack_limits() -> None:
    alert, finding = alert_and_finding("<" * 100_000, title="x" * 500)
    payload = build_message(alert, finding, history=[])
    assert_inert(payload)
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) <= 150


def test_untrusted_url_is_not_linked() -> None:
    alert, finding = alert_and_finding("hi")
    finding.facts["url"] = "https://ok.example/a|<!channel>"
    assert "Open the post" not in json.dumps(build_message(alert, finding, []))
    assert escape_mrkdwn("a&<b>") == "a&amp;&lt;b&gt;"


@settings(max_examples=150, deadline=None)
@given(text=st.text(min_size=0, max_size=3000), handle=st.text(max_size=80))
def test_any_text_gives_valid_inert_blocks(text: str, handle: str) -> None:
    alert, finding = alert_and_finding(text, handle=handle, title=f"Detractor post by @{handle}")
    assert_inert(build_message(alert, finding, history=[]))


def test_the_issue_field_says_how_many_posts_the_issue_holds() -> None:
    alert, finding = alert_and_finding("my refund never arrived")
    finding.facts.update({"issue_label": "refund not received", "issue_size": 63})
    assert "Issue: refund not received (63 posts)" in texts_of(build_message(alert, finding, []))
    finding.facts["issue_size"] = 1
    assert "Issue: refund not received (1 post)" in texts_of(build_message(alert, finding, []))


def test_the_prediction_is_a_range_and_an_uncertain_one_says_so() -> None:
    alert, finding = alert_and_finding("Voltmart lost my order")
    finding.facts.update(predicted_low=61.0, predicted_high=1204.0, prediction_uncertain=False, prediction_level=0.9)
    assert "Predicted final: 80 (90% range 61\u20131,204)" in texts_of(build_message(alert, finding, []))
    finding.facts.update(prediction_uncertain=True)
    texts = texts_of(build_message(alert, finding, []))
    assert "Predicted final: uncertain, 61\u20131,204 (90% range)" in texts
    assert not any("Predicted final: 80" in text for text in texts)  # no single number when it cannot tell
