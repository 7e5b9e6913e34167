"""The digest's top lines: as plain text (email, terminal) and as a Slack Block Kit message.

Issue labels, handles and post texts come from the internet. In Slack they are
plain_text, escaped and clipped with alerts.slack.blocks' own helpers, exactly as
alerts are; the only mrkdwn is the link to the page, whose URL comes from the
configuration and is escaped too.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, PlainTextObject, SectionBlock

from alerts.digest.page import duration, number, percent
from alerts.digest.records import BrandDigest, IssueLine, SpreadLine
from alerts.digest.responses import ResponseSummary
from alerts.slack.blocks import FALLBACK_CHARS, FIELD_CHARS, HEADER_CHARS, SECTION_CHARS, clip_escaped, escape_mrkdwn
from reputation.spread.forecast import describe
from reputation.spread.prior import shipped
from reputation.wording import format_p, plural

LISTED = 5
_ARROW = {"up": "\u2191", "down": "\u2193", "flat": "\u2192", "new": "new"}


def _plain(text: str, limit: int) -> PlainTextObject:
    # Slack decodes &amp; &lt; &gt; in plain_text as well, so it is escaped the same way.
    return PlainTextObject(text=clip_escaped(text, limit) or "-", emoji=False)


def day_heading(d: BrandDigest) -> str:
    since = f" from {d.starts_at}" if d.starts_at else ""
    heading = f"{d.brand}, {d.day.strftime('%A %d %B %Y')}{since} ({d.timezone})"
    return heading + (", day not over yet" if d.in_progress else "")


def mentions_text(d: BrandDigest) -> str:
    before = f"{number(d.average_before)}/day before" if d.average_before is not None else "no earlier days"
    return f"Mentions: {d.today.total} ({before})"


def negative_text(d: BrandDigest) -> str:
    before = f"{percent(d.negative_share_before)} before" if d.negative_share_before is not None else "no baseline"
    return f"Negative: {percent(d.today.negative_share)} ({before})"


def volume_line(d: BrandDigest) -> str:
    return f"{mentions_text(d)}; {negative_text(d).lower()}"


def acknowledge_text(d: BrandDigest) -> str:
    s = d.incident_stats
    if not s.opened:
        return "none opened"
    if not s.acknowledge_times:
        return f"none of {s.opened} acknowledged yet"
    return f"{duration(s.minutes_to_acknowledge)} (median, {len(s.acknowledge_times)} of {s.opened} acknowledged)"


def incidents_line(d: BrandDigest) -> str:
    s = d.incident_stats
    return (
        f"Incidents: {s.opened} opened, {s.acknowledged} acknowledged, {s.resolved} resolved, "
        f"{s.unresolved_at_end} unresolved; median time to alert {duration(s.minutes_to_alert)}; "
        f"time to acknowledge: {acknowledge_text(d)}"
    )


def collection_line(d: BrandDigest) -> str | None:
    if not d.has_data:
        return "No data: no mention stored and no source run for this brand yet."
    parked = (
        f" {plural(d.alerts_parked, 'alert')} parked after repeated delivery failures"
        " (retried hourly; `reputation outbox retry --all` resends now)."
        if d.alerts_parked
        else ""
    )
    if not d.unhealthy_sources:
        return parked.strip() or None
    sources = ", ".join(f"{h.source} ({h.status})" for h in d.unhealthy_sources)
    if d.collection_down:
        return (
            f"Nothing collected, no source ran cleanly: {sources}. Treat this as missing data, not a quiet day."
            + parked
        )
    return f"Collection incomplete: {sources}. Volume and sentiment may read low." + parked


def emerging_line(line: IssueLine) -> str:
    kind = "New issue" if line.status == "new" else "Spiking issue"
    alert = " (alert level)" if line.alert_level else ""
    expected = "0" if line.new else f"{number(line.expected)} (p={format_p(line.p_value)})"
    return (
        f"{kind} \u201c{line.label}\u201d: {plural(line.today, 'post')} from {line.authors} people"
        f" vs {expected} expected{alert}"
    )


def issue_line(line: IssueLine) -> str:
    return f"{_ARROW[line.trend]} {line.label}: {plural(line.today, 'post')}"


def spread_line(line: SpreadLine) -> str:
    who = f"@{line.handle}" if line.handle is not None else "(root post not collected)"
    forecast = describe(
        line.predicted_final, line.predicted_low, line.predicted_high, line.prediction_uncertain, shipped().level
    )
    predicted = f", predicted {forecast}" if forecast else ""
    reach = f", reach {line.reach:,}" if line.reach else ""  # 0: no follower counts known, not nobody
    return (
        f"{who} on {line.platform}: {line.size} replies/quotes/reshares (+{line.events_on_day} this day), "
        f"{line.authors} {'person' if line.authors == 1 else 'people'}{reach}{predicted}"
    )


def summary_lines(d: BrandDigest) -> list[str]:
    """The digest in a few lines of plain text, most important first."""
    lines = [day_heading(d), volume_line(d)]
    warning = collection_line(d)
    if warning:
        lines.append(warning)
    lines += [emerging_line(line) for line in d.emerging[:LISTED]] or ["No new or spiking issue."]
    if d.issues:
        lines.append("Top issues: " + "; ".join(issue_line(line) for line in d.issues[:LISTED]))
    if d.spreading:
        lines.append("Spread furthest: " + spread_line(d.spreading[0]))
    lines.append(incidents_line(d))
    if d.responses is not None and d.responses.threads:
        lines.append(responses_line(d.responses))
    if d.repeat_complainers:
        people = ", ".join(f"@{p.handle} ({p.occasions} occasions)" for p in d.repeat_complainers[:LISTED])
        lines.append(f"Repeat complainers: {people}")
    return lines


def responses_line(r: ResponseSummary) -> str:
    return (
        f"How we answered: {r.answered} of {r.threads} complaints ({percent(r.response_rate)}), median first reply"
        f" {duration(r.median_minutes)}, {r.unanswered_over_sla} unanswered past the SLA,"
        f" {percent(r.canned_share)} of answers canned, {r.worse} worse after our reply"
    )


def headline(d: BrandDigest) -> str:
    return (
        f"{d.brand} digest for {d.day.isoformat()}: {d.today.total} mentions, "
        f"{percent(d.today.negative_share)} negative, {d.incident_stats.opened} incidents opened"
    )


def _bullets(title: str, items: list[str]) -> SectionBlock:
    return SectionBlock(text=_plain(title + "\n" + "\n".join(f"\u2022 {item}" for item in items), SECTION_CHARS))


def slack_message(d: BrandDigest, link: str | None) -> dict[str, Any]:
    """The webhook payload for one brand: headline, numbers, issues, spread, link to the page."""
    s = d.incident_stats
    so_far = " (so far)" if d.in_progress else ""
    blocks: list[Block] = [
        HeaderBlock(
            text=_plain(f"{d.brand} daily digest \u00b7 {d.day.strftime('%a %d %b %Y')}{so_far}", HEADER_CHARS)
        ),
        SectionBlock(
            fields=[
                _plain(text, FIELD_CHARS)
                for text in (
                    mentions_text(d),
                    negative_text(d),
                    f"Incidents: {s.opened} opened, {s.acknowledged} acknowledged, {s.resolved} resolved",
                    f"Unresolved: {s.unresolved_at_end}",
                    f"Time to alert: {duration(s.minutes_to_alert)} (median)",
                    f"Time to acknowledge: {acknowledge_text(d)}",
                )
            ]
        ),
    ]
    warning = collection_line(d)
    if warning:
        blocks.append(SectionBlock(text=_plain(f"\u26a0\ufe0f {warning}", SECTION_CHARS)))
    emerging = [emerging_line(line) for line in d.emerging[:LISTED]]
    if emerging:
        blocks.append(_bullets("New and spiking issues:", emerging))
    else:
        blocks.append(SectionBlock(text=_plain("No new or spiking issue.", SECTION_CHARS)))
    if d.issues:
        blocks.append(_bullets("Top issues:", [issue_line(line) for line in d.issues[:LISTED]]))
    if d.spreading:
        blocks.append(_bullets("Spread furthest:", [spread_line(line) for line in d.spreading[:3]]))
    if link:
        context = MarkdownTextObject(text=f"<{escape_mrkdwn(link)}|Open the full digest>")
    else:
        context = MarkdownTextObject(text="The full page is not published (set digest.public_url to link it).")
    blocks.append(ContextBlock(elements=[context]))
    # to_dict() runs slack_sdk's validation of every block and its limits.
    return {"text": clip_escaped(headline(d), FALLBACK_CHARS), "blocks": [block.to_dict() for block in blocks]}
