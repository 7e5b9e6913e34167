"""Mentions for tests, with realistic defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from reputation.models import Author, Kind, Mention, Metrics

BASE_TIME = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)


def mention(native_id: str, text: str = "Voltmart lost my order", **fields: Any) -> Mention:
    minutes = fields.pop("minutes", 0)
    author = fields.pop("author", None) or Author(id=f"u-{native_id}", handle=f"user_{native_id}", followers=100)
    values: dict[str, Any] = {
        "platform": "x",
        "native_id": native_id,
        "kind": Kind.POST,
        "url": f"https://x.com/i/status/{native_id}",
        "text": text,
        "created_at": BASE_TIME + timedelta(minutes=minutes),
        "author": author,
        "metrics": Metrics(likes=1),
        "raw": {"id": native_id},
    }
    values.update(fields)
    return Mention(**values)
