"""Owned accounts: the brand's own handles, whose posts are the brand speaking.

Configured per brand as `platform:handle` (case-insensitive, no @). Their posts
are never a complaint, a detractor or a post that "spread"; they answer threads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, func, or_, true

from reputation.config import Config
from reputation.store.schema import authors


@dataclass(frozen=True)
class OwnedAccounts:
    """`(platform, lowercased handle)` -> brand name."""

    brands: dict[tuple[str, str], str]

    @classmethod
    def from_config(cls, config: Config) -> OwnedAccounts:
        found: dict[tuple[str, str], str] = {}
        for brand in config.brands:
            for account in brand.owned_accounts:
                platform, _, handle = account.partition(":")
                found[(platform, handle.lower())] = brand.name
        return cls(found)

    def brand_of(self, platform: str, handle: str | None) -> str | None:
        """The brand whose account wrote this, or None for anyone else."""
        return self.brands.get((platform, (handle or "").lstrip("@").lower()))

    def handles(self, brand: str | None = None) -> list[tuple[str, str]]:
        return sorted(key for key, owner in self.brands.items() if brand is None or owner == brand)

    def clause(self) -> ColumnElement[bool]:
        """SQL: the `authors` row is an owned account (join `authors` to use it)."""
        return owned_clause(self.brands)

    def not_owned(self) -> ColumnElement[bool]:
        """SQL: the `authors` row is anyone but an owned account; true when none are configured."""
        return ~owned_clause(self.brands) if self.brands else true()


def owned_clause(accounts: Iterable[tuple[str, str]]) -> ColumnElement[bool]:
    by_platform: dict[str, list[str]] = {}
    for platform, handle in accounts:
        by_platform.setdefault(platform, []).append(handle)
    if not by_platform:
        return false()
    return or_(
        *(
            and_(authors.c.platform == platform, func.lower(authors.c.handle).in_(sorted(handles)))
            for platform, handles in sorted(by_platform.items())
        )
    )
