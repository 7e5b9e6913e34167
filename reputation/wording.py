"""Small pieces of wording shared by everything people read: alerts, the digest, the command line."""

from __future__ import annotations


def snippet(text: str | None, limit: int) -> str:
    """A post's text on one line, cut to `limit` characters with an ellipsis: for lists people scan."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def plural(count: int, noun: str) -> str:
    """1 post, 2 posts: for the explanations people read."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_p(p_value: float) -> str:
    """2e-9 rather than 2.000000e-09; two decimals when not small."""
    if p_value >= 0.01:
        return f"{p_value:.2f}"
    if p_value < 1e-300:
        return "<1e-300"
    mantissa, exponent = f"{p_value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"
