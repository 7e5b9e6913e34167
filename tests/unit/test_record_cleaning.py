"""Every field from outside is cleaned like `text`, and the record's limits are the store's columns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from reputation.models import Author, clean_json, clean_label
from tests.factories import mention

BIDI_AND_CONTROLS = "\x00\x1b\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=()) | st.sampled_from(BIDI_AND_CONTROLS)))
def test_a_label_holds_no_control_bidi_or_unencodable_character(value: str) -> None:
    cleaned = clean_label(value)
    assert not set(cleaned) & set(BIDI_AND_CONTROLS)
    cleaned.encode("utf-8")  # no lone surrogate left


def test_a_handle_with_an_rtl_override_and_nul_is_shown_as_written_left_to_right() -> None:
    author = Author(id="a\u202e1", handle="\u202egnp.exe\x00_evil")
    assert author.handle == "gnp.exe\ufffd_evil" and author.id == "a1"


def nested(levels: int) -> list[object]:
    value: list[object] = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    "fields",
    [
        {"author": {"id": "a", "followers": 2**31}},
        {"author": {"id": "a", "handle": "h" * 301}},
        {"author": {"id": "a" * 513}},
        {"language": "l" * 17},
        {"platform": "p" * 41},
        {"metrics": {"likes": 2**63}},
        {"metrics": {"score": -(2**31) - 1}},
        {"raw": {"deep": nested(300)}},
    ],
)
def test_values_past_the_store_s_columns_are_refused_as_the_record_s_error(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        mention("1", **fields)


def test_raw_payload_strings_keys_and_huge_numbers_are_made_storable() -> None:
    assert clean_json({"k\x00": ["\ud800", 2**64, 5, True, None]}) == {"k\ufffd": ["?", str(2**64), 5, True, None]}
