"""A local stand-in for a Bluesky PDS and the AppView behind it, on 127.0.0.1.

It speaks XRPC as the `atproto` SDK uses it: `POST /xrpc/com.atproto.server.createSession`
(`{identifier, password}` -> `{did, handle, accessJwt, refreshJwt, didDoc, active}`,
with well-formed HS256 JWTs whose `exp` the SDK reads), `POST .../refreshSession`
with the refresh JWT (rotating both tokens), then bearer-token queries:
`GET /xrpc/app.bsky.feed.searchPosts` (`q`, `sort`, `limit` 1-100, `cursor`, `lang`,
`since`) answering `{posts: [PostView], cursor, hitsTotal}` newest first by
`sortAt` (the earlier of `createdAt` and `indexedAt`), paged by an offset
cursor that is absent on the last page, and `GET /xrpc/app.bsky.actor.getProfiles`
(`actors`, repeated, at most 25). Every answer has the `ratelimit-limit/-remaining/
-reset/-policy` headers; errors are XRPC bodies `{"error", "message"}`: 401
`AuthenticationRequired` for a wrong password or a missing token, 400
`ExpiredToken`/`InvalidToken` for a token it no longer accepts (as a PDS does),
429 `RateLimitExceeded`, 500 `InternalServerError`.

Post times are written as clients write them: `createdAt` in UTC or with the
poster's offset, `indexedAt` by the server in UTC. Faults are scripted for
searchPosts only, the one data request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.bluesky import tid_for
from connectors.testing import BRAND, FakePlatform, Reply, Request
from connectors.testing.fake import request_handler

XRPC = "/xrpc/"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION = "/xrpc/com.atproto.server.refreshSession"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
PROFILES = "/xrpc/app.bsky.actor.getProfiles"
START = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
TOKYO = timezone(timedelta(hours=9))
RATE_LIMIT = 3000
RATE_WINDOW = 300
ACCESS_SECONDS = 2 * 3600
REFRESH_SECONDS = 90 * 86400
PDS = "https://morel.us-east.host.bsky.network"

ACCOUNT = {"did": "did:plc:v7tq3mkd2xw5ylzqh4n6rjab", "handle": "voltmart-monitor.bsky.social"}
AUTHORS: list[dict[str, Any]] = [
    {
        "did": "did:plc:4hqjfn7m6n5hno3doamuhgef",
        "handle": "maya.bsky.social",
        "displayName": "Maya",
        "followersCount": 3812,
        "followsCount": 310,
        "postsCount": 5120,
    },
    {
        "did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
        "handle": "dan-okafor.bsky.social",
        "displayName": "Dan Okafor",
        "followersCount": 120,
        "followsCount": 95,
        "postsCount": 880,
    },
    {
        "did": "did:plc:z72i7hdynmk6r22z27h6tvur",
        "handle": "gadgetdesk.com",
        "displayName": "Gadget Desk",
        "followersCount": 91000,
        "followsCount": 12,
        "postsCount": 40211,
    },
]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": error, "message": message}, headers or {})


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _when(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cid(seed: str) -> str:
    return "bafyrei" + base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode().lower().rstrip("=")[:52]


class FakeBluesky(FakePlatform):
    def __init__(self) -> None:
        super().__init__()
        self.handle = ACCOUNT["handle"]
        # A fresh app password per fake, in Bluesky's xxxx-xxxx-xxxx-xxxx form, so sessions kept in
        # the connector's process-wide store never carry over from one fake to the next.
        letters = "abcdefghijklmnopqrstuvwxyz234567"
        self.app_password = "-".join("".join(secrets.choice(letters) for _ in range(4)) for _ in range(4))
        self.pds_endpoint = PDS  # where the DID document sends the SDK after login
        self.access_seconds = ACCESS_SECONDS
        self.posts: list[dict[str, Any]] = []  # PostViews, oldest first
        self.profiles = {author["did"]: author for author in AUTHORS}
        self.sessions_created = 0
        self.refreshes = 0
        self.revoked: set[str] = set()  # access tokens refused as if the app password had been revoked
        self._key = secrets.token_bytes(32)
        self._refresh_jti: str | None = None
        self._serial = 0
        self._local = threading.local()

    @property
    def env(self) -> dict[str, str]:
        return {"BLUESKY_HANDLE": self.handle, "BLUESKY_APP_PASSWORD": self.app_password}

    # The server keeps each request's raw query string: getProfiles repeats `actors`, which the
    # shared handler's parsed `Request.query` (one value per name) cannot hold.

    def __enter__(self) -> FakeBluesky:
        base = request_handler(self)
        local = self._local

        class Handler(base):  # type: ignore[valid-type,misc]
            def _serve(self) -> None:
                local.query = urlsplit(self.path).query
                super()._serve()

            do_GET = do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def _all(self, name: str) -> list[str]:
        return parse_qs(getattr(self._local, "query", ""), keep_blank_values=True).get(name, [])

    # The dataset: threads of roots, replies, replies to replies and quotes.

    def publish(self, count: int) -> list[str]:
        return [self._next_post() for _ in range(count)]

    def unpublish(self, count: int) -> list[str]:
        gone = self.posts[len(self.posts) - count :]
        del self.posts[len(self.posts) - count :]
        return [post["uri"] for post in gone]

    def _next_post(self) -> str:
        roots = [post for post in self.posts if "reply" not in post["record"] and "embed" not in post["record"]]
        replies = [post for post in self.posts if "reply" in post["record"]]
        shape = len(self.posts) % 4  # root, reply, reply to the reply, quote of the reply (with an image)
        author = (len(self.posts) + 1) % len(AUTHORS)
        if not roots or shape == 0:
            text = f"@voltmart.com my Voltbook battery swelled and {BRAND} support hung up on me #{len(self.posts)}"
            return self.post(text, author)
        if shape == 1:
            return self.post(f"same here, {BRAND} ignored me for weeks", author, reply_to=roots[-1]["uri"])
        if shape == 2:
            return self.post(f"{BRAND} told me the same, word for word", author, reply_to=replies[-1]["uri"])
        return self.post(f"{BRAND} really needs to answer this one", author, quote=replies[-1]["uri"], media=True)

    def post(
        self,
        text: str,
        author: int = 0,
        *,
        reply_to: str | None = None,
        quote: str | None = None,
        media: bool = False,
        created_at: str | None = None,
        langs: list[str] | None = None,
        rkey: str | None = None,
    ) -> str:
        """Publish a post as the AppView shows it; `created_at` as the posting client wrote it."""
        with self.lock:
            self._serial += 1
            created = START + timedelta(minutes=len(self.posts) + 1, seconds=self._serial % 7)
            profile = AUTHORS[author]
            rkey = rkey or tid_for(created, clock_id=self._serial % 1024)
            uri = f"at://{profile['did']}/app.bsky.feed.post/{rkey}"
            if created_at is None:
                # Some clients write the poster's local offset; the rest UTC with milliseconds.
                local = created.astimezone(TOKYO) if len(self.posts) % 3 == 2 else created
                created_at = local.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            record: dict[str, Any] = {
                "$type": "app.bsky.feed.post",
                "createdAt": created_at,
                "langs": ["en"] if langs is None else langs,
                "text": text,
            }
            post: dict[str, Any] = {
                "uri": uri,
                "cid": _cid(uri),
                "author": {
                    "did": profile["did"],
                    "handle": profile["handle"],
                    "displayName": profile["displayName"],
                    "avatar": f"https://cdn.bsky.app/img/avatar/plain/{profile['did']}/{_cid(profile['did'])}@jpeg",
                    "associated": {"chat": {"allowIncoming": "following"}},
                    "labels": [],
                    "createdAt": "2023-05-02T09:14:27.118Z",
                },
                "record": record,
                "bookmarkCount": 0,
                "replyCount": self._serial % 3,
                "repostCount": self._serial % 5,
                "likeCount": self._serial * 2,
                "quoteCount": self._serial % 2,
                "indexedAt": _stamp(created + timedelta(milliseconds=812)),
                "viewer": {"bookmarked": False, "threadMuted": False, "embeddingDisabled": False},
                "labels": [],
            }
            if reply_to:
                parent = self._find(reply_to)
                root = parent["record"].get("reply", {}).get("root") or {"uri": parent["uri"], "cid": parent["cid"]}
                record["reply"] = {"root": dict(root), "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
            if quote:
                self._embed_quote(post, self._find(quote), media)
            self.posts.append(post)
            return uri

    def _find(self, uri: str) -> dict[str, Any]:
        return next(post for post in self.posts if post["uri"] == uri)

    @staticmethod
    def _embed_quote(post: dict[str, Any], quoted: dict[str, Any], media: bool) -> None:
        strong_ref = {"$type": "app.bsky.embed.record", "record": {"uri": quoted["uri"], "cid": quoted["cid"]}}
        shown = {
            "$type": "app.bsky.embed.record#viewRecord",
            "uri": quoted["uri"],
            "cid": quoted["cid"],
            "author": quoted["author"],
            "value": quoted["record"],
            "labels": [],
            "likeCount": quoted["likeCount"],
            "replyCount": quoted["replyCount"],
            "repostCount": quoted["repostCount"],
            "quoteCount": quoted["quoteCount"] + 1,
            "indexedAt": quoted["indexedAt"],
            "embeds": [],
        }
        if not media:
            post["record"]["embed"] = strong_ref
            post["embed"] = {"$type": "app.bsky.embed.record#view", "record": shown}
            return
        image = {"alt": "the swollen battery", "aspectRatio": {"height": 1000, "width": 750}}
        blob = {"$type": "blob", "ref": {"$link": _cid(post["uri"] + "img")}, "mimeType": "image/jpeg", "size": 412}
        post["record"]["embed"] = {
            "$type": "app.bsky.embed.recordWithMedia",
            "media": {"$type": "app.bsky.embed.images", "images": [{**image, "image": blob}]},
            "record": strong_ref,
        }
        thumb = f"https://cdn.bsky.app/img/feed_thumbnail/plain/{post['author']['did']}/{blob['ref']['$link']}@jpeg"
        post["embed"] = {
            "$type": "app.bsky.embed.recordWithMedia#view",
            "media": {
                "$type": "app.bsky.embed.images#view",
                "images": [{**image, "thumb": thumb, "fullsize": thumb.replace("feed_thumbnail", "feed_fullsize")}],
            },
            "record": {"record": shown},
        }

    # Sessions: HS256 JWTs shaped like a PDS's.

    def _jwt(self, typ: str, claims: dict[str, Any]) -> str:
        header = _b64(json.dumps({"typ": typ, "alg": "HS256"}).encode())
        payload = _b64(json.dumps(claims).encode())
        signature = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def _claims(self, token: str, typ: str) -> dict[str, Any] | Reply:
        try:
            header, payload, signature = token.split(".")
            expected = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(signature)) or json.loads(_unb64(header))["typ"] != typ:
                raise ValueError("signature")
            claims: dict[str, Any] = json.loads(_unb64(payload))
        except (ValueError, KeyError):
            return _error(400, "InvalidToken", "Token could not be verified", self._rate_headers())
        if claims["exp"] <= time.time():
            return _error(400, "ExpiredToken", "Token has expired", self._rate_headers())
        return claims

    def _session(self) -> dict[str, Any]:
        now = int(time.time())
        self._refresh_jti = secrets.token_urlsafe(32)
        access = {
            "scope": "com.atproto.appPass",
            "sub": ACCOUNT["did"],
            "iat": now,
            "exp": now + self.access_seconds,
            "aud": "did:web:morel.us-east.host.bsky.network",
            "jti": secrets.token_urlsafe(16),  # two sessions in one second must differ, so one can be revoked
        }
        refresh = {
            "scope": "com.atproto.refresh",
            "sub": ACCOUNT["did"],
            "aud": "did:web:bsky.social",
            "jti": self._refresh_jti,
            "iat": now,
            "exp": now + REFRESH_SECONDS,
        }
        return {
            "did": ACCOUNT["did"],
            "didDoc": {
                "@context": [
                    "https://www.w3.org/ns/did/v1",
                    "https://w3id.org/security/multikey/v1",
                    "https://w3id.org/security/suites/secp256k1-2019/v1",
                ],
                "id": ACCOUNT["did"],
                "alsoKnownAs": [f"at://{self.handle}"],
                "verificationMethod": [
                    {
                        "id": f"{ACCOUNT['did']}#atproto",
                        "type": "Multikey",
                        "controller": ACCOUNT["did"],
                        "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
                    }
                ],
                "service": [
                    {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": self.pds_endpoint}
                ],
            },
            "handle": self.handle,
            "accessJwt": self._jwt("at+jwt", access),
            "refreshJwt": self._jwt("refresh+jwt", refresh),
            "active": True,
        }

    # The protocol.

    def is_data_request(self, request: Request) -> bool:
        return request.path == SEARCH

    def respond(self, request: Request, fault: str | None) -> Reply:
        if request.path == CREATE_SESSION:
            return self._create_session(request)
        if request.path == REFRESH_SESSION:
            return self._refresh_session(request)
        if request.path not in (SEARCH, PROFILES):
            return _error(501, "MethodNotImplemented", "Method Not Implemented")
        if request.method != "GET":
            return _error(400, "InvalidRequest", f"Incorrect HTTP method ({request.method}) expected GET")
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("Bearer "):
            return _error(401, "AuthMissing", "Authentication Required", self._rate_headers())
        token = authorization.removeprefix("Bearer ")
        claims = self._claims(token, "at+jwt")
        if isinstance(claims, Reply):
            return claims
        if token in self.revoked:
            return _error(400, "InvalidToken", "Token has been revoked", self._rate_headers())
        if request.path == PROFILES:
            return self._profiles()
        return self._search(request.query, fault)

    def _create_session(self, request: Request) -> Reply:
        try:
            body = json.loads(request.body)
            identifier, password = str(body["identifier"]), str(body["password"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "InvalidRequest", 'Input must have the property "identifier"')
        if identifier.lower() not in (self.handle, ACCOUNT["did"]) or password != self.app_password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password", self._rate_headers(30))
        self.sessions_created += 1
        return Reply(200, self._session(), self._rate_headers(30))

    def _refresh_session(self, request: Request) -> Reply:
        claims = self._claims(request.headers.get("authorization", "").removeprefix("Bearer "), "refresh+jwt")
        if isinstance(claims, Reply):
            return claims
        if claims.get("jti") != self._refresh_jti:
            return _error(400, "ExpiredToken", "Token has been revoked")
        self.refreshes += 1
        session = self._session()
        session.pop("active")
        return Reply(200, session, self._rate_headers())

    def _search(self, params: dict[str, str], fault: str | None) -> Reply:
        if not params.get("q"):
            return _error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        limit = params.get("limit", "25")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            return _error(400, "InvalidRequest", "Error: limit must be less than or equal to 100")
        cursor = params.get("cursor")
        if cursor is not None and not cursor.isdigit():
            return _error(400, "InvalidRequest", "invalid cursor")
        offset = int(cursor or 0)
        matching = [post for post in self._newest_first() if self._matches(post, params)]
        page = matching[offset : offset + min(int(limit), self.page_size)]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(matching)}
        if fault == "repeat_page" and cursor:
            body["cursor"] = cursor
        elif offset + len(page) < len(matching):
            body["cursor"] = str(offset + len(page))
        return Reply(200, body, self._rate_headers())

    def _newest_first(self) -> list[dict[str, Any]]:
        def sort_at(post: dict[str, Any]) -> datetime:
            times = [_when(post["record"].get("createdAt", "")), _when(post["indexedAt"])]
            return min(t for t in times if t is not None)

        return sorted(self.posts, key=sort_at, reverse=True)

    @staticmethod
    def _matches(post: dict[str, Any], params: dict[str, str]) -> bool:
        words = [word for word in params["q"].lower().split() if word not in {"or", "and"}]
        text = post["record"]["text"].lower()
        if not any(word.strip('"') in text for word in words):
            return False
        if params.get("lang") and params["lang"] not in post["record"].get("langs", []):
            return False
        since = _when(params.get("since", ""))
        return since is None or (_when(post["indexedAt"]) or since) >= since

    def _profiles(self) -> Reply:
        actors = self._all("actors")
        if not actors:
            return _error(400, "InvalidRequest", 'Error: Params must have the property "actors"')
        if len(actors) > 25:
            return _error(400, "InvalidRequest", "Error: actors must not have more than 25 elements")
        found = [self.profiles[actor] for actor in actors if actor in self.profiles]
        views = [
            {
                **profile,
                "avatar": f"https://cdn.bsky.app/img/avatar/plain/{profile['did']}/{_cid(profile['did'])}@jpeg",
                "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False},
                "indexedAt": "2024-11-20T10:00:01.123Z",
                "createdAt": "2023-05-02T09:14:27.118Z",
                "labels": [],
                "description": "",
            }
            for profile in found
        ]
        return Reply(200, {"profiles": views}, self._rate_headers())

    def _rate_headers(self, limit: int = RATE_LIMIT, remaining: int | None = None) -> dict[str, str]:
        used = len(self.requests)
        return {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(max(0, limit - used) if remaining is None else remaining),
            "ratelimit-reset": str(int(time.time()) + RATE_WINDOW),
            "ratelimit-policy": f"{limit};w={RATE_WINDOW}",
        }

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "rate_limit":
            headers = self._rate_headers(remaining=0)
            headers["ratelimit-reset"] = str(int(time.time()) + self.retry_after_seconds)
            return _error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
        if fault == "server_error":
            return _error(500, "InternalServerError", "Internal Server Error")
        if fault == "unauthorized":
            return _error(401, "AuthenticationRequired", "Authentication Required")
        return super().fault_reply(fault, request)
