"""Whatever the internet sends is stored as data and alerted on safely (property-based)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from connectors.replay import ReplayConnector
from reputation.connector import SourceSettings
from reputation.models import clean_json
from reputation.store import Store
from reputation.store.schema import mentions
from tests.conftest import make_config
from tests.factories import mention

# Nested JSON as deep as a hostile payload might make it.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=()), max_size=400),
    raw=json_values,
)
def test_any_text_and_payload_round_trip_through_the_store(tmp_path_factory: object, text: str, raw: object) -> None:
    from pytest import TempPathFactory

    assert isinstance(tmp_path_factory, TempPathFactory)
    folder = tmp_path_factory.mktemp("hostile")
    store = Store.open(f"sqlite:///{folder / 'r.db'}")
    path = folder / "m.jsonl"
    item = mention("1", "Voltmart " + text, raw={"payload": raw})
    path.write_text(json.dumps(item.to_json_dict()) + "\n", encoding="utf-8")
    from reputation.pipeline import collect

    config = make_config(sources=[{"name": "h", "type": "replay", "options": {"path": str(path)}}])
    result = collect(store, config, config.sources[0])
    assert result.run.error is None and result.run.stored == 1
    with store.engine.connect() as connection:
        stored = connection.execute(select(mentions.c.text, mentions.c.raw)).one()
    # Cleaned like text (NUL and lone surrogates replaced), so PostgreSQL takes it too.
    assert stored.text == item.text and stored.raw == {"payload": clean_json(raw)}
    store.close()


def test_lone_surrogates_nul_and_a_megabyte_post_are_kept_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    lines = [
        '{"platform": "x", "native_id": "s", "kind": "post", "text": "Voltmart \\ud800 bad\\u0000 half", '
        '"created_at": "2026-01-08T12:00:00Z", "author": {"id": "a"}}',
        json.dumps(mention("big", "Voltmart " + "refund! " * 131072).to_json_dict()),
        '{"platform": "x", "native_id": "deep", "kind": "post", "text": "Voltmart", '
        '"created_at": "2026-01-08T12:00:00Z", "author": {"id": "a"}, "raw": ' + "[" * 5000 + "]" * 5000 + "}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batches = list(ReplayConnector(SourceSettings(name="h", options={"path": str(path)})).fetch("", None))
    kept = {m.native_id: m for b in batches for m in b.mentions}
    problems = [p for b in batches for p in b.problems]
    assert kept["s"].text == "Voltmart ? bad\ufffd half"  # replaced, so PostgreSQL and UTF-8 files take it
    assert len(kept["big"].text) > 1_000_000
    assert "deep" not in kept and len(problems) == 1 and "m.jsonl:3" in problems[0]
