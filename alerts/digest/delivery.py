"""Sending the digest: its Slack summary through the default route, the page by email.

Each channel reports what it did: sent (to whom), skipped (not configured, and
which variable would configure it) or failed (why). Nothing here raises for a
channel's failure; the caller decides what a failure means for the run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from alerts.digest.mail import MailError, MailNotConfigured, SmtpSettings, build_email, send_email
from alerts.digest.page import brand_anchor
from alerts.digest.records import BrandDigest
from alerts.digest.summary import headline, slack_message, summary_lines
from alerts.slack.webhook import SendResult, send_webhook
from reputation.config import Config, Route

SENT, SKIPPED, FAILED = "sent", "skipped", "failed"
SLACK_ATTEMPTS = 3
MAX_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Delivery:
    channel: str  # "slack" or "email"
    outcome: str  # sent, skipped or failed
    detail: str

    def __str__(self) -> str:
        return f"{self.channel}: {self.outcome}: {self.detail}"


def page_link(config: Config, page: Path, digest: BrandDigest, several: bool) -> str | None:
    base = config.digest.public_url
    if not base:
        return None
    link = f"{base.rstrip('/')}/{quote(page.name)}"
    return f"{link}#{brand_anchor(digest.brand)}" if several else link


def digest_route(config: Config) -> Route | None:
    """The route named "default", else the first one: where the team already reads alerts."""
    routes = config.alerts.routes
    return next((route for route in routes if route.name == "default"), routes[0] if routes else None)


def _post(url: str, payload: dict[str, object], sleep: Callable[[float], None]) -> SendResult:
    result = send_webhook(url, payload)
    for attempt in range(1, SLACK_ATTEMPTS):
        if result.ok or not (result.status in (0, 429) or result.status >= 500):
            break
        sleep(min(result.retry_after_seconds or 2.0**attempt, MAX_WAIT_SECONDS))
        result = send_webhook(url, payload)
    return result


def send_slack(
    config: Config,
    digests: list[BrandDigest],
    page: Path,
    env: Mapping[str, str],
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    route = digest_route(config)
    if route is None:
        return [Delivery("slack", SKIPPED, "no Slack route is configured (alerts.routes)")]
    if not route.webhook_env:
        return [Delivery("slack", SKIPPED, f"route {route.name!r} has no webhook_env; the summary goes by webhook")]
    url = env.get(route.webhook_env, "")
    if not url:
        return [Delivery("slack", SKIPPED, f"{route.webhook_env} is not set (the webhook of route {route.name!r})")]
    deliveries = []
    for digest in digests:
        if route.brands and digest.brand not in route.brands:
            deliveries.append(Delivery("slack", SKIPPED, f"route {route.name!r} is not for brand {digest.brand}"))
            continue
        payload = slack_message(digest, page_link(config, page, digest, len(digests) > 1))
        result = _post(url, payload, sleep)
        if result.ok:
            deliveries.append(Delivery("slack", SENT, f"{digest.brand} summary to route {route.name!r}"))
        else:
            deliveries.append(
                Delivery("slack", FAILED, f"{digest.brand} summary to route {route.name!r}: {result.error}")
            )
    return deliveries


def email_text(config: Config, digests: list[BrandDigest], page: Path) -> str:
    parts = []
    for digest in digests:
        lines = summary_lines(digest)
        link = page_link(config, page, digest, len(digests) > 1)
        lines.append(
            f"Full digest: {link}" if link else "The full digest with its charts is the HTML part of this email."
        )
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def email_subject(digests: list[BrandDigest]) -> str:
    if len(digests) == 1:
        return headline(digests[0])
    days = sorted({digest.day.isoformat() for digest in digests})
    brands = "; ".join(f"{d.brand}: {d.today.total} mentions, {d.incident_stats.opened} incidents" for d in digests)
    return f"Reputation digest {', '.join(days)}: {brands}"


def send_mail(
    config: Config,
    digests: list[BrandDigest],
    html: str,
    page: Path,
    env: Mapping[str, str],
) -> Delivery:
    try:
        settings = SmtpSettings.from_env(env)
        message = build_email(settings, email_subject(digests), email_text(config, digests, page), html)
        refused = send_email(settings, message)
    except MailNotConfigured as reason:
        return Delivery("email", SKIPPED, str(reason))
    except MailError as error:
        return Delivery("email", FAILED, str(error))
    accepted = [address for address in settings.recipients if address not in refused]
    detail = f"to {', '.join(accepted)} via {settings.describe()}"
    if refused:
        return Delivery("email", FAILED, f"{detail}; refused for {', '.join(refused)}")
    return Delivery("email", SENT, detail)


def send_digest(
    config: Config,
    digests: list[BrandDigest],
    html: str,
    page: Path,
    env: Mapping[str, str] | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    env = os.environ if env is None else env
    return [*send_slack(config, digests, page, env, sleep), send_mail(config, digests, html, page, env)]
