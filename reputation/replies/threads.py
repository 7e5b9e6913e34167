"""Customer threads and the brand's answers to them.

A customer thread is one person's part of one conversation (a cascade: a post
and its replies and quotes): it opens with her first post there, when that post
starts the conversation, answers the brand, or hangs under a post that was never
collected. Replies to other customers are bystanders' and open no thread.

An owned account answers the thread when its post replies to (or quotes) one of
the customer's posts, directly or further down the reply chain, or names her
@handle in the same conversation; a company's public reply to a review
(`raw.owner_reply`, from Trustpilot and Google Play) answers that review. The
outcome compares the customer's sentiment after the first answer with before.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, select

from reputation.replies.asked_again import asked_again
from reputation.replies.canned import Reply as CannedReply
from reputation.replies.canned import Template, find_templates
from reputation.replies.owned import OwnedAccounts
from reputation.store import as_utc
from reputation.store.schema import authors, enrichments, mentions

# Mean compound of the customer's later posts against her earlier ones.
OUTCOME_DELTA = 0.3
# Canned replies are judged against the brand's answers over this much history, not just the window shown.
TEMPLATE_HISTORY = timedelta(days=30)


@dataclass(frozen=True)
class Post:
    key: str
    platform: str
    kind: str
    text: str
    created_at: datetime
    author_key: str
    handle: str
    followers: int | None
    parent_key: str | None
    conversation: str  # the cascade's root key
    brand: str | None = None
    url: str = ""
    sentiment: str | None = None
    compound: float = 0.0
    needs_help: bool = False
    issue_id: str | None = None
    owner_reply: dict[str, Any] | None = None


@dataclass(frozen=True)
class Answer:
    key: str
    responder: str  # platform:handle of the owned account, or platform:owner_reply
    text: str
    created_at: datetime | None  # None: the platform did not say when the company replied


@dataclass
class Thread:
    key: str  # the customer's first post in it
    brand: str | None
    platform: str
    conversation: str
    author: str  # handle, or the author key when there is none
    author_key: str
    followers: int | None
    posts: list[Post]
    answers: list[Answer] = field(default_factory=list)
    canned: list[Template] = field(default_factory=list)
    asked_again: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)  # answer key -> what was wrong with it
    addressed: bool = False  # she wrote to the brand: named an owned account, replied to one, or reviewed it

    @property
    def opened_at(self) -> datetime:
        return self.posts[0].created_at

    @property
    def first(self) -> Post:
        return self.posts[0]

    @property
    def answer(self) -> Answer | None:
        return self.answers[0] if self.answers else None

    @property
    def answered_at(self) -> datetime | None:
        return self.answer.created_at if self.answer else None

    @property
    def first_response_seconds(self) -> float | None:
        at = self.answered_at
        return max(0.0, (at - self.opened_at).total_seconds()) if at is not None else None

    @property
    def before_answer(self) -> list[Post]:
        at = self.answered_at
        if self.answer is None:
            return self.posts
        return [post for post in self.posts if at is None or post.created_at <= at]

    @property
    def complaint(self) -> bool:
        """A complaint: a negative post of hers before the brand answered."""
        return any(post.sentiment == "negative" for post in self.before_answer)

    @property
    def issue_id(self) -> str | None:
        return next((post.issue_id for post in self.posts if post.issue_id), None)

    @property
    def outcome(self) -> str:
        """better, worse or same: her posts after the first answer against hers before; unknown without them."""
        at = self.answered_at
        if self.answer is None or at is None:
            return "unknown"
        after = [post.compound for post in self.posts if post.created_at > at]
        before = [post.compound for post in self.posts if post.created_at <= at]
        if not after or not before:
            return "unknown"
        delta = statistics.fmean(after) - statistics.fmean(before)
        return "better" if delta >= OUTCOME_DELTA else "worse" if delta <= -OUTCOME_DELTA else "same"

    def to_json(self) -> dict[str, Any]:
        answer = self.answer
        seconds = self.first_response_seconds
        return {
            "thread": self.key,
            "author": self.author,
            "brand": self.brand,
            "opened_at": self.opened_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "first_response_seconds": round(seconds) if seconds is not None else None,
            "responder": answer.responder if answer else None,
            "canned": bool(self.canned),
            "asked_again": bool(self.asked_again),
            "outcome": self.outcome,
            "complaint": self.complaint,
            "answered": answer is not None,
            "asked_for": self.asked_again,
            "template": self.canned[0].text if self.canned else None,
            "template_uses": self.canned[0].uses if self.canned else None,
            "issue_id": self.issue_id,
            "url": self.first.url,
        }


def load_posts(
    connection: Connection,
    brand: str | None,
    since: datetime,
    until: datetime | None = None,
    only: ColumnElement[bool] | None = None,
) -> list[Post]:
    """The brand's mentions since `since` (before `until`, matching `only`) with sentiment and conversation."""
    query = (
        select(
            mentions.c.key,
            mentions.c.platform,
            mentions.c.kind,
            mentions.c.text,
            mentions.c.url,
            mentions.c.created_at,
            mentions.c.author_key,
            mentions.c.parent_key,
            mentions.c.root_key,
            mentions.c.brand,
            mentions.c.raw,
            authors.c.handle,
            authors.c.followers,
            enrichments.c.sentiment,
            enrichments.c.compound,
            enrichments.c.needs_help,
            enrichments.c.issue_id,
            enrichments.c.cascade_key,
        )
        .join(authors, authors.c.key == mentions.c.author_key)
        .outerjoin(enrichments, enrichments.c.mention_key == mentions.c.key)
        .where(mentions.c.created_at >= since, mentions.c.kind != "reshare")
        .order_by(mentions.c.created_at, mentions.c.key)
    )
    if brand is not None:
        query = query.where(mentions.c.brand == brand)
    if until is not None:
        query = query.where(mentions.c.created_at < until)
    if only is not None:
        query = query.where(only)
    posts = []
    for row in connection.execute(query):
        raw = row.raw if isinstance(row.raw, dict) else {}
        reply = raw.get("owner_reply")
        posts.append(
            Post(
                key=row.key,
                platform=row.platform,
                kind=row.kind,
                text=row.text,
                url=row.url or "",
                created_at=as_utc(row.created_at),
                author_key=row.author_key,
                handle=row.handle or "",
                followers=row.followers,
                parent_key=row.parent_key,
                conversation=row.cascade_key or row.root_key or row.key,
                brand=row.brand,
                sentiment=row.sentiment,
                compound=row.compound if row.compound is not None else 0.0,
                needs_help=bool(row.needs_help),
                issue_id=row.issue_id,
                owner_reply=reply if isinstance(reply, dict) and reply.get("text") else None,
            )
        )
    return posts


