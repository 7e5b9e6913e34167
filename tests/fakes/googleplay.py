"""A local stand-in for Google's OAuth token endpoint and the Play Developer API's reviews.list, on 127.0.0.1.

It speaks the protocol as google-auth and the connector use it:

- `POST /token`, a form with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
  and `assertion=<JWT>`: the JWT's RS256 signature is checked against the test
  account's public key, its `kid` against `private_key_id`, `iss` against
  `client_email`, `aud` against https://oauth2.googleapis.com/token, `scope`
  and its lifetime; the answer is `{"access_token", "expires_in": 3599,
  "token_type": "Bearer"}` or Google's OAuth error JSON (`invalid_grant`
  "Invalid JWT Signature.", "account not found", `invalid_scope`, ...) with 400.
- `GET /androidpublisher/v3/applications/{packageName}/reviews` with that
  bearer token and `maxResults`, `token`, `translationLanguage` (`startIndex` is
  accepted and ignored): reviews newest first by `userComment.lastModified`
  (a protobuf Timestamp: `seconds` as a string, `nanos`), only those written or
  edited in the 7 days before `now`, `tokenPagination.nextPageToken` while more
  remain, `pageInfo`, and `{}` when there are none; the developer's answer as a
  second `comments[]` element; Google's error JSON (`error.code`, `message`,
  `errors[]`, `status`, `details[]`) for 401, 403, 404, 429 and 5xx.

The account's RSA key is generated when a test first needs it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions as google_errors
from google.auth import jwt

from connectors.testing import BRAND, FakePlatform, Reply, Request

TOKEN_PATH = "/token"
REVIEWS_PREFIX = "/androidpublisher/v3/applications/"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
PACKAGE = "com.voltmart.app"
START = datetime(2026, 1, 8, 9, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)
NANOS = 1_000_000_000

AUTHORS = ["Maya Lindqvist", "Dan Okafor", "A Google user", "Priya Raman", None]  # authorName is sometimes absent
LANGUAGES = ["en_GB", "en", "de", "fr_FR", "en_US"]
COMPLAINTS = [
    ("Battery swelled", f"My Voltbook battery swelled after a week and the {BRAND} app will not open a return."),
    ("", f"{BRAND} app crashes at checkout every single time since the update."),
    ("Refund?", f"Still waiting for my refund, {BRAND} support chat just loops."),
    ("", f"Love the {BRAND} deals but delivery tracking never refreshes."),
    ("Login broken", f"Cannot log in to {BRAND} after the update, code never arrives."),
]
DEVICES = [
    {
        "device": "a52q",
        "androidOsVersion": 34,
        "deviceMetadata": {
            "productName": "a52q (Galaxy A52)",
            "manufacturer": "Samsung",
            "deviceClass": "phone",
            "screenWidthPx": 1080,
            "screenHeightPx": 2400,
            "nativePlatform": "arm64-v8a,armeabi-v7a,armeabi",
            "screenDensityDpi": 420,
            "glEsVersion": 196610,
            "cpuModel": "SM7125",
            "cpuMake": "Qualcomm",
            "ramMb": 6144,
        },
    },
    {"device": "panther", "androidOsVersion": 35},
    {},
]


@functools.cache
def rsa_key(name: str) -> tuple[str, str]:
    """A fresh 2048-bit RSA key per name (PKCS#8 private PEM, public PEM), made once per test session."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _google_error(
    code: int, status: str, message: str, reason: str, *, domain: str = "global", details: list[Any] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": domain, "reason": reason}],
        "status": status,
    }
    if details:
        error["details"] = details
    return {"error": error}


def _oauth_error(error: str, description: str) -> Reply:
    return Reply(400, {"error": error, "error_description": description})


def _timestamp(nanos: int) -> dict[str, Any]:
    seconds, rest = divmod(nanos, NANOS)
    return {"seconds": str(seconds), "nanos": rest}


def _nanos(moment: datetime) -> int:
    return int(moment.timestamp()) * NANOS + moment.microsecond * 1000


