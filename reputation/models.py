"""The normalized records every part of the project agrees on.

A connector turns one platform's payload into `Mention`s; everything downstream
(store, enrichment, spread, alerts) reads only these.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Kind(StrEnum):
    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"
    RESHARE = "reshare"
    QUOTE = "quote"
    REVIEW = "review"


class Author(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    handle: str = ""
    followers: int | None = Field(default=None, ge=0)


class Metrics(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    score: int | None = None
    likes: int | None = Field(default=None, ge=0)
    reshares: int | None = Field(default=None, ge=0)
    replies: int | None = Field(default=None, ge=0)


def _strip_unencodable(text: str) -> str:
    # Lone surrogates and NUL come from broken upstream JSON; neither PostgreSQL
    # nor UTF-8 files accept them, so they are replaced rather than rejected.
    cleaned = text.encode("utf-8", errors="replace").decode("utf-8")
    return cleaned.replace("\x00", "\ufffd")


class Mention(BaseModel):
    """One post, comment, reshare or review that mentions a brand.

    `parent_id` and `root_id` are native ids on the same platform; the spread
    step resolves them into cascades.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: str = Field(min_length=1, pattern=r"^[a-z0-9_\-]+$")
    native_id: str = Field(min_length=1, max_length=512)
    kind: Kind
    url: str = ""
    text: str
    created_at: datetime
    author: Author
    parent_id: str | None = None
    root_id: str | None = None
    # The post a quote quotes. For a plain quote it is the parent too; a reply that
    # also quotes has the post it answers as parent, and keeps the quote here.
    quoted_id: str | None = None
    metrics: Metrics = Metrics()
    rating: float | None = Field(default=None, ge=0, le=10)
    language: str | None = None
    brand: str | None = None
    query: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("created_at must be timezone-aware")
        return value.astimezone(UTC)

    @field_validator("text")
    @classmethod
    def _clean_text(cls, value: str) -> str:
        return _strip_unencodable(value)

    @property
    def key(self) -> str:
        """The dedup key, `platform:native_id`."""
        return f"{self.platform}:{self.native_id}"

    @property
    def parent_key(self) -> str | None:
        return f"{self.platform}:{self.parent_id}" if self.parent_id else None

    @property
    def quoted_key(self) -> str | None:
        return f"{self.platform}:{self.quoted_id}" if self.quoted_id else None

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
    # A platform that leaves out an optional field (an author, a date) still delivered the
    # item: it is kept with what is known and counted here, never dropped.
    degraded: int = Field(default=0, ge=0, description="items kept with an optional field missing")
