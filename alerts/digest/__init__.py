"""The daily digest for CX leads: one self-contained HTML page per day, a Slack summary, an email.

Every figure is computed from the store for the brand's own calendar day, and
collection health sits beside sentiment so that a silent source never reads as
customers getting happier.

    build (store -> BrandDigest records) -> page (HTML) -> delivery (Slack, email)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from alerts.digest.build import build_brand_digest
from alerts.digest.delivery import FAILED, SENT, SKIPPED, Delivery, send_digest
from alerts.digest.page import render_html
from alerts.digest.records import BrandDigest
from alerts.digest.summary import slack_message, summary_lines
from reputation.config import Config
from reputation.errors import ReputationError
from reputation.store import Store

__all__ = [
    "BrandDigest",
    "Delivery",
    "DigestSendError",
    "build_brand_digest",
    "build_digests",
    "render_html",
    "send_digest",
    "slack_message",
    "summary_lines",
    "write_digest",
]

log = logging.getLogger(__name__)


class DigestSendError(ReputationError):
    """The digest was written, but a configured channel failed or no channel could send it."""


def build_digests(
    store: Store, config: Config, *, day: date | None, brand: str | None, now: datetime | None = None
) -> list[BrandDigest]:
    """One digest per brand (or the one named); `day` defaults to the digest day each brand is in at `now`."""
    now = now or datetime.now(UTC)
    brands = [config.brand(brand)] if brand else list(config.brands)
    with store.engine.connect() as connection:
        return [
            build_brand_digest(connection, config, b, day or config.digest.day_of(now, b.zone), now) for b in brands
        ]


def _report(deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        level = {SENT: logging.INFO, SKIPPED: logging.WARNING, FAILED: logging.ERROR}[delivery.outcome]
        log.log(level, "digest %s", delivery)


def write_digest(
    store: Store,
    config: Config,
    *,
    day: date | None,
    brand: str | None,
    output: Path,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Write the page; with `digest.send` on, also send it, and raise if that did not fully work."""
    now = datetime.now(UTC)
    digests = build_digests(store, config, day=day, brand=brand, now=now)
    html = render_html(digests, now)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    if not config.digest.send:
        return output
    deliveries = send_digest(config, digests, html, output, env)
    _report(deliveries)
    failed = [str(d) for d in deliveries if d.outcome == FAILED]
    if failed:
        raise DigestSendError(f"the digest was written to {output}, but sending failed: " + "; ".join(failed))
    if not any(d.outcome == SENT for d in deliveries):
        raise DigestSendError(
            f"the digest was written to {output}, but nothing was sent: " + "; ".join(map(str, deliveries))
        )
    return output
