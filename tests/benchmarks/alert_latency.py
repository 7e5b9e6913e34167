"""Alert latency: from a post becoming visible at the (fake) X API to its alert arriving in (fake) Slack.

Runs the real `reputation run --watch` in a subprocess against the local X fake
and Slack receiver, publishes detractor posts at random moments, and prints
p50 and p95. Part of `make bench`; not a test (timings depend on the machine).

    python -m tests.benchmarks.alert_latency [--posts N] [--interval SECONDS] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.fakes.slack import slack_receiver
from tests.fakes.x import FakeX

_STATUS = re.compile(r"status/(\d+)")


def post_of(message: dict[str, object]) -> str | None:
    """The X status id an alert links to."""
    found = _STATUS.search(json.dumps(message))
    return found.group(1) if found else None


def detractor_tweet(fake: FakeX) -> dict[str, object]:
    tweet_id, _ = fake.new_id()
    return {
        "id": tweet_id,
        "edit_history_tweet_ids": [tweet_id],
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "author_id": "1517171717171717171",  # 91k followers
        "conversation_id": tweet_id,
        "lang": "en",
        "text": f"@Voltmart my Voltbook caught fire and you refused a refund. Disgusting. Never again. ({tweet_id})",
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
    }


def measure(posts: int, interval: int, seed: int = 11) -> dict[str, float]:
    rng = random.Random(seed)
    with FakeX() as fake, slack_receiver() as slack, tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "reputation.yaml"
        config.write_text(
            f"database_url: sqlite:///{Path(folder) / 'r.db'}\n"
            "brands: [{name: Voltmart, aliases: ['@Voltmart']}]\n"
            f"sources: [{{name: tweets, type: x, query: voltmart, base_url: '{fake.url}'}}]\n"
            "alerts: {rules: {detractor: {min_reach: 1000}}}\n"
        )
        env = {**os.environ, **fake.env, "SLACK_WEBHOOK_URL": slack.url}
        watcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reputation",
                "run",
                "--config",
                str(config),
                "--watch",
                "--interval",
                str(interval),
                "--json",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        published: dict[str, float] = {}
        try:
            time.sleep(5)  # let the first cycle (and the models) load
            for _ in range(posts):
                time.sleep(rng.uniform(0, interval))
                tweet = detractor_tweet(fake)
                fake.post(tweet)
                published[str(tweet["id"])] = time.time()
            deadline = time.time() + 3 * interval
            while len({post_of(m) for m in slack.messages} & set(published)) < posts and time.time() < deadline:
                time.sleep(0.2)
        finally:
            watcher.terminate()
            watcher.wait(timeout=30)
        first_alert: dict[str, float] = {}  # other alerts (e.g. a repeat complainer) may cite the same post
        for message, arrived in zip(slack.messages, slack.received_at, strict=True):
            post = post_of(message)
            if post in published:
                first_alert.setdefault(post, arrived - published[post])
        latencies = list(first_alert.values())
    if not latencies:
        raise SystemExit("no alert arrived: the watcher failed (run the config by hand to see why)")
    ordered = sorted(latencies)
    return {
        "posts": posts,
        "alerts": len(latencies),
        "poll_interval_seconds": interval,
        "p50_seconds": statistics.median(ordered),
        "p95_seconds": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "max_seconds": ordered[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=12)
    parser.add_argument("--interval", type=int, default=30, help="poll interval of `reputation run --watch`")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    figures = measure(arguments.posts, arguments.interval)
    if arguments.json:
        print(json.dumps(figures))
    else:
        print(
            f"alert latency, {figures['alerts']} of {figures['posts']} posts alerted, poll every "
            f"{arguments.interval} s: p50 {figures['p50_seconds']:.1f} s, p95 {figures['p95_seconds']:.1f} s, "
            f"max {figures['max_seconds']:.1f} s (target p95 < 60 s)"
        )


if __name__ == "__main__":
    main()
