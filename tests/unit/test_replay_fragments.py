"""The replay cursor never passes a half-written line, however the file is appended (property-based)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.replay import ReplayConnector
from reputation.connector import SourceSettings
from tests.factories import mention


def _lines(count: int) -> list[bytes]:
    # Mixed lengths and non-ASCII text, so that cuts land inside multi-byte characters too.
    return [
        (
            json.dumps(mention(f"m{i}", "Voltmart refund " + "é€😀" * (i % 5)).to_json_dict(), ensure_ascii=False)
            + "\n"
        ).encode("utf-8")
        for i in range(count)
    ]


@settings(max_examples=150, deadline=None)
@given(
    count=st.integers(1, 12),
    cuts=st.lists(st.integers(0, 10_000), max_size=15),
    batch_size=st.integers(1, 4),
    final_newline=st.booleans(),
)
def test_every_line_is_read_once_whatever_the_write_fragments(
    tmp_path_factory: Any, count: int, cuts: list[int], batch_size: int, final_newline: bool
) -> None:
    folder = tmp_path_factory.mktemp("fragments")
    path: Path = folder / "m.jsonl"
    data = b"".join(_lines(count))
    if not final_newline:
        data = data[:-1]  # an export's last line often has no newline
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    connector = ReplayConnector(SourceSettings(name="f", options={"path": str(path), "batch_size": batch_size}))
    state: dict[str, Any] | None = None
    seen: list[str] = []
    problems: list[str] = []
    path.write_bytes(b"")
    for start, end in itertools.pairwise(points):
        with path.open("ab") as handle:  # the writer appends a fragment; a run happens in between
            handle.write(data[start:end])
        for batch in connector.fetch("", state):
            seen += [m.native_id for m in batch.mentions]
            problems += batch.problems
            state = batch.state
    assert problems == []
    assert seen == [f"m{i}" for i in range(count)]  # each line once, in order, none lost or cut
    assert state is not None and state["offset"] == len(data)


def test_a_newline_written_after_its_line_was_read_whole_moves_the_cursor_and_is_no_line(tmp_path: Path) -> None:
    # Found by the test above: the line was read at the end of the file, without its newline; the newline came
    # next, and the cursor stayed before it for good (each run read it as a blank line and saved nothing).
    path = tmp_path / "m.jsonl"
    first, second = _lines(2)
    path.write_bytes(first[:-1])
    connector = ReplayConnector(SourceSettings(name="f", options={"path": str(path)}))
    [batch] = connector.fetch("", None)
    assert [m.native_id for m in batch.mentions] == ["m0"]
    with path.open("ab") as handle:
        handle.write(b"\n")
    [batch] = connector.fetch("", batch.state)
    assert batch.mentions == [] and batch.state == {"offset": len(first), "line": 1}
    with path.open("ab") as handle:
        handle.write(second[:-1] + b"}\n")  # not JSON: its line number must be 2, as an editor shows it
    [batch] = connector.fetch("", batch.state)
    assert batch.problems and batch.problems[0].startswith(f"{path}:2: ")
