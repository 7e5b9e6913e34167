"""The connector kit's shared pieces, on their own."""

from __future__ import annotations

import time
from collections.abc import Iterator

from connectors.kit import Page, ScanCursor, jsonable, scan_newest_first


class Redditor:
    def __str__(self) -> str:
        return "spez"


def test_jsonable_walks_mappings_and_lists_and_names_other_objects() -> None:
    data = {
        "author": Redditor(),
        "_reddit": object(),
        "tags": ("a", 1, None),
        "media": {"_private": 1, "caption": "x", "sizes": [{"w": 3}]},
        "published_parsed": time.gmtime(0),
    }
    assert jsonable(data, leave_out=lambda key: key.startswith("_") or key.endswith("_parsed")) == {
        "author": "spez",
        "tags": ["a", 1, None],
        "media": {"caption": "x", "sizes": [{"w": 3}]},
    }
    assert jsonable({"when": time.gmtime(0)})["when"][:3] == [1970, 1, 1]


def test_a_scan_yields_an_item_the_listing_repeats_on_a_later_page_once() -> None:
    pages = {None: Page(items=["9", "8"], next_token="p2"), "p2": Page(items=["8", "7"], next_token=None)}

    def scanned() -> Iterator[list[str]]:
        for items, _ in scan_newest_first(lambda token: pages[token], ScanCursor(), item_id=str, order=int):
            yield list(items)

    assert list(scanned()) == [["9", "8"], ["7"]]
