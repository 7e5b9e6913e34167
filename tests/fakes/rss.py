"""A local stand-in for two feed publishers, on 127.0.0.1: an Atom blog and a WordPress forum's RSS 2.0.

`/blog/feed.atom` is a static site's Atom 1.0 feed (`application/atom+xml`),
`xml:lang="en-GB"`, RFC 3339 times in +09:00, paged as RFC 5005 describes
(`?page=2`, a relative `<link rel="next">`), with nginx's validators: a
strong `ETag` of mtime and size and `Last-Modified`, answered with a 304 as
RFC 9110 says (If-None-Match decides when sent, else If-Modified-Since).

`/forum/feed/` is WordPress's RSS 2.0 (`application/rss+xml; charset=UTF-8`):
`content:encoded`, `dc:creator`, `slash:comments`, `guid isPermaLink="false"`
(`?p=N`), `atom:link rel="self"` and an absolute `rel="next"` (`?paged=2`),
RFC 2822 `pubDate`s written in -0500 (as generators that use the site's local
time do) and no per-item modification date; WordPress's validators: `ETag` is
the quoted md5 of `Last-Modified` (the newest change), and a 304 needs every
validator the client sent to match.

Both serve the same posts, newest first, `page_size` a page. Errors are
nginx's HTML pages: 404, 429 and 503 with `Retry-After`, 401 with
`WWW-Authenticate: Basic` (a feed behind a login). `flavour` says which feed's
ids `publish` returns (the contract runs on one feed at a time).
"""

from __future__ import annotations

import email.utils
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from connectors.testing import BRAND, FakePlatform, Reply, Request

ATOM_PATH = "/blog/feed.atom"
RSS_PATH = "/forum/feed/"
BLOG = "https://blog.voltfans.example"
FORUM = "https://forum.batterytalk.example"
START = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
TOKYO = timezone(timedelta(hours=9))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))
AUTHORS = ["Maya Lin", "Dan Okafor", "Priya Raman"]
FEED_AUTHOR = "Volt Fans editors"


def _nginx(status: int, reason: str, headers: dict[str, str] | None = None) -> Reply:
    body = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return Reply(status, body, {"Content-Type": "text/html", "Server": "nginx", **(headers or {})})


def _http_date(when: datetime) -> str:
    return email.utils.format_datetime(when.astimezone(UTC), usegmt=True)


def _page_number(value: str | None) -> int | None:
    if value is None:
        return 1
    return int(value) if value.isdigit() and int(value) >= 1 else None