def _owner_answer(post: Post) -> Answer | None:
    reply = post.owner_reply
    if reply is None:
        return None
    when: datetime | None = None
    try:
        when = as_utc(datetime.fromisoformat(str(reply.get("replied_at")).replace("Z", "+00:00")))
    except ValueError:
        when = None
    return Answer(
        key=f"{post.key}#owner_reply",
        responder=f"{post.platform}:owner_reply",
        text=str(reply["text"]),
        created_at=when,
    )


def build_threads(posts: Sequence[Post], owned: OwnedAccounts) -> list[Thread]:
    """Customer threads from posts in time order, with the brand's answers, canned and asked-again marks."""
    by_key = {post.key: post for post in posts}
    owner = {post.key: owned.brand_of(post.platform, post.handle) for post in posts}
    owned_handles = owned.handles()
    threads: dict[tuple[str, str], Thread] = {}
    for post in posts:
        if owner[post.key] is not None:
            continue
        thread_id = (post.conversation, post.author_key)
        thread = threads.get(thread_id)
        if thread is None:
            parent = by_key.get(post.parent_key) if post.parent_key else None
            opens = parent is None or owner[parent.key] is not None or post.key == post.conversation
            if not opens:
                continue  # a bystander's reply to another customer
            thread = Thread(
                key=post.key,
                brand=post.brand,
                platform=post.platform,
                conversation=post.conversation,
                author=post.handle or post.author_key,
                author_key=post.author_key,
                followers=post.followers,
                posts=[],
            )
            threads[thread_id] = thread
        thread.posts.append(post)
        parent = by_key.get(post.parent_key) if post.parent_key else None
        thread.addressed = thread.addressed or (
            post.kind == "review"
            or (parent is not None and owner[parent.key] is not None)
            or any(_names(post.text, handle) for platform, handle in owned_handles if platform == post.platform)
        )
        review_answer = _owner_answer(post)
        if review_answer is not None:
            thread.answers.append(review_answer)
    by_conversation: dict[str, list[Thread]] = {}
    for thread in threads.values():
        by_conversation.setdefault(thread.conversation, []).append(thread)
    others: list[tuple[str | None, CannedReply]] = []  # the brand's posts that answer no thread shown
    for post in posts:
        if owner[post.key] is None:
            continue
        answered = list(_answered_by(post, by_key, owner, by_conversation.get(post.conversation, [])))
        for thread in answered:
            thread.answers.append(
                Answer(
                    key=post.key, responder=f"{post.platform}:{post.handle}", text=post.text, created_at=post.created_at
                )
            )
        if not answered:
            others.append((post.brand, CannedReply(post.key, f"conversation {post.conversation}", post.text)))
    found = list(threads.values())
    for thread in found:
        thread.answers.sort(key=lambda a: (a.created_at is None, a.created_at or thread.opened_at, a.key))
    _mark(found, others)
    return found


