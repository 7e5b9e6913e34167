"""A small, fully known story for end-to-end tests: one detractor post that
spreads, one customer who keeps complaining, and ordinary chatter."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reputation.models import Author, Kind, Mention
from tests.factories import mention

ROOT_ID = "1900000000000000001"
REPLIES = 14


def story(now: datetime | None = None) -> list[Mention]:
    start = (now or datetime.now(UTC)) - timedelta(hours=6)

    def at(minutes: int) -> dict[str, datetime]:
        return {"created_at": start + timedelta(minutes=minutes)}

    maya = Author(id="42", handle="maya_builds", followers=3800)
    root = mention(
        ROOT_ID,
        "@Voltmart my Voltbook Pro battery swelled, you refused my refund and support hung up on me. "
        "Never shopping at Voltmart again. Terrible.",
        author=maya,
        **at(0),
    )
    replies = [
        mention(
            f"19000000000000001{i:02d}",
            [
                "Same thing happened to me, Voltmart ignored me for weeks. Awful.",
                "This is terrible, Voltmart should be ashamed",
                "@Voltmart this is unacceptable, refund her now",
            ][i % 3],
            kind=Kind.REPLY,
            parent_id=ROOT_ID,
            root_id=ROOT_ID,
            author=Author(id=f"r{i}", handle=f"replier{i}", followers=500 + i * 3000),
            **at(5 + i * 7),
        )
        for i in range(REPLIES)
    ]
    dan = [
        mention(
            f"dan{i}",
            text,
            platform=platform,
            author=Author(id=f"dan-{platform}", handle="dan_okafor"),
            url=f"https://example.com/{platform}/{i}",
            **at(20 + 60 * i),
        )
        for i, (platform, text) in enumerate(
            [
                ("reddit", "Still waiting for my Voltmart refund, three weeks now. Awful service."),
                ("x", "@Voltmart where is my refund?? This is ridiculous, worst company ever"),
                ("x", "Third time asking @Voltmart. No refund, no answer. Disgusting."),
            ]
        )
    ]
    chatter = [
        mention("c1", "Picked up a monitor at Voltmart today, quick and easy. Love it!", **at(30)),
        mention("c2", "Does Volt Mart price match online offers?", **at(40)),
        mention("c3", "Going to the concert tonight", **at(50)),  # mentions no brand: dropped
    ]
    return [root, *replies, *dan, *chatter]


def write_story(path: Path, now: datetime | None = None, bad_line: bool = True) -> Path:
    lines = [json.dumps(m.to_json_dict()) for m in story(now)]
    if bad_line:
        lines.insert(3, '{"platform": "x", "native_id": ')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