def _page_token(modified: int, review_id: str) -> str:
    return base64.urlsafe_b64encode(f"{modified}:{review_id}".encode()).decode().rstrip("=")


def _after(token: str) -> tuple[int, str] | None:
    try:
        modified, review_id = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(":", 1)
        return int(modified), review_id
    except (ValueError, UnicodeDecodeError):
        return None


class FakeGooglePlay(FakePlatform):
    client_email = "reviews-reader@voltmart-play.iam.gserviceaccount.com"
    private_key_id = "3f1c0b6de2a94c5e8a7d91b0c4e2f6a1d8b3c5e7"

    def __init__(self) -> None:
        super().__init__()
        self.reviews: list[dict[str, Any]] = []
        self.packages = {PACKAGE}
        self.forbidden_packages: set[str] = set()
        self.issued: set[str] = set()
        self.tokens_issued = 0
        self.token_faults: list[str] = []  # "server_error" or "rate_limit", for the next token requests
        self.quota_as_403 = False  # answer rate_limit the way older Google front ends did
        self.now: datetime | None = None  # the API's clock; default: an hour after the newest review
        self._serial = 0
        self._written: dict[int, int] = {}

    @property
    def env(self) -> dict[str, str]:
        return {"GOOGLE_PLAY_SERVICE_ACCOUNT_JSON": json.dumps(self.account_info())}

    def account_info(self, key: str = "play-account") -> dict[str, str]:
        """The JSON key file Google issues for a service account, its `token_uri` pointing here."""
        return {
            "type": "service_account",
            "project_id": "voltmart-play",
            "private_key_id": self.private_key_id,
            "private_key": rsa_key(key)[0],
            "client_email": self.client_email,
            "client_id": "104812398712398712345",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f"{self.url}{TOKEN_PATH}",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            "reviews-reader%40voltmart-play.iam.gserviceaccount.com",
            "universe_domain": "googleapis.com",
        }

    # The dataset: reviews, edits and developer replies.

    def publish(self, count: int) -> list[str]:
        return [self.write(self._next_review()) for _ in range(count)]

    def unpublish(self, count: int) -> list[str]:
        gone = self.newest_first()[:count]
        self.reviews = [review for review in self.reviews if all(review is not g for g in gone)]
        return [review["reviewId"] for review in gone]

    def write(self, review: dict[str, Any]) -> str:
        """Publish a review given as Google's full object (missing optional fields are fine)."""
        with self.lock:
            self._written[id(review)] = max((self.modified(r) for r in self.reviews), default=_nanos(START)) + 1
            self.reviews.append(review)
            return str(review.get("reviewId"))

    def next_time(self) -> int:
        """A `lastModified` (epoch nanoseconds) later than every other, with millisecond precision like Google's."""
        self._serial += 1
        moment = START + timedelta(minutes=self._serial, milliseconds=713 * (self._serial % 3))
        newest = max((self.modified(review) for review in self.reviews), default=0)
        return max(_nanos(moment), newest + NANOS)

    def new_id(self) -> str:
        digest = hashlib.sha256(f"voltmart-review-{self._serial}".encode()).digest()
        return "gp:AOqpTO" + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _next_review(self) -> dict[str, Any]:
        modified = self.next_time()
        title, body = COMPLAINTS[self._serial % len(COMPLAINTS)]
        author = AUTHORS[self._serial % len(AUTHORS)]
        user: dict[str, Any] = {
            "text": f"{title}\t{body}" if title else body,
            "lastModified": _timestamp(modified),
            "starRating": 1 + self._serial % 5,
            "reviewerLanguage": LANGUAGES[self._serial % len(LANGUAGES)],
            "appVersionCode": 40100 + self._serial % 3,
            "appVersionName": f"4.1.{self._serial % 3}",
            "thumbsUpCount": self._serial * 3 % 7,
            "thumbsDownCount": self._serial % 2,
            **DEVICES[self._serial % len(DEVICES)],
        }
        review: dict[str, Any] = {"reviewId": self.new_id(), "comments": [{"userComment": user}]}
        if author is not None:
            review["authorName"] = author
        if self._serial % 3 == 0:
            reply = {
                "text": "Sorry about this! Please write to help@voltmart.example and we will sort it out.",
                "lastModified": _timestamp(modified + 25 * 60 * NANOS),
            }
            review["comments"].append({"developerComment": reply})
        return review

    def edit(self, review_id: str, text: str, rating: int) -> None:
        """The reviewer rewrites the review: new text and stars, and a `lastModified` newer than every other."""
        with self.lock:
            user = self.user_comment(self.find(review_id))
            user.update(text=text, starRating=rating, lastModified=_timestamp(self.next_time()))

    def reply(self, review_id: str, text: str, at: datetime) -> None:
        """The developer answers; the review keeps its place (only the user's comment orders the listing)."""
        with self.lock:
            review = self.find(review_id)
            review["comments"] = [c for c in review["comments"] if "developerComment" not in c]
            review["comments"].append({"developerComment": {"text": text, "lastModified": _timestamp(_nanos(at))}})

    def find(self, review_id: str) -> dict[str, Any]:
        return next(review for review in self.reviews if review["reviewId"] == review_id)

    @staticmethod
    def user_comment(review: dict[str, Any]) -> dict[str, Any]:
        comment: dict[str, Any] = next(c["userComment"] for c in review["comments"] if "userComment" in c)
        return comment

    def modified(self, review: dict[str, Any]) -> int:
        try:
            stamp = self.user_comment(review)["lastModified"]
            return int(stamp["seconds"]) * NANOS + int(stamp.get("nanos") or 0)
        except (StopIteration, KeyError, TypeError, ValueError):
            # A malformed review a test wrote on purpose: listed where it was written.
            return self._written[id(review)]

    def newest_first(self) -> list[dict[str, Any]]:
        # Reviews modified at the same instant: a stable, arbitrary order, by id.
        return sorted(
            self.reviews, key=lambda review: (self.modified(review), str(review.get("reviewId"))), reverse=True
        )

    # The protocol.

    def is_data_request(self, request: Request) -> bool:
        return request.path.startswith(REVIEWS_PREFIX)

    def respond(self, request: Request, fault: str | None) -> Reply:
        if request.path == TOKEN_PATH:
            return self._token(request)
        if not request.path.startswith(REVIEWS_PREFIX) or not request.path.endswith("/reviews"):
            return Reply(404, _google_error(404, "NOT_FOUND", "Method not found.", "notFound"))
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.issued:
            return self.fault_reply("unauthorized", request)
        package = request.path[len(REVIEWS_PREFIX) : -len("/reviews")]
        if package in self.forbidden_packages:
            message = "The caller does not have permission"
            return Reply(403, _google_error(403, "PERMISSION_DENIED", message, "forbidden"))
        if package not in self.packages:
            message = "No application was found for the given package name."
            return Reply(404, _google_error(404, "NOT_FOUND", message, "applicationNotFound"))
        return self._reviews(request.query, fault)

    def _token(self, request: Request) -> Reply:
        if self.token_faults:
            fault = self.token_faults.pop(0)
            if fault == "rate_limit":
                return Reply(429, {"error": "rate_limit_exceeded", "error_description": "Rate limit exceeded."})
            return Reply(503, {"error": "internal_failure", "error_description": "Backend Error"})
        form = dict(parse_qsl(request.body.decode()))
        if request.method != "POST" or form.get("grant_type") != JWT_GRANT:
            return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}")
        assertion = form.get("assertion", "")
        try:
            header = jwt.decode_header(assertion)
            claims = jwt.decode(assertion, certs=rsa_key("play-account")[1], verify=False)
        except (ValueError, google_errors.GoogleAuthError):
            return _oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived token")
        if claims.get("iss") != self.client_email:
            return _oauth_error("invalid_grant", "Invalid grant: account not found")
        if header.get("alg") != "RS256" or header.get("kid") != self.private_key_id:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        try:
            jwt.decode(assertion, certs=rsa_key("play-account")[1], audience=GOOGLE_TOKEN_URI)
        except (ValueError, google_errors.GoogleAuthError) as error:
            if "audience" in str(error).lower():
                return _oauth_error("invalid_grant", "Invalid JWT: Failed audience check.")
            if "signature" in str(error).lower():
                return _oauth_error("invalid_grant", "Invalid JWT Signature.")
            return _oauth_error(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                "Check your iat and exp values in the JWT claim.",
            )
        if int(claims.get("exp", 0)) - int(claims.get("iat", 0)) > 3600:
            return _oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes)")
        if SCOPE not in str(claims.get("scope", "")).split():
            return _oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        access_token = "ya29.c.b0AXv0zT" + secrets.token_urlsafe(48)
        self.issued.add(access_token)
        self.tokens_issued += 1
        return Reply(200, {"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"})

    def _reviews(self, params: dict[str, str], fault: str | None) -> Reply:
        max_results = params.get("maxResults", "10")
        if not max_results.isdigit():
            message = f"Invalid value at 'max_results' (TYPE_UINT32), \"{max_results}\""
            return Reply(400, _google_error(400, "INVALID_ARGUMENT", message, "invalid"))
        listing = self.newest_first()
        now = self.now or (
            datetime.fromtimestamp(self.modified(listing[0]) // NANOS, UTC) + timedelta(hours=1) if listing else START
        )
        oldest = _nanos(now - WINDOW)
        listing = [review for review in listing if self.modified(review) >= oldest]
        if "token" in params:
            after = _after(params["token"])
            if after is None:
                return Reply(400, _google_error(400, "INVALID_ARGUMENT", "Invalid pagination token.", "invalid"))
            listing = [r for r in listing if (self.modified(r), str(r.get("reviewId"))) < after]
        size = min(int(max_results) or 10, 100, self.page_size)
        page = [self._translated(review, params.get("translationLanguage")) for review in listing[:size]]
        if not page:
            return Reply(200, {})
        body: dict[str, Any] = {
            "pageInfo": {"totalResults": len(listing), "resultPerPage": len(page), "startIndex": 0},
            "reviews": page,
        }
        if fault == "repeat_page" and "token" in params:
            body["tokenPagination"] = {"nextPageToken": params["token"]}
        elif len(listing) > len(page):
            last = page[-1]
            body["tokenPagination"] = {"nextPageToken": _page_token(self.modified(last), str(last.get("reviewId")))}
        return Reply(200, body)

    def _translated(self, review: dict[str, Any], language: str | None) -> dict[str, Any]:
        if not language or not any("userComment" in c for c in review.get("comments") or []):
            return review
        copy = json.loads(json.dumps(review))
        user = self.user_comment(copy)
        spoken = str(user.get("reviewerLanguage", "")).split("_")[0]
        if language.split("_")[0] != spoken:
            user["originalText"] = user["text"]
            user["text"] = f"[{language}] {user['text']}"
        return copy

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "rate_limit":
            message = (
                "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service "
                "'androidpublisher.googleapis.com' for consumer 'project_number:1048123987123'."
            )
            retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{self.retry_after_seconds}s"}
            if self.quota_as_403:
                body = _google_error(403, "PERMISSION_DENIED", message, "rateLimitExceeded", domain="usageLimits")
                return Reply(403, body)
            return Reply(429, _google_error(429, "RESOURCE_EXHAUSTED", message, "rateLimitExceeded", details=[retry]))
        if fault == "server_error":
            return Reply(
                503, _google_error(503, "UNAVAILABLE", "The service is currently unavailable.", "backendError")
            )
        if fault == "unauthorized":
            message = (
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project."
            )
            headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'}
            return Reply(401, _google_error(401, "UNAUTHENTICATED", message, "authError"), headers)
        return super().fault_reply(fault, request)
