import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.replay import ReplayConnector
from reputation.connector import SourceSettings
from reputation.errors import InputError
from tests.factories import mention


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def replay(path: Path, **options: object) -> ReplayConnector:
    return ReplayConnector(SourceSettings(name="file", options={"path": str(path), **options}))


def test_bad_lines_are_reported_and_the_rest_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    good = [json.dumps(mention(str(i)).to_json_dict()) for i in range(3)]
    write_lines(path, [good[0], "{not json", "[1, 2]", json.dumps({"platform": "x"}), "", good[1], good[2]])
    batches = list(replay(path).fetch("", None))
    assert [m.native_id for b in batches for m in b.mentions] == ["0", "1", "2"]
    problems = [p for b in batches for p in b.problems]
    assert problems[0].endswith("m.jsonl:2: not valid JSON (Expecting property name enclosed in double quotes)")
    assert problems[1].endswith("m.jsonl:3: expected a JSON object, got list")
    assert "m.jsonl:4: native_id: Field required" in problems[2]
    assert len(problems) == 3


def test_cursor_resumes_after_the_last_line_and_follows_appends(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    write_lines(path, [json.dumps(mention(str(i)).to_json_dict()) for i in range(5)])
    connector = replay(path, batch_size=2)
    batches = list(connector.fetch("", None))
    assert [len(b.mentions) for b in batches] == [2, 2, 1]
    state = json.loads(json.dumps(batches[-1].state))  # must survive JSON
    assert list(connector.fetch("", state)) == []
    with path.open("a") as handle:
        handle.write(json.dumps(mention("new").to_json_dict()) + "\n")
    assert [m.native_id for b in connector.fetch("", state) for m in b.mentions] == ["new"]
    # A cursor from a longer, replaced file starts over instead of failing.
    assert sum(len(b.mentions) for b in connector.fetch("", {"offset": 10**9, "line": 99})) == 6


def test_partial_last_line_waits_for_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(mention("1").to_json_dict()) + "\n" + '{"platform": "x", "nat')
    batches = list(replay(path).fetch("", None))
    assert [m.native_id for b in batches for m in b.mentions] == ["1"]
    assert all(not b.problems for b in batches)


def test_shift_to_now_moves_the_newest_mention_to_now(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    write_lines(path, [json.dumps(mention(str(i), minutes=m).to_json_dict()) for i, m in ((1, 0), (2, 90))])
    found = [m for b in replay(path, shift_to_now=True).fetch("", None) for m in b.mentions]
    assert abs(found[1].created_at - datetime.now(UTC)) < timedelta(seconds=5)
    assert found[1].created_at - found[0].created_at == timedelta(minutes=90)


def test_shift_to_now_moves_a_company_reply_with_its_review(tmp_path: Path) -> None:
    review = mention("r", minutes=0, raw={"owner_reply": {"text": "Sorry!", "replied_at": "2026-01-08T14:30:00Z"}})
    path = tmp_path / "m.jsonl"
    write_lines(path, [json.dumps(review.to_json_dict())])  # created 2026-01-08T12:00:00Z
    (found,) = [m for b in replay(path, shift_to_now=True).fetch("", None) for m in b.mentions]
    replied_at = datetime.fromisoformat(found.raw["owner_reply"]["replied_at"].replace("Z", "+00:00"))
    assert replied_at - found.created_at == timedelta(hours=2, minutes=30)


def test_limit_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    write_lines(path, [json.dumps(mention(str(i)).to_json_dict()) for i in range(5)])
    limited = ReplayConnector(SourceSettings(name="f", options={"path": str(path)}, limit=3))
    assert sum(len(b.mentions) for b in limited.fetch("", None)) == 3
    with pytest.raises(InputError, match="does not exist"):
        list(replay(tmp_path / "nope.jsonl").fetch("", None))
    with pytest.raises(InputError, match=r"needs options\.path"):
        ReplayConnector(SourceSettings(name="f"))
