"""A local stand-in for Trustpilot's public Business Units API, on 127.0.0.1.

It speaks the protocol the connector uses: an API key in the `apikey` header
(or, as Trustpilot also accepts, the `apikey` query parameter);
`GET /v1/business-units/find?name=` answering the business unit (`id`,
`displayName`, `name.identifying`/`name.referring`, `score`, `numberOfReviews`,
`links`); `GET /v1/business-units/{id}/reviews` with `perPage` (1-100), `page`
(an empty `reviews` list past the end), `orderBy` (createdat/stars, asc/desc),
`language` and `stars` (repeatable), answering `reviews` with their `links`,
`consumer`, `businessUnit`, `stars`, `title`, `text`, `language`, `createdAt`,
`updatedAt`, `experiencedAt`, `companyReply`, `isVerified`, `numberOfLikes`...,
and top-level `links` with `prev-page`/`next-page` hrefs on api.trustpilot.com
that echo the request's query. Times are ISO 8601 in UTC with a `Z`, with or
without milliseconds, as Trustpilot serves them; ids are 24-hex ObjectIds whose
first 8 digits are the creation time.

Errors come as Trustpilot's API gateway (Apigee) words them:
`{"fault": {"faultstring": ..., "detail": {"errorcode": ...}}}`, 401 for a
missing or wrong key, 429 for a quota violation, 503 when the backend is down.
Trustpilot documents no rate-limit headers; the 429 here carries a
`Retry-After`, the generic HTTP advice the connector honours when present.
Trustpilot documents its 400 and 404 statuses but not their bodies; those here
are a plain JSON message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from connectors.kit import utc
from connectors.testing import BRAND, FakePlatform, Reply, Request

API = "https://api.trustpilot.com"
FIND_PATH = "/v1/business-units/find"
REVIEWS_PATH = re.compile(r"^/v1/business-units/(?P<unit>[0-9a-f]{24})/reviews$")
ORDERS = ("createdat.asc", "createdat.desc", "stars.asc", "stars.desc")
BUSINESS_UNIT_ID = "5f3c7d2e8a1b4c0001d2e3f4"
DOMAIN = "voltmart.com"

CONSUMERS: list[dict[str, Any]] = [
    {"id": "5c9a1e2f3b4d5e0001a7b8c9", "displayName": "Maya R.", "displayLocation": "Leeds, GB", "numberOfReviews": 4},
    {"id": "60d4f1c2e3b5a60012c3d4e5", "displayName": "Dan Okafor", "displayLocation": None, "numberOfReviews": 1},
    {
        "id": "5e7b8c9d0a1b2c0001f2e3d4",
        "displayName": "Priyanka S.",
        "displayLocation": "Austin, US",
        "numberOfReviews": 12,
    },
]
STORIES: list[tuple[int, str, str]] = [
    (1, "Swollen battery, 3 weeks for repair", f"My Voltbook battery swelled and {BRAND} wants it for three weeks."),
    (5, "Fast and careful delivery", f"{BRAND} delivered the TV on Monday and took all the packaging."),
    (2, "Refund still missing", f"Returned a kettle to {BRAND} a month ago and the refund has not arrived."),
    (4, "Good prices", f"Cheaper than elsewhere; {BRAND} click and collect was ready in an hour."),
]


def _fault(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"fault": {"faultstring": message, "detail": {"errorcode": code}}}, headers or {})


def _message(status: int, message: str) -> Reply:
    return Reply(status, {"message": message, "errorCode": status})


def _stamp(when: datetime, serial: int) -> str:
    # Trustpilot serves both "...:58Z" and "...:58.000Z"; the fake alternates.
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if serial % 2 else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _listed_at(review: dict[str, Any]) -> tuple[datetime, str]:
    try:
        return utc(review["createdAt"]), review["id"]
    except ValueError:  # a review a test broke on purpose: list it last
        return datetime.min.replace(tzinfo=UTC), review["id"]


def _links(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"href": href, "method": "GET", "rel": rel} for rel, href in pairs]


class FakeTrustpilot(FakePlatform):
    api_key = "Tp7kQ2vXw9LmN4bR8sYz3HcJ6dFa1GeU"
    advise_retry = True  # whether a 429 carries Retry-After (Trustpilot documents none)

    def __init__(self) -> None:
        super().__init__()
        self.reviews: list[dict[str, Any]] = []  # oldest first
        # The clock starts well before the real one, so Trustpilot's Date header is always later.
        self.start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
        self._tick = 0

    @property
    def env(self) -> dict[str, str]:
        return {"TRUSTPILOT_API_KEY": self.api_key}

    # The dataset.

    def now(self) -> datetime:
        """Trustpilot's clock in this story: a minute and a few seconds on at every event."""
        self._tick += 1
        return self.start + timedelta(minutes=self._tick, seconds=self._tick % 7)

    def stamp(self, when: datetime) -> str:
        return _stamp(when, self._tick)

    def new_id(self, created: datetime) -> str:
        return f"{int(created.timestamp()):08x}c09d4c0287{self._tick:06x}"

    def publish(self, count: int) -> list[str]:
        return [self.post(self.review()) for _ in range(count)]

    def unpublish(self, count: int) -> list[str]:
        with self.lock:
            gone = self.reviews[len(self.reviews) - count :]
            del self.reviews[len(self.reviews) - count :]
            return [review["id"] for review in gone]

    def post(self, review: dict[str, Any]) -> str:
        """Publish a review given as Trustpilot's object; the listing keeps createdAt order."""
        with self.lock:
            self.reviews.append(review)
            self.reviews.sort(key=_listed_at)
            return str(review["id"])

    def review(self, **fields: Any) -> dict[str, Any]:
        created = self.now()
        review_id = self.new_id(created)
        stars, title, text = STORIES[self._tick % len(STORIES)]
        consumer = CONSUMERS[self._tick % len(CONSUMERS)]
        review: dict[str, Any] = {
            "links": _links(
                ("reviews", f"{API}/v1/reviews/{review_id}"),
                ("reviews-web-links", f"{API}/v1/reviews/{review_id}/web-links"),
            ),
            "id": review_id,
            "consumer": {"links": _links(("consumers", f"{API}/v1/consumers/{consumer['id']}")), **consumer},
            "businessUnit": {
                "links": _links(("business-units", f"{API}/v1/business-units/{BUSINESS_UNIT_ID}")),
                "id": BUSINESS_UNIT_ID,
                "identifyingName": DOMAIN,
                "displayName": BRAND,
            },
            "location": None,
            "stars": stars,
            "title": title,
            "text": text,
            "language": "en",
            "createdAt": self.stamp(created),
            "experiencedAt": (created - timedelta(days=3)).strftime("%Y-%m-%dT00:00:00Z"),
            "updatedAt": None,
            "companyReply": None,
            "isVerified": self._tick % 3 == 0,
            "source": "Organic",
            "numberOfLikes": self._tick % 4,
            "status": "active",
            "reportData": None,
            "complianceLabels": [],
            "countsTowardsTrustScore": True,
        }
        review.update(fields)
        return review

    def find(self, review_id: str) -> dict[str, Any]:
        with self.lock:
            return next(review for review in self.reviews if review["id"] == review_id)

    def edit(
        self, review_id: str, *, title: str | None = None, text: str | None = None, stars: int | None = None
    ) -> None:
        """The author revises the review: same id and createdAt, new words and stars, a new updatedAt."""
        with self.lock:
            review = self.find(review_id)
            review.update({"title": title or review["title"], "text": text or review["text"]})
            review["stars"] = stars or review["stars"]
            review["updatedAt"] = self.stamp(self.now())

    def reply(self, review_id: str, text: str) -> None:
        """The company answers publicly; Trustpilot leaves the review's own updatedAt alone."""
        with self.lock:
            when = self.stamp(self.now())
            self.find(review_id)["companyReply"] = {
                "text": text,
                "authorBusinessUserId": "5f3c7d2e8a1b4c0001aa0001",
                "authorBusinessUserName": "Voltmart Care",
                "createdAt": when,
                "updatedAt": None,
            }

    def remove(self, review_id: str) -> None:
        """Trustpilot takes a review down (the author deleted it, or it broke the guidelines)."""
        with self.lock:
            self.reviews = [review for review in self.reviews if review["id"] != review_id]

    # The protocol.

    def is_data_request(self, request: Request) -> bool:
        return REVIEWS_PATH.match(request.path) is not None

    def respond(self, request: Request, fault: str | None) -> Reply:
        key = request.headers.get("apikey") or request.query.get("apikey")
        if not key:
            return _fault(
                401,
                "Failed to resolve API Key variable request.header.apikey",
                "steps.oauth.v2.FailedToResolveAPIKey",
            )
        if key != self.api_key:
            return self.fault_reply("unauthorized", request)
        if request.method != "GET":
            return _message(405, "Method Not Allowed")
        if request.path == FIND_PATH:
            return self._find(request.query.get("name", ""))
        match = REVIEWS_PATH.match(request.path)
        if match is None or match["unit"] != BUSINESS_UNIT_ID:
            return _message(404, "Not Found")
        return self._reviews(request, fault)

    def _find(self, name: str) -> Reply:
        if name.lower() not in (DOMAIN, f"www.{DOMAIN}"):
            return _message(404, "Business unit not found")
        with self.lock:
            counts = {stars: sum(1 for r in self.reviews if r["stars"] == stars) for stars in range(1, 6)}
        return Reply(
            200,
            {
                "links": _links(("business-units", f"{API}/v1/business-units/{BUSINESS_UNIT_ID}")),
                "id": BUSINESS_UNIT_ID,
                "displayName": BRAND,
                "name": {"identifying": DOMAIN, "referring": [DOMAIN, f"www.{DOMAIN}"]},
                "websiteUrl": f"https://www.{DOMAIN}",
                "country": "GB",
                "status": "active",
                "badFit": False,
                "score": {"trustScore": 3.1, "stars": 3},
                "numberOfReviews": {
                    "total": sum(counts.values()),
                    "usedForTrustScoreCalculation": sum(counts.values()),
                    "oneStar": counts[1],
                    "twoStars": counts[2],
                    "threeStars": counts[3],
                    "fourStars": counts[4],
                    "fiveStars": counts[5],
                },
            },
        )

    def _reviews(self, request: Request, fault: str | None) -> Reply:
        params = self._params(request)
        if isinstance(params, Reply):
            return params
        per_page, page, order = params
        with self.lock:
            listing = self._ordered(order, request)
        size = min(per_page, self.page_size)
        items = listing[(page - 1) * size : page * size]
        links: list[tuple[str, str]] = []
        if page > 1:
            links.append(("prev-page", self._href(request, page - 1)))
        if fault == "repeat_page" and page > 1:
            links.append(("next-page", self._href(request, page)))
        elif page * size < len(listing):
            links.append(("next-page", self._href(request, page + 1)))
        return Reply(200, {"links": _links(*links), "reviews": items})

    def _params(self, request: Request) -> tuple[int, int, str] | Reply:
        per_page, page = request.query.get("perPage", "20"), request.query.get("page", "1")
        if not per_page.isdigit() or not 1 <= int(per_page) <= 100:
            return _message(400, "perPage must be between 1 and 100")
        if not page.isdigit() or int(page) < 1:
            return _message(400, "page must be 1 or more")
        order = request.query.get("orderBy", "createdat.desc")
        if order not in ORDERS:
            return _message(400, f"orderBy must be one of {', '.join(ORDERS)}")
        return int(per_page), int(page), order

    def _ordered(self, order: str, request: Request) -> list[dict[str, Any]]:
        languages, stars = self._repeated(request, "language"), self._repeated(request, "stars")
        chosen = [
            review
            for review in self.reviews
            if (not languages or review["language"] in languages) and (not stars or str(review["stars"]) in stars)
        ]
        if order.startswith("stars"):
            chosen = sorted(chosen, key=lambda review: review["stars"])
        return chosen if order.endswith(".asc") else list(reversed(chosen))

    @staticmethod
    def _repeated(request: Request, name: str) -> set[str]:
        # Trustpilot takes `language` and `stars` repeated; `Request.query` keeps only the last of them.
        return {request.query[name]} if name in request.query else set()

    @staticmethod
    def _href(request: Request, page: int) -> str:
        query = {**request.query, "page": str(page)}
        return f"{API}{request.path}?{urlencode(query)}"

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "rate_limit":
            return _fault(
                429,
                "Rate limit quota violation. Quota limit  exceeded. Identifier : _default",
                "policies.ratelimit.QuotaViolation",
                {"Retry-After": str(self.retry_after_seconds)} if self.advise_retry else {},
            )
        if fault == "server_error":
            return _fault(
                503, "The Service is temporarily unavailable", "messaging.adaptors.http.flow.ServiceUnavailable"
            )
        if fault == "unauthorized":
            return _fault(401, "Invalid ApiKey", "oauth.v2.InvalidApiKey")
        return super().fault_reply(fault, request)
