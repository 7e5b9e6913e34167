"""A value the store refuses never sticks a source: its page is stored around it (property-based)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from reputation.config import Config
from reputation.models import Author, Mention, Metrics
from reputation.pipeline import collect
from reputation.store import Store
from reputation.store.mentions import load_state
from reputation.store.quarantine import save_page
from reputation.store.schema import authors, mentions, quarantine
from tests.conftest import make_config
from tests.factories import BASE_TIME, mention

HOSTILE_CHARS = st.characters(codec="utf-8", exclude_categories=()) | st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\u202e", "\u2066", "\u200f", "\x1b"]
)
hostile_text = st.text(alphabet=HOSTILE_CHARS, max_size=60)
hostile_int = st.one_of(
    st.integers(-(2**70), 2**70), st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1])
)
json_values = st.recursive(
    st.none() | st.booleans() | hostile_int | hostile_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile_text, children, max_size=3),
    max_leaves=12,
)
counter = itertools.count()


@st.composite
def hostile_lines(draw: st.DrawFn) -> dict[str, Any]:
    """A JSON line where every field the outside gives may be hostile (too long, too large, not text)."""
    n = next(counter)
    return {
        "platform": draw(st.sampled_from(["x", "reddit", "p" * 41, "Bad Platform"])),
        "native_id": f"h{n}-" + draw(hostile_text | st.just("i" * 600)),
        "kind": draw(st.sampled_from(["post", "reply", "review", "nonsense"])),
        "url": draw(hostile_text),
        "text": "Voltmart " + draw(hostile_text),
        "created_at": "2026-01-08T12:00:00Z",
        "author": {
            "id": draw(hostile_text | st.just("a" * 600)),
            "handle": draw(hostile_text | st.just("h" * 301)),
            "followers": draw(st.none() | hostile_int),
        },
        "metrics": {"score": draw(st.none() | hostile_int), "likes": draw(st.none() | hostile_int)},
        "language": draw(st.none() | hostile_text | st.just("l" * 17)),
        "parent_id": draw(st.none() | hostile_text),
        "raw": {"payload": draw(json_values)},
    }


def _line(data: dict[str, Any]) -> str:
    # json.dumps escapes lone surrogates as \\udXXX, as a broken upstream would send them.
    return json.dumps(data) + "\n"


def _config(path: Path) -> Config:
    return make_config(sources=[{"name": "poison", "type": "replay", "options": {"path": str(path)}}])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=st.lists(hostile_lines(), min_size=1, max_size=4), seed=st.integers(0, 10**6))
def test_good_lines_around_hostile_ones_are_stored_and_the_source_moves_on(
    store: Store, tmp_path: Path, bad: list[dict[str, Any]], seed: int
) -> None:
    path = tmp_path / f"poison-{seed}-{next(counter)}.jsonl"
    good = [mention(f"good-{seed}-{next(counter)}-{i}", "Voltmart refund please") for i in range(3)]
    lines = [json.dumps(good[0].to_json_dict()) + "\n"]
    for item in bad:
        lines += [_line(item), json.dumps(good[1].to_json_dict()) + "\n"]
    lines.append(json.dumps(good[2].to_json_dict()) + "\n")
    path.write_text("".join(lines), encoding="utf-8", errors="surrogatepass")
    config = _config(path)
    with store.transaction() as connection:  # each example reads its own file from the start
        connection.exec_driver_sql("DELETE FROM connector_state")

    result = collect(store, config, config.sources[0])

    assert result.run.error is None
    with store.engine.connect() as connection:
        stored = set(connection.scalars(select(mentions.c.key).where(mentions.c.key.in_([m.key for m in good]))))
        quarantined = connection.scalar(select(func.count()).select_from(quarantine)) or 0
    assert stored == {m.key for m in good}
    # Every hostile line is stored (cleaned), reported as skipped, or quarantined: none vanishes unseen.
    for index, item in enumerate(bad):
        line_number = 2 + 2 * index
        prefix = item["native_id"].split("-", 1)[0] + "-"
        with store.engine.connect() as connection:
            kept = connection.execute(
                select(mentions.c.key, authors.c.handle)
                .join(authors, authors.c.key == mentions.c.author_key)
                .where(mentions.c.native_id.startswith(prefix))
            ).all()
        reported = [p for p in result.problems if f"{path}:{line_number}:" in p]
        set_aside = [q for q in result.quarantined if q.split(":", 1)[1].startswith(prefix)]
        assert len(kept) + len(reported) + len(set_aside) == 1, (item, result.problems, result.quarantined)
        for row in kept:  # what reaches a Slack title or a terminal carries no controls or bidi overrides
            assert not set(row.handle) & {"\x00", "\u202e", "\u2066", "\u200f", "\x1b"}
    assert quarantined >= len(result.quarantined)
    state = load_state(store, "poison")
    assert state is not None and state["offset"] == path.stat().st_size  # the cursor passed every line

    again = collect(store, config, config.sources[0])
    assert again.run.error is None and again.run.fetched == 0


def test_a_row_the_database_refuses_is_quarantined_and_its_page_stored(store: Store) -> None:
    # Past the model's own checks (model_construct), as a connector bug or a schema change could let through.
    refused = Mention.model_construct(
        **{
            **mention("big").model_dump(),
            "author": Author.model_construct(id="big-author", handle="x", followers=2**63),
            "metrics": Metrics(),
        }
    )
    page = [mention("before"), refused, mention("after")]
    saved = save_page(store, "poison", page, {"offset": 42}, BASE_TIME)
    assert saved.stored == 2 and len(saved.quarantined) == 1 and saved.quarantined[0].startswith("x:big: ")
    with store.engine.connect() as connection:
        keys = set(connection.scalars(select(mentions.c.key)))
        kept = connection.execute(select(quarantine)).one()
        authors_kept = set(connection.scalars(select(authors.c.key)))
    assert keys == {"x:before", "x:after"}
    assert "x:big-author" not in authors_kept  # the refused row's author went with it (savepoint)
    assert kept.source == "poison" and kept.mention_key == "x:big" and kept.error
    assert json.loads(kept.record)["author"]["followers"] == 2**63  # kept whole, for a replay once fixed
    assert load_state(store, "poison") == {"offset": 42}