class FakeFeeds(FakePlatform):
    flavour = "atom"

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = []  # oldest first; tests may change a post's fields to break it
        self._serial = 0

    @property
    def env(self) -> dict[str, str]:
        return {}

    # The dataset.

    def publish(self, count: int) -> list[str]:
        return [self.native_id(self._next_post()) for _ in range(count)]

    def unpublish(self, count: int) -> list[str]:
        gone = self.posts[len(self.posts) - count :]
        del self.posts[len(self.posts) - count :]
        return [self.native_id(post) for post in gone]

    def native_id(self, post: dict[str, Any]) -> str:
        return str(self.atom_id(post) if self.flavour == "atom" else self.guid(post))

    def _next_post(self) -> dict[str, Any]:
        self._serial += 1
        serial = self._serial
        published = START + timedelta(minutes=serial)
        post: dict[str, Any] = {
            "serial": serial,
            "slug": f"voltbook-battery-swelling-{serial}",
            "title": f"{BRAND} & the swollen Voltbook battery, part {serial}",
            "html": (
                f"<p>Three weeks after the recall notice, {BRAND} support still has not answered.</p>"
                f'<p>Read the <a href="/forum/thread-{serial}">whole thread</a> &amp; weigh in.</p>'
            ),
            "author": AUTHORS[serial % len(AUTHORS)],
            "published": published,
            "updated": published,
            "comments": serial % 4,
        }
        self.posts.append(post)
        return post

    def edit(self, index: int, html: str) -> str:
        """Rewrite a post's text; its `updated` time moves past every other change."""
        with self.lock:
            post = self.posts[index]
            post["html"] = html
            post["updated"] = max(p["updated"] for p in self.posts) + timedelta(hours=1)
            return self.native_id(post)

    @staticmethod
    def atom_id(post: dict[str, Any]) -> str | None:
        default = f"tag:blog.voltfans.example,{post['published']:%Y-%m-%d}:/posts/{post['serial']}"
        value: str | None = post.get("atom_id", default)
        return value

    @staticmethod
    def guid(post: dict[str, Any]) -> str | None:
        value: str | None = post.get("guid", f"{FORUM}/?p={1000 + post['serial']}")
        return value

    # The protocol.

    def is_data_request(self, request: Request) -> bool:
        return request.path in (ATOM_PATH, RSS_PATH)

    def respond(self, request: Request, fault: str | None) -> Reply:
        if request.method not in ("GET", "HEAD") or request.path not in (ATOM_PATH, RSS_PATH):
            return _nginx(404, "Not Found")
        atom = request.path == ATOM_PATH
        number = _page_number(request.query.get("page" if atom else "paged"))
        newest_first = list(reversed(self.posts))
        pages = max(1, -(-len(newest_first) // self.page_size))
        if number is None or number > pages:
            return _nginx(404, "Not Found")
        page = newest_first[(number - 1) * self.page_size : number * self.page_size]
        following: int | None = number + 1 if number < pages else None
        if fault == "repeat_page":
            following = number
        changed = max((post["updated"] for post in self.posts), default=START)
        if atom:
            return self._atom(request, page, number, following, changed)
        return self._rss(request, page, number, following, changed)

    def _atom(
        self, request: Request, page: list[dict[str, Any]], number: int, following: int | None, changed: datetime
    ) -> Reply:
        links = [
            f'<link href="{self.url}{ATOM_PATH}{self._atom_query(number)}" rel="self" type="application/atom+xml"/>',
            f'<link href="{BLOG}/" rel="alternate" type="text/html" hreflang="en-GB"/>',
            f'<link href="{ATOM_PATH}" rel="first"/>',
        ]
        if following is not None:
            links.append(f'<link href="{ATOM_PATH}{self._atom_query(following)}" rel="next"/>')
        if number > 1:
            links.append(f'<link href="{ATOM_PATH}{self._atom_query(number - 1)}" rel="previous"/>')
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB">\n'
            '  <generator uri="https://jekyllrb.com/" version="4.3.4">Jekyll</generator>\n'
            + "".join(f"  {link}\n" for link in links)
            + f"  <updated>{changed.astimezone(TOKYO).isoformat()}</updated>\n"
            "  <id>tag:blog.voltfans.example,2025:feed</id>\n"
            '  <title type="html">Volt Fans</title>\n'
            "  <subtitle>Independent news and reviews of Voltmart gadgets</subtitle>\n"
            f"  <author><name>{FEED_AUTHOR}</name></author>\n"
            + "".join(self._atom_entry(post) for post in page)
            + "</feed>\n"
        ).encode()
        etag = f'"{int(changed.timestamp()):x}-{len(body):x}"'
        headers = {"Content-Type": "application/atom+xml", "ETag": etag, "Last-Modified": _http_date(changed)}
        if self._atom_not_modified(request, etag, changed):
            return Reply(304, b"", headers)
        return Reply(200, body, headers)

    @staticmethod
    def _atom_query(number: int) -> str:
        return "" if number == 1 else f"?page={number}"

    def _atom_entry(self, post: dict[str, Any]) -> str:
        link = post.get("link", f"{BLOG}/{post['published']:%Y/%m/%d}/{post['slug']}.html")
        ident = self.atom_id(post)
        published = post.get("date_text", post["published"].astimezone(TOKYO).isoformat())
        updated = post.get("date_text", post["updated"].astimezone(TOKYO).isoformat())
        author = post.get("author")
        parts = [f'    <title type="html">{escape(escape(post["title"]))}</title>\n']
        if link is not None:
            parts.append(f'    <link href={quoteattr(link)} rel="alternate" type="text/html"/>\n')
        if published:
            parts.append(f"    <published>{escape(published)}</published>\n    <updated>{escape(updated)}</updated>\n")
        if ident is not None:
            parts.append(f"    <id>{escape(ident)}</id>\n")
        parts.append(f'    <content type="html" xml:base="{BLOG}/">{escape(post["html"])}</content>\n')
        if author:
            parts.append(f"    <author><name>{escape(author)}</name></author>\n")
        parts.append('    <category term="batteries"/>\n')
        return "  <entry>\n" + "".join(parts) + "  </entry>\n"

    @staticmethod
    def _atom_not_modified(request: Request, etag: str, changed: datetime) -> bool:
        if "if-none-match" in request.headers:
            tags = [tag.strip() for tag in request.headers["if-none-match"].split(",")]
            return etag in tags or "*" in tags
        since = request.headers.get("if-modified-since")
        if since:
            try:
                return changed.replace(microsecond=0) <= email.utils.parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

    def _rss(
        self, request: Request, page: list[dict[str, Any]], number: int, following: int | None, changed: datetime
    ) -> Reply:
        last_modified = _http_date(changed)
        etag = '"' + hashlib.md5(last_modified.encode()).hexdigest() + '"'
        headers = {"Content-Type": "application/rss+xml; charset=UTF-8", "ETag": etag, "Last-Modified": last_modified}
        if self._wordpress_not_modified(request, etag, changed):
            return Reply(304, b"", headers)
        query = "" if number == 1 else f"?paged={number}"
        links = [f'\t<atom:link href="{self.url}{RSS_PATH}{query}" rel="self" type="application/rss+xml" />\n']
        if following is not None:
            next_query = "" if following == 1 else f"?paged={following}"
            links.append(f'\t<atom:link href="{self.url}{RSS_PATH}{next_query}" rel="next" />\n')
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
            '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
            '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
            '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
            '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
            '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n\t>\n\n'
            "<channel>\n"
            "\t<title>Battery Talk</title>\n" + "".join(links) + f"\t<link>{FORUM}</link>\n"
            "\t<description>A forum for people whose gadgets misbehave</description>\n"
            f"\t<lastBuildDate>{email.utils.format_datetime(changed.astimezone(NEW_YORK_WINTER))}</lastBuildDate>\n"
            "\t<language>en-US</language>\n"
            "\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n"
            "\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n"
            "\t<generator>https://wordpress.org/?v=6.7.1</generator>\n"
            + "".join(self._rss_item(post) for post in page)
            + "\t</channel>\n</rss>\n"
        ).encode()
        return Reply(200, body, headers)

    def _rss_item(self, post: dict[str, Any]) -> str:
        link = post.get("link", f"{FORUM}/{post['published']:%Y/%m/%d}/{post['slug']}/")
        guid = self.guid(post)
        pub_date = post.get("date_text", email.utils.format_datetime(post["published"].astimezone(NEW_YORK_WINTER)))
        excerpt = post["html"].split("</p>")[0].removeprefix("<p>")[:55]
        parts = [f"\t\t<title>{escape(post['title'])}</title>\n"]
        if link is not None:
            parts.append(f"\t\t<link>{escape(link)}</link>\n\t\t<comments>{escape(link)}#respond</comments>\n")
        if post.get("author"):
            parts.append(f"\t\t<dc:creator><![CDATA[{post['author']}]]></dc:creator>\n")
        if pub_date:
            parts.append(f"\t\t<pubDate>{escape(pub_date)}</pubDate>\n")
        parts.append("\t\t<category><![CDATA[Batteries]]></category>\n")
        if guid is not None:
            parts.append(f'\t\t<guid isPermaLink="false">{escape(guid)}</guid>\n')
        parts.append(f"\n\t\t<description><![CDATA[{excerpt} [&#8230;]]]></description>\n")
        parts.append(f"\t\t<content:encoded><![CDATA[{post['html']}]]></content:encoded>\n")
        if link is not None:
            parts.append(f"\t\t<wfw:commentRss>{escape(link)}feed/</wfw:commentRss>\n")
        parts.append(f"\t\t<slash:comments>{post['comments']}</slash:comments>\n")
        return "\t\t<item>\n" + "".join(parts) + "\t\t</item>\n"

    @staticmethod
    def _wordpress_not_modified(request: Request, etag: str, changed: datetime) -> bool:
        client_etag = request.headers.get("if-none-match", "")
        client_since = request.headers.get("if-modified-since", "").strip()
        try:
            since = email.utils.parsedate_to_datetime(client_since).timestamp() if client_since else 0.0
        except (TypeError, ValueError):
            since = 0.0
        fresh_date = since >= int(changed.timestamp())
        if client_etag and client_since:
            return fresh_date and client_etag == etag
        return fresh_date or client_etag == etag

    # Faults.

    def fault_reply(self, fault: str, request: Request) -> Reply:
        if fault == "rate_limit":
            return _nginx(429, "Too Many Requests", {"Retry-After": str(self.retry_after_seconds)})
        if fault == "server_error":
            return _nginx(503, "Service Temporarily Unavailable", {"Retry-After": "120"})
        if fault == "unauthorized":
            return _nginx(401, "Authorization Required", {"WWW-Authenticate": 'Basic realm="Members only"'})
        return super().fault_reply(fault, request)


class FakeRss2Feeds(FakeFeeds):
    """The same publisher, with `publish` returning the WordPress RSS 2.0 feed's ids."""

    flavour = "rss"
