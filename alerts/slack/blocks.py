"""Slack alert messages, built as Block Kit through slack_sdk.

Everything that came from the internet is shown as plain_text, which Slack
renders without formatting, and is escaped as Slack documents (&, <, >), which
turns `<!channel>`, `<@U123>` and `<https://x|y>` into text. The fallback
`text` (what notifications show) is escaped the same way.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)

from alerts.rules import Finding
from reputation.alerting import RaisedAlert
from reputation.spread.forecast import describe
from reputation.wording import plural

# Slack's documented limits, less a margin for the ellipsis.
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
FALLBACK_CHARS = 3000
_SEVERITY_MARK = {"critical": "\U0001f534", "high": "\U0001f7e0", "medium": "\U0001f7e1", "low": "\u26aa"}
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_SAFE_URL = re.compile(r"^https://[^\s<>|]+$")


def escape_mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def clip_escaped(text: str, limit: int) -> str:
    """Escape, then cut to `limit` without leaving half an entity behind."""
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    return _PARTIAL_ENTITY.sub("", escaped[: limit - 1]) + "\u2026"


def _plain(text: str, limit: int) -> PlainTextObject:
    # Slack decodes &amp; &lt; &gt; in every text object, so plain_text is
    # escaped too. An empty plain_text is rejected, so a dash holds the place.
    return PlainTextObject(text=clip_escaped(text, limit) or "-", emoji=False)


def _fields(finding: Finding) -> list[PlainTextObject]:
    facts = finding.facts
    pairs: list[tuple[str, Any]] = [
        ("Brand", finding.brand),
        ("Where", facts.get("platform")),
        ("Who", f"@{facts['handle']}" if facts.get("handle") else None),
        ("Followers", f"{facts['followers']:,}" if isinstance(facts.get("followers"), int) else None),
        (
            "Spread",
            f"{facts['cascade_size']} events, {facts['velocity_per_hour']:.0f} in last hour"
            if "cascade_size" in facts
            else None,
        ),
        ("Reach", f"{facts['reach']:,}" if isinstance(facts.get("reach"), int) else None),
        ("Predicted final", forecast_text(facts)),
        ("Issue", issue_text(facts)),
        ("Volume", f"{facts['posts']} posts vs {facts['expected']} expected" if "posts" in facts else None),
        ("Complaints", f"{facts['complaints']} on {', '.join(facts['platforms'])}" if "complaints" in facts else None),
    ]
    return [_plain(f"{label}: {value}", FIELD_CHARS) for label, value in pairs if value not in (None, "")][:10]


def forecast_text(facts: dict[str, Any]) -> str | None:
    """The predicted final size as a range: "40 (90% range 31–52)" or "uncertain, 3–60 (90% range)"."""
    final = facts.get("predicted_final")
    if not isinstance(final, float):
        return None
    low, high = facts.get("predicted_low"), facts.get("predicted_high")
    return describe(
        final,
        low if isinstance(low, float) else None,
        high if isinstance(high, float) else None,
        facts.get("prediction_uncertain") is True,
        float(facts.get("prediction_level") or 0.9),
    )


def issue_text(facts: dict[str, Any]) -> str | None:
    """The issue a post belongs to, with its size: "refund not received (63 posts)"; one post is no trend yet."""
    label, size = facts.get("issue_label"), facts.get("issue_size")
    if not label:
        return None
    return f"{label} ({plural(size, 'post')})" if isinstance(size, int) else str(label)


# The block id carries the incident, so every element (the user picker too) names it.
ACTIONS_BLOCK_PREFIX = "incident-actions:"


def action_buttons(incident_id: int) -> ActionsBlock:
    """What `reputation serve` answers: acknowledge, assign, resolve, false positive."""
    value = str(incident_id)
    return ActionsBlock(
        block_id=f"{ACTIONS_BLOCK_PREFIX}{incident_id}",
        elements=[
            ButtonElement(text="Acknowledge", action_id="acknowledge", value=value, style="primary"),
            UserSelectElement(action_id="assign", placeholder="Assign to\u2026"),
            ButtonElement(text="Resolve", action_id="resolve", value=value),
            ButtonElement(text="False positive", action_id="false_positive", value=value, style="danger"),
        ],
    )


def build_message(alert: RaisedAlert, finding: Finding, history: list[dict[str, Any]]) -> dict[str, Any]:
    """The webhook payload: a fallback `text` for notifications and the blocks."""
    mark = _SEVERITY_MARK.get(alert.severity, "")
    blocks: list[Block] = [
        HeaderBlock(text=_plain(f"{mark} {alert.title}", HEADER_CHARS)),
        SectionBlock(fields=_fields(finding) or [_plain(alert.rule, FIELD_CHARS)]),
    ]
    if finding.facts.get("text"):
        quote = " ".join(str(finding.facts["text"]).split())
        blocks.append(SectionBlock(text=_plain(f"\u201c{quote}\u201d", SECTION_CHARS)))
    url = str(finding.facts.get("url") or "")
    context = [MarkdownTextObject(text=f"Severity *{alert.severity}* \u00b7 incident #{alert.incident_id}")]
    if _SAFE_URL.match(url):
        context.append(MarkdownTextObject(text=f"<{escape_mrkdwn(url)}|Open the post>"))
    blocks.append(ContextBlock(elements=context))
    if history:
        blocks.append(DividerBlock())
        lines = [
            f"{item['when']} on {item['platform']}"
            f"{' (incident ' + item['incident'] + ')' if item.get('incident') else ''}: {item['snippet']}"
            for item in history
        ]
        blocks.append(SectionBlock(text=_plain("Said before:\n" + "\n".join(lines), SECTION_CHARS)))
    blocks.append(action_buttons(alert.incident_id))
    fallback = clip_escaped(f"[{alert.severity}] {alert.title}", FALLBACK_CHARS)
    # to_dict() runs slack_sdk's own validation of every block and its limits.
    return {"text": fallback, "blocks": [block.to_dict() for block in blocks]}
