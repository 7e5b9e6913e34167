"""The normalized records every part of the project agrees on.

A connector turns one platform's payload into `Mention`s; everything downstream
(store, enrichment, spread, alerts) reads only these.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The store's column limits (reputation/store/schema.py): a value past them is
# refused here, as a skipped item with its reason, instead of making the
# database roll back the whole page it arrived in.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # INTEGER on PostgreSQL, the narrower engine
PLATFORM_MAX = 40
NATIVE_ID_MAX = 512
HANDLE_MAX = 300
LANGUAGE_MAX = 16
BRAND_MAX = 200


class Kind(StrEnum):
    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"
    RESHARE = "reshare"
    QUOTE = "quote"
    REVIEW = "review"


# Bidi overrides and isolates turn a handle around in a Slack title or a
# terminal ("\u202egnp.exe"); other controls (NUL, escapes) corrupt both.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Lone surrogates and NUL come from broken upstream JSON; neither PostgreSQL
    nor UTF-8 files accept them, so they are replaced rather than rejected."""
    cleaned = text.encode("utf-8", errors="replace").decode("utf-8")
    return cleaned.replace("\x00", "\ufffd")


def clean_label(text: str) -> str:
    """A one-line name (handle, id, language): cleaned like text, and without control or bidi characters."""
    return _CONTROLS.sub("", clean_text(text))


MAX_JSON_DEPTH = 200


def clean_json(value: Any, depth: int = 0) -> Any:
    """A raw payload with every string and key cleaned, so both engines store it as given."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_json(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(item, depth + 1) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return str(value)  # SQLite's JSON and many readers stop at 64 bits; the digits are kept
    return value


class Author(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=NATIVE_ID_MAX)
    handle: str = Field(default="", max_length=HANDLE_MAX)
    followers: int | None = Field(default=None, ge=0, le=INT_MAX)

    @field_validator("id", "handle", mode="before")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        return clean_label(value) if isinstance(value, str) else value


class Metrics(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    score: int | None = Field(default=None, ge=INT_MIN, le=INT_MAX)
    likes: int | None = Field(default=None, ge=0, le=INT_MAX)
    reshares: int | None = Field(default=None, ge=0, le=INT_MAX)
    replies: int | None = Field(default=None, ge=0, le=INT_MAX)


class Mention(BaseModel):
    """One post, comment, reshare or review that mentions a brand.

    `parent_id` and `root_id` are native ids on the same platform; the spread
    step resolves them into cascades.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: str = Field(min_length=1, max_length=PLATFORM_MAX, pattern=r"^[a-z0-9_\-]+$")
    native_id: str = Field(min_length=1, max_length=NATIVE_ID_MAX)
    kind: Kind
    url: str = ""
    text: str
    created_at: datetime
    author: Author
    parent_id: str | None = Field(default=None, max_length=NATIVE_ID_MAX)
    root_id: str | None = Field(default=None, max_length=NATIVE_ID_MAX)
    metrics: Metrics = Metrics()
    rating: float | None = Field(default=None, ge=0, le=10)
    language: str | None = Field(default=None, max_length=LANGUAGE_MAX)
    brand: str | None = Field(default=None, max_length=BRAND_MAX)
    query: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("created_at must be timezone-aware")
        return value.astimezone(UTC)

    @field_validator("text", "url", "query", mode="before")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return clean_text(value) if isinstance(value, str) else value

    @field_validator("native_id", "parent_id", "root_id", "language", "brand", mode="before")
    @classmethod
    def _clean_label(cls, value: Any) -> Any:
        return clean_label(value) if isinstance(value, str) else value

    @field_validator("raw", mode="before")
    @classmethod
    def _clean_raw(cls, value: Any) -> Any:
        return clean_json(value)

    @property
    def key(self) -> str:
        """The dedup key, `platform:native_id`."""
        return f"{self.platform}:{self.native_id}"

    @property
    def parent_key(self) -> str | None:
        return f"{self.platform}:{self.parent_id}" if self.parent_id else None

    @property
    def root_key(self) -> str | None:
        return f"{self.platform}:{self.root_id}" if self.root_id else None

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON-lines form used by `reputation fetch` and the replay files."""
        data = self.model_dump(mode="json")
        data["created_at"] = self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return data


class FetchedBatch(BaseModel):
    """One page of mentions and the cursor that is valid once they are stored."""

    model_config = ConfigDict(frozen=True)

    mentions: list[Mention]
    state: dict[str, Any]
    problems: list[str] = Field(default_factory=list, description="items skipped, each with why")
