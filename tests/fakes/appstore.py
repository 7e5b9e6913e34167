"""A local stand-in for Apple's public App Store customer-reviews feed, on 127.0.0.1.

It serves the feed as Apple does: `GET /{country}/rss/customerreviews/page={n}/
id={app_id}/sortby=mostrecent/json` (the `key=value` path segments in any
order, names and values in any case, `page` 1 when left out), no credentials;
without `sortby=mostrecent` the reviews come most helpful first, as Apple's
default sort does. The body is Apple's XML feed turned into JSON: every value a
`{"label": ...}`, `feed.entry` a list of reviews, or a single object when a page
holds one review, and absent on a page past the end; `feed.link` with
`alternate`, `self`, `first`, `last`, `previous` and `next`, the paged ones
addressing the XML variant (`.../xml?urlDesc=...`) as Apple's do; times in
Pacific time with their offset (`2026-01-08T04:01:00-08:00`). Page 11 and
beyond are Apple's 400 `CustomerReviews RSS page depth is limited to 10`.

Faults: Apple documents no rate-limit headers for the feed. Its overuse answers
are a 429 (given here with a `Retry-After`, so the contract can check that one
is honoured when sent) and a 403, which stands in for "unauthorized" since the
feed has no credentials to reject; outages are a 502 "Web Server Error" page.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connectors.testing import BRAND, FakePlatform, Reply, Request

APPLE = "https://itunes.apple.com"
FEED_PATH = re.compile(r"^/(?P<country>[a-z]{2})/rss/customerreviews/(?P<segments>.*?)/?(?P<format>json|xml)$", re.I)
PACIFIC = ZoneInfo("America/Los_Angeles")
START = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
APP_ID = "1587436210"
MAX_PAGES = 10
REVIEWERS = [("Dan O.", "638572168"), ("Bea_in_Tacoma", "1171184157"), ("hank_the_tank77", "827377863")]
STORIES = [
    ("Three weeks, no refund", f"Returned a sealed Voltbook on Dec 17 and {BRAND} still has not refunded me.", 1),
    ("Pickup ready in 20 minutes", f"Ordered on my lunch break, {BRAND} had it at the counter in 20 minutes.", 5),
    ("Crashes at checkout", f"Since 4.2.1 the {BRAND} app crashes every time I hit 'Place order'.", 2),
]
SERVER_ERROR_PAGE = (
    "<html><head><title>Web Server Error</title></head><body><h1>Web Server Error</h1>"
    "<p>Description: The host did not return the document correctly.</p></body></html>"
)


@dataclass
class Review:
    """One review as Apple stores it; `entry` renders it as the feed does."""

    review_id: str
    country: str
    author: str
    profile_id: str | None
    title: str
    content: str
    rating: int
    updated: datetime
    version: str = "4.2.1"
    vote_sum: int = 0
    vote_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def native_id(self) -> str:
        return f"{self.country}:{self.review_id}"

    def entry(self, app_id: str) -> dict[str, Any]:
        author: dict[str, Any] = {"name": {"label": self.author}, "label": ""}
        if self.profile_id is not None:
            author = {"uri": {"label": f"{APPLE}/{self.country}/reviews/id{self.profile_id}"}, **author}
        entry = {
            "author": author,
            "updated": {"label": self.updated.astimezone(PACIFIC).isoformat()},
            "im:rating": {"label": str(self.rating)},
            "im:version": {"label": self.version},
            "id": {"label": self.review_id},
            "title": {"label": self.title},
            "content": {"label": self.content, "attributes": {"type": "text"}},
            "link": {
                "attributes": {
                    "rel": "related",
                    "href": f"{APPLE}/{self.country}/review?id={app_id}&type=Purple%20Software",
                }
            },
            "im:voteSum": {"label": str(self.vote_sum)},
            "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
            "im:voteCount": {"label": str(self.vote_count)},
        }
        for key, value in self.extra.items():  # a None removes the field
            if value is None:
                entry.pop(key, None)
            else:
                entry[key] = value
        return entry


class FakeAppStore(FakePlatform):
    app_id = APP_ID

    def __init__(self) -> None:
        super().__init__()
        self.reviews: list[Review] = []  # in the order they were written
        self.app_entry_first = False  # older feeds opened page 1 with an entry describing the app itself
        self.send_retry_after = True
        self._serial = 0

    @property
    def env(self) -> dict[str, str]:
        return {}

    # The dataset.

    def publish(self, count: int) -> list[str]:
        return [self.post().native_id for _ in range(count)]

    def unpublish(self, count: int) -> list[str]:
        gone = self.reviews[len(self.reviews) - count :]
        del self.reviews[len(self.reviews) - count :]
        return [review.native_id for review in gone]

    def tick(self) -> datetime:
        """The next moment: a minute after the last one written."""
        self._serial += 1
        return START + timedelta(minutes=self._serial)

    def post(self, country: str = "us", **fields: Any) -> Review:
        """Write a review (newer than all others); `fields` override the generated ones."""
        with self.lock:
            updated = self.tick()
            author, profile_id = REVIEWERS[self._serial % len(REVIEWERS)]
            title, content, rating = STORIES[self._serial % len(STORIES)]
            values: dict[str, Any] = {
                "review_id": str(11868361538 + self._serial * 7919),
                "country": country,
                "author": author,
                "profile_id": profile_id,
                "title": f"{title} ({self._serial})",
                "content": content,
                "rating": rating,
                "updated": updated,
                "vote_sum": self._serial % 4,
                "vote_count": self._serial % 4 + 1,
            }
            review = Review(**{**values, **fields})
            self.reviews.append(review)
            return review

    def edit(self, native_id: str, **fields: Any) -> Review:
        """The author edits a review: new fields, and `updated` moves to now, so it rises to the top."""
        with self.lock:
            review = next(r for r in self.reviews if r.native_id == native_id)
            for name, value in fields.items():
                setattr(review, name, value)
            review.updated = self.tick()
            return review

    # The protocol.

    def is_data_request(self, request: Request) -> bool:
        return FEED_PATH.match(request.path) is not None

    def respond(self, request: Request, fault: str | None) -> Reply:
        match = FEED_PATH.match(request.path)
        if request.method != "GET" or match is None:
            return Reply(404, "<html><body><h1>Not Found</h1></body></html>")
        country = match["country"].lower()
        segments = dict(part.partition("=")[::2] for part in match["segments"].split("/") if "=" in part)
        params = {key.lower(): value for key, value in segments.items()}
        page = int(params["page"]) if params.get("page", "").isdigit() else 1
        if page > MAX_PAGES:
            return Reply(400, "CustomerReviews RSS page depth is limited to 10", {"Content-Type": "text/plain"})
        if match["format"].lower() == "xml":
            return Reply(200, '<?xml version="1.0" encoding="utf-8"?><feed/>', {"Content-Type": "text/xml"})
        reviews = self._listed(country, params.get("id", ""), params.get("sortby", ""))
        return Reply(200, self._feed(country, params.get("id", ""), reviews, page, fault))

    def _listed(self, country: str, app_id: str, sort: str) -> list[Review]:
        if app_id != self.app_id:
            return []
        mine = [review for review in self.reviews if review.country == country]
        if sort.lower() == "mostrecent":
            return sorted(mine, key=lambda r: (r.updated, int(r.review_id)), reverse=True)
        return sorted(mine, key=lambda r: r.vote_sum, reverse=True)

    def _feed(self, country: str, app_id: str, reviews: list[Review], page: int, fault: str | None) -> dict[str, Any]:
        last = min(MAX_PAGES, max(1, math.ceil(len(reviews) / self.page_size)))
        shown = reviews[(page - 1) * self.page_size : page * self.page_size] if page <= last else []
        following = page if fault == "repeat_page" else min(page + 1, last)
        json_self = f"{APPLE}/{country}/rss/customerreviews/id={app_id}/sortBy=mostRecent/page={page}/json"
        feed: dict[str, Any] = {
            "author": {"name": {"label": "iTunes Store"}, "uri": {"label": f"http://www.apple.com/{country}/itunes/"}},
        }
        if shown:
            entries = [review.entry(app_id) for review in shown]
            if self.app_entry_first and page == 1:
                entries.insert(0, _app_entry(app_id))
            feed["entry"] = entries[0] if len(entries) == 1 else entries
        feed.update(
            {
                "updated": {"label": datetime.now(PACIFIC).replace(microsecond=0).isoformat()},
                "rights": {"label": "Copyright 2008 Apple Inc."},
                "title": {"label": "iTunes Store: Customer Reviews"},
                "icon": {"label": "http://itunes.apple.com/favicon.ico"},
                "link": [
                    _link(
                        "alternate",
                        f"https://music.apple.com/WebObjects/MZStore.woa/wa/viewGrouping?cc={country}&id=1000",
                        "text/html",
                    ),
                    _link("self", json_self),
                    _link("first", _xml(country, app_id, 1, page)),
                    _link("last", _xml(country, app_id, last, page)),
                    _link("previous", _xml(country, app_id, max(1, page - 1), page)),
                    _link("next", _xml(country, app_id, following, page)),
                ],
                "id": {"label": json_self},
            }
        )
        return {"feed": feed}

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "rate_limit":
            headers = {"Retry-After": str(self.retry_after_seconds)} if self.send_retry_after else {}
            return Reply(429, "", headers)
        if fault == "server_error":
            return Reply(502, SERVER_ERROR_PAGE)
        if fault == "unauthorized":
            return Reply(403, "<html><head><title>403 Forbidden</title></head><body>Forbidden</body></html>")
        return super().fault_reply(fault, request)


def _link(rel: str, href: str, kind: str | None = None) -> dict[str, Any]:
    attributes = {"rel": rel, "type": kind, "href": href} if kind else {"rel": rel, "href": href}
    return {"attributes": attributes}


def _xml(country: str, app_id: str, page: int, asked: int) -> str:
    # Apple's paging links address the XML feed and carry the JSON request in `urlDesc`.
    described = f"/customerreviews/id={app_id}/sortBy=mostRecent/page={asked}/json"
    return f"{APPLE}/{country}/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/xml?urlDesc={described}"


def _app_entry(app_id: str) -> dict[str, Any]:
    return {
        "im:name": {"label": f"{BRAND}: Shop Electronics"},
        "rights": {"label": f"© 2026 {BRAND} Inc."},
        "im:price": {"label": "Get", "attributes": {"amount": "0.00000", "currency": "USD"}},
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "id": {"label": f"{APPLE}/us/app/id{app_id}", "attributes": {"im:id": app_id}},
        "im:artist": {"label": f"{BRAND} Inc."},
        "category": {"attributes": {"im:id": "6024", "term": "Shopping", "label": "Shopping"}},
    }