def _answered_by(
    post: Post, by_key: dict[str, Post], owner: dict[str, str | None], threads: list[Thread]
) -> Iterable[Thread]:
    """The customer threads an owned post answers: those of the customers up its reply chain, or named by it."""
    customers: set[str] = set()
    seen: set[str] = set()
    parent_key = post.parent_key
    while parent_key and parent_key in by_key and parent_key not in seen:
        seen.add(parent_key)
        parent = by_key[parent_key]
        if owner[parent_key] is None:
            customers.add(parent.author_key)
        parent_key = parent.parent_key
    text = post.text.lower()
    for thread in threads:
        if thread.opened_at > post.created_at:
            continue
        handle = thread.first.handle.lower()
        # "@dan" must not answer @dan_okafor.
        if thread.author_key in customers or _names(text, handle):
            yield thread


def _names(text: str, handle: str) -> bool:
    """Whether the text @-mentions this handle ("@dan" does not name @dan_okafor)."""
    return bool(handle) and re.search(rf"@{re.escape(handle)}(?![\w.])", text, re.I) is not None


def _mark(threads: list[Thread], others: list[tuple[str | None, CannedReply]]) -> None:
    """Canned answers (near-duplicates sent in other threads or conversations) and answers that ask again."""
    templates: dict[str, Template] = {}
    for brand in {thread.brand for thread in threads}:
        replies = [
            CannedReply(answer.key, thread.key, answer.text)
            for thread in threads
            if thread.brand == brand
            for answer in thread.answers
        ]
        templates.update(find_templates(replies + [reply for owner, reply in others if owner == brand]))
    for thread in threads:
        asked: set[str] = set()
        for answer in thread.answers:
            notes = []
            template = templates.get(answer.key)
            if template is not None:
                notes.append(f"is canned (sent to {template.threads} threads)")
                if template not in thread.canned:
                    thread.canned.append(template)
            earlier = [
                post.text for post in thread.posts if answer.created_at is None or post.created_at < answer.created_at
            ]
            again = asked_again(answer.text, earlier)
            if again:
                notes.append(f"asks again for {' and '.join(again)}, already given in the thread")
            asked.update(again)
            if notes:
                thread.notes[answer.key] = notes
        thread.asked_again = sorted(asked)


def customer_threads(
    connection: Connection,
    owned: OwnedAccounts,
    since: datetime,
    brand: str | None = None,
    until: datetime | None = None,
    template_history: timedelta = TEMPLATE_HISTORY,
) -> list[Thread]:
    """Threads opened since `since` (per brand or all); canned replies are judged against the brand's
    answers over `template_history` before that too."""
    # Before `since`, only the brand's own answers are needed (as templates): the cost
    # follows the window shown and the brand's replies, not the whole history.
    history = (
        load_posts(connection, brand, since - template_history, since, owned.clause())
        if template_history and owned.brands
        else []
    )
    posts = history + load_posts(connection, brand, since, until)
    return [thread for thread in build_threads(posts, owned) if thread.opened_at >= since]
