"""A local stand-in for Hacker News Search (Algolia's HN API), on 127.0.0.1.

It speaks the protocol the way `GET https://hn.algolia.com/api/v1/search_by_date`
does: no credentials; `query` (every word must match, the last one as a prefix;
"phrases" and -exclusions, as HN Search's advancedSyntax allows; an empty query
matches everything), `tags` (comma = AND, a parenthesised group = OR, matched
against each hit's `_tags`), `numericFilters` (`created_at_i`, `points`,
`num_comments` with < <= = != >= >, comma = AND), `hitsPerPage` (0-1000; when
absent, `page_size` stands in for Algolia's default of 20) and `page`
(0-based). Hits come newest first (`created_at_i` descending; items sharing a
second in no promised order: here the lower id first, or, with
`unstable_ties`, the other way round on every other answer), in the current hit
format (`objectID` as a string, `created_at` as "...Z", `updated_at`,
`children`, `_tags`, `_highlightResult` with <em> around matched words, HTML in
`comment_text`/`story_text` with HN's entities), wrapped in `nbHits`, `page`,
`nbPages`, `hitsPerPage`, `exhaustiveNbHits`, `exhaustive`, `query`, `params`
and `processingTimeMS`. `nbPages` is capped by the 1,000-hit
paginationLimitedTo, and a page past it is Algolia's 400. Errors are Algolia's
`{"message": ..., "status": ...}`. HN Search sends no rate-limit headers; the
429 here carries a `Retry-After` so that the contract can check the wait is
honoured.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from connectors.testing import BRAND, FakePlatform, Reply, Request

SEARCH_PATH = "/api/v1/search_by_date"
PAGINATION_LIMIT = 1000
START = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
AUTHORS = ("maya_builds", "dan_okafor", "quietreader")
NUMERIC = re.compile(r"^(?P<name>[a-z_]+)(?P<op><=|>=|!=|<|>|=)(?P<value>-?\d+(?:\.\d+)?)$")
HIGHLIGHTED = ("author", "comment_text", "story_text", "story_title", "story_url", "title", "url")
SEARCHABLE = ("title", "story_text", "comment_text", "url", "author")
TAG = re.compile(r"<[^>]+>")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"message": message, "status": status}, headers or {})


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeHackerNews(FakePlatform):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, Any]] = []  # hits without _highlightResult, oldest first
        self.step = timedelta(minutes=1)  # time between published items; 0 puts them in one second
        # HN Search documents no rate-limit headers; the contract needs an advertised wait to check.
        self.advertise_retry_after = True
        self.hits_cap = PAGINATION_LIMIT  # the most hits one answer holds, whatever hitsPerPage asks
        # Algolia promises no order among hits of one second: flip it on every other answer.
        self.unstable_ties = False
        self._answers = 0
        self.clock = START
        self._serial = 0

    @property
    def env(self) -> dict[str, str]:
        return {}

    # The dataset: stories, comments on them, replies to the comments.

    def publish(self, count: int) -> list[str]:
        return [self._next_item()["objectID"] for _ in range(count)]

    def unpublish(self, count: int) -> list[str]:
        gone = self.items[len(self.items) - count :]
        del self.items[len(self.items) - count :]
        return [item["objectID"] for item in gone]

    def item(self, object_id: str) -> dict[str, Any]:
        return next(item for item in self.items if item["objectID"] == object_id)

    def edit(self, object_id: str, html: str) -> None:
        """HN lets authors edit for two hours; the index keeps the id and created_at, and moves updated_at."""
        with self.lock:
            item = self.item(object_id)
            item["comment_text" if "comment" in item["_tags"] else "story_text"] = html
            item["updated_at"] = _iso(datetime.fromisoformat(item["updated_at"]) + timedelta(minutes=5))

    def _next_item(self) -> dict[str, Any]:
        self._serial += 1
        self.clock += self.step
        object_id = str(46_100_000 + self._serial * 7)
        author = AUTHORS[self._serial % len(AUTHORS)]
        stories = [item for item in self.items if "story" in item["_tags"]]
        comments = [item for item in self.items if "comment" in item["_tags"]]
        if not stories or self._serial % 3 == 1:
            item = self.story(object_id, author)
        else:
            story = stories[-1]
            parent = comments[-1] if self._serial % 3 == 0 and comments else story
            item = self.comment(object_id, author, story, parent)
        self.items.append(item)
        return item

    def _times(self) -> dict[str, Any]:
        return {
            "created_at": _iso(self.clock),
            "created_at_i": int(self.clock.timestamp()),
            "updated_at": _iso(self.clock + timedelta(minutes=1)),
        }

    def story(self, object_id: str, author: str) -> dict[str, Any]:
        item: dict[str, Any] = {
            "_tags": ["story", f"author_{author}", f"story_{object_id}"],
            "author": author,
            "children": [],
            **self._times(),
            "num_comments": 0,
            "objectID": object_id,
            "points": 10 + self._serial,
            "story_id": int(object_id),
        }
        if self._serial % 2:
            item["title"] = f"Ask HN: Has anyone else had a {BRAND} Voltbook battery swell? ({self._serial})"
            item["story_text"] = (
                f"Mine bulged after a week. {BRAND} support says it&#x27;s &quot;within spec&quot;."
                "<p>Is there a way to escalate? Their page is "
                '<a href="https:&#x2F;&#x2F;voltmart.example&#x2F;support&#x2F;escalations&#x2F;battery-claims">'
                "https:&#x2F;&#x2F;voltmart.example&#x2F;support&#x2F;escalations&#x2F;batter...</a>"
            )
            item["_tags"].append("ask_hn")
        else:
            item["title"] = f"{BRAND} quietly shortens its return window to 14 days ({self._serial})"
            item["url"] = f"https://news.example.com/{BRAND.lower()}-returns-{self._serial}"
        return item

    def comment(self, object_id: str, author: str, story: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
        item = {
            "_tags": ["comment", f"author_{author}", f"story_{story['objectID']}"],
            "author": author,
            "children": [],
            "comment_text": (
                f"Same here: {BRAND} told me the swelling &gt; 2mm is &quot;normal&quot;."
                "<p>I&#x27;m filing a <i>chargeback</i> instead.</p><p>Edit: see "
                f'<a href="https:&#x2F;&#x2F;news.ycombinator.com&#x2F;item?id={story["objectID"]}" rel="nofollow">'
                f"https:&#x2F;&#x2F;news.ycombinator.com&#x2F;item?id={story['objectID']}</a></p>"
            ),
            **self._times(),
            "objectID": object_id,
            "parent_id": int(parent["objectID"]),
            "points": None,
            "story_id": int(story["objectID"]),
            "story_title": story["title"],
            "story_url": story.get("url"),
        }
        parent["children"].append(int(object_id))
        story["num_comments"] += 1
        return item

    # The protocol.

    def is_data_request(self, request: Request) -> bool:
        return request.path == SEARCH_PATH

    def respond(self, request: Request, fault: str | None) -> Reply:
        if request.method != "GET" or request.path != SEARCH_PATH:
            return _error(404, "Not Found")
        params = request.query
        try:
            hits_per_page = int(params.get("hitsPerPage", self.page_size))
            page = int(params.get("page", 0))
        except ValueError:
            return _error(400, "Invalid value for hitsPerPage or page: expected an integer")
        if not 0 <= hits_per_page <= PAGINATION_LIMIT or page < 0:
            return _error(400, f"hitsPerPage must be between 0 and {PAGINATION_LIMIT}, page must be positive")
        hits_per_page = min(hits_per_page, self.hits_cap)
        if hits_per_page and page * hits_per_page >= PAGINATION_LIMIT:
            return _error(
                400,
                f"you can only fetch the {PAGINATION_LIMIT} hits for this query. You can extend the number of hits "
                "returned via the paginationLimitedTo index parameter or use the browse method.",
            )
        try:
            tags = _tag_groups(params.get("tags", ""))
            conditions = [_numeric(text) for text in params.get("numericFilters", "").split(",") if text.strip()]
        except ValueError as error:
            return _error(400, str(error))
        if fault == "repeat_page":
            # A stale cache in front of the index: it ignores the window's upper bound and the page.
            conditions = [c for c in conditions if not (c[0] == "created_at_i" and c[1] in ("<", "<="))]
            page = 0
        terms = _terms(params.get("query", ""))
        self._answers += 1
        tie = -1 if self.unstable_ties and self._answers % 2 == 0 else 1
        matching = [
            item
            for item in sorted(self.items, key=lambda item: (-item["created_at_i"], tie * int(item["objectID"])))
            if _matches(item, terms)
            and all(any(tag in item["_tags"] for tag in group) for group in tags)
            and all(_compare(item.get(name), op, value) for name, op, value in conditions)
        ]
        shown = matching[page * hits_per_page : (page + 1) * hits_per_page]
        return Reply(200, self._body(shown, matching, terms, params, hits_per_page, page))

    def _body(
        self,
        shown: list[dict[str, Any]],
        matching: list[dict[str, Any]],
        terms: _Terms,
        params: dict[str, str],
        hits_per_page: int,
        page: int,
    ) -> dict[str, Any]:
        pages = math.ceil(len(matching) / hits_per_page) if hits_per_page else 0
        echoed = {**params, "advancedSyntax": "true", "analyticsTags": "backend"}
        return {
            "exhaustive": {"nbHits": True, "typo": True},
            "exhaustiveNbHits": True,
            "exhaustiveTypo": True,
            "hits": [{**item, "_highlightResult": _highlights(item, terms)} for item in shown],
            "hitsPerPage": hits_per_page,
            "nbHits": len(matching),
            "nbPages": min(pages, PAGINATION_LIMIT // hits_per_page if hits_per_page else 0),
            "page": page,
            "params": urlencode(sorted(echoed.items())),
            "processingTimeMS": 1,
            "processingTimingsMS": {"_request": {"roundTrip": 12}, "total": 1},
            "query": params.get("query", ""),
            "serverTimeMS": 2,
        }

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "rate_limit":
            headers = {"Retry-After": str(self.retry_after_seconds)} if self.advertise_retry_after else {}
            return _error(429, "Too many requests", headers)
        if fault == "server_error":
            return _error(503, "Service Unavailable")
        if fault == "unauthorized":
            return _error(403, "Invalid Application-ID or API key")
        return super().fault_reply(fault, request)


# Query matching, the way HN Search's Algolia settings behave for plain words.

_Terms = tuple[list[str], list[list[str]], list[str]]  # words, "phrases", -exclusions


def _terms(query: str) -> _Terms:
    phrases = [_words(phrase) for phrase in re.findall(r'"([^"]*)"', query)]
    rest = re.sub(r'"[^"]*"', " ", query)
    excluded = [word.lower() for word in re.findall(r"(?:^|\s)-(\w+)", rest)]
    rest = re.sub(r"(?:^|\s)-\w+", " ", rest)
    return _words(rest), [phrase for phrase in phrases if phrase], excluded


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", TAG.sub(" ", text).lower())


def _searchable(item: dict[str, Any]) -> list[str]:
    text = " ".join(str(item.get(name) or "") for name in SEARCHABLE)
    return _words(text.replace("&#x2F;", "/").replace("&#x27;", "'"))


def _matches(item: dict[str, Any], terms: _Terms) -> bool:
    words, phrases, excluded = terms
    tokens = _searchable(item)
    found = set(tokens)
    for index, word in enumerate(words):
        last = index == len(words) - 1
        if word not in found and not (last and any(token.startswith(word) for token in tokens)):
            return False
    for phrase in phrases:
        size = len(phrase)
        if not any(tokens[i : i + size] == phrase for i in range(len(tokens) - size + 1)):
            return False
    return not any(word in found for word in excluded)


def _highlights(item: dict[str, Any], terms: _Terms) -> dict[str, Any]:
    words = terms[0] + [word for phrase in terms[1] for word in phrase]
    result: dict[str, Any] = {}
    for name in HIGHLIGHTED:
        value = item.get(name)
        if not isinstance(value, str):
            continue
        matched = [word for word in words if re.search(rf"\b{re.escape(word)}", value, re.IGNORECASE)]
        for word in matched:
            value = re.sub(rf"\b({re.escape(word)}\w*)", r"<em>\1</em>", value, flags=re.IGNORECASE)
        level = "none" if not matched else "full" if len(matched) == len(words) else "partial"
        entry: dict[str, Any] = {"matchLevel": level, "matchedWords": matched, "value": value}
        if matched:
            entry["fullyHighlighted"] = False
        result[name] = entry
    return result


def _tag_groups(tags: str) -> list[list[str]]:
    """`a,(b,c)` -> [[a], [b, c]]: every group must match, any tag within a group."""
    groups: list[list[str]] = []
    depth, current = 0, ""
    for char in tags + ",":
        if char == "(":
            depth += 1
            if depth > 1:
                raise ValueError(f"tagFilters: nested parentheses are not supported: {tags}")
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"tagFilters: unbalanced parenthesis: {tags}")
        if char == "," and depth == 0:
            group = [tag.strip() for tag in current.strip().strip("()").split(",") if tag.strip()]
            if group:
                groups.append(group)
            current = ""
        else:
            current += char
    if depth != 0:
        raise ValueError(f"tagFilters: unbalanced parenthesis: {tags}")
    return groups


def _numeric(text: str) -> tuple[str, str, float]:
    match = NUMERIC.match(text.strip().replace(" ", ""))
    if match is None:
        raise ValueError(f"Invalid syntax for numeric condition:{text}")
    if match["name"] not in ("created_at_i", "points", "num_comments"):
        raise ValueError(f"Cannot filter on attribute {match['name']}: not in numericAttributesForFiltering")
    return match["name"], match["op"], float(match["value"])


def _compare(actual: Any, op: str, value: float) -> bool:
    if not isinstance(actual, int | float) or isinstance(actual, bool):
        return False
    return {
        "<": actual < value,
        "<=": actual <= value,
        "=": actual == value,
        "!=": actual != value,
        ">=": actual >= value,
        ">": actual > value,
    }[op]
