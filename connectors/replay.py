"""Replay: mentions from a JSON-lines file, one `Mention` object per line.

The embedded default source: the demo replays the bundled sample, and a team
can replay an export from another tool. The cursor is the byte offset after
the last line stored, so a file that grows is followed like a log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError

from reputation.connector import InputError, SourceSettings
from reputation.models import FetchedBatch, Mention

BATCH_SIZE = 500
MAX_LINE_BYTES = 2_000_000


def bundled_sample(name: str) -> Path:
    path = Path(str(resources.files("reputation.sample") / f"{name}.jsonl"))
    if not path.exists():
        raise InputError(f"no bundled sample named {name!r}")
    return path


def _complete(line: bytes) -> bool:
    """A last line without a newline counts once it holds a whole JSON value."""
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "record"
    return f"{where}: {first['msg']}"


def _shifted(raw: dict[str, Any], shift: timedelta) -> dict[str, Any]:
    """The company's reply to a review moves with the review, so its delay is kept."""
    reply = raw.get("owner_reply")
    if not isinstance(reply, dict) or not isinstance(reply.get("replied_at"), str):
        return raw
    try:
        replied_at = datetime.fromisoformat(reply["replied_at"].replace("Z", "+00:00"))
    except ValueError:
        return raw
    if replied_at.tzinfo is None:
        return raw
    moved = (replied_at + shift).astimezone(UTC).isoformat()
    return {**raw, "owner_reply": {**reply, "replied_at": moved}}


class ReplayConnector:
    platform: ClassVar[str] = "replay"
    credentials: ClassVar[tuple[str, ...]] = ()
    # Read relative to the configuration file by the pipeline (the query is the file too).
    path_options: ClassVar[tuple[str, ...]] = ("path", "query")

    def __init__(self, settings: SourceSettings) -> None:
        options = settings.options
        if "sample" in options:
            self.path = bundled_sample(str(options["sample"]))
        elif options.get("path") or settings.query:
            self.path = Path(str(options.get("path") or settings.query))
        else:
            raise InputError(f"source {settings.name!r}: a replay source needs options.path (or options.sample)")
        self.shift_to_now = bool(options.get("shift_to_now", False))
        self.limit = settings.limit
        self.batch_size = int(options.get("batch_size", BATCH_SIZE))

    def fetch(self, query: str, state: dict[str, Any] | None) -> Iterator[FetchedBatch]:
        if not self.path.is_file():
            raise InputError(f"replay file {self.path} does not exist")
        offset = int((state or {}).get("offset", 0))
        line_number = int((state or {}).get("line", 0))
        # The last line was read whole before its newline was written: that newline ends it, it is no line.
        open_line = bool((state or {}).get("open"))
        if offset > self.path.stat().st_size:
            offset, line_number, open_line = 0, 0, False  # the file was replaced by a shorter one: read it anew
        start = offset
        shift = self._shift() if self.shift_to_now else timedelta(0)
        yielded = 0
        batch: list[Mention] = []
        problems: list[str] = []
        with self.path.open("rb") as handle:
            handle.seek(offset)
            # `offset` only ever moves past whole lines: a fragment still being
            # written is read again, whole, by the next run.
            while self.limit is None or yielded + len(batch) < self.limit:
                line = handle.readline(MAX_LINE_BYTES)
                if not line:
                    break
                oversized = len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n")
                if not line.endswith(b"\n") and not oversized and not _complete(line):
                    break  # a line still being written; the next run reads it whole
                if oversized and not handle.readline().endswith(b"\n"):
                    break  # its end is not written yet: skipped (and said so) once it is
                offset = handle.tell()
                if open_line and line == b"\n":
                    open_line = False
                    continue
                open_line = not line.endswith(b"\n") and not oversized
                line_number += 1
                if oversized:
                    problems.append(f"{self.path}:{line_number}: line longer than {MAX_LINE_BYTES} bytes")
                    continue
                mention = self._parse(line, line_number, shift, problems)
                if mention is not None:
                    batch.append(mention)
                if len(batch) >= self.batch_size:
                    yielded += len(batch)
                    yield FetchedBatch(
                        mentions=batch, state=self._state(offset, line_number, open_line), problems=problems
                    )
                    batch, problems, start = [], [], offset
            # Blank lines alone still move the cursor past them.
            if batch or problems or offset != start:
                yield FetchedBatch(mentions=batch, state=self._state(offset, line_number, open_line), problems=problems)

    def _state(self, offset: int, line_number: int, open_line: bool = False) -> dict[str, Any]:
        return (
            {"offset": offset, "line": line_number, "open": open_line}
            if open_line
            else {"offset": offset, "line": line_number}
        )

    def _parse(self, line: bytes, line_number: int, shift: timedelta, problems: list[str]) -> Mention | None:
        where = f"{self.path}:{line_number}"
        if not line.strip():
            return None
        try:
            data = json.loads(line.decode("utf-8", errors="replace"))
        except json.JSONDecodeError as error:
            problems.append(f"{where}: not valid JSON ({error.msg})")
            return None
        except RecursionError:
            problems.append(f"{where}: JSON nested too deeply to read")
            return None
        if not isinstance(data, dict):
            problems.append(f"{where}: expected a JSON object, got {type(data).__name__}")
            return None
        try:
            mention = Mention.model_validate(data)
        except ValidationError as error:
            problems.append(f"{where}: {_describe(error)}")
            return None
        if shift:
            mention = mention.model_copy(
                update={"created_at": mention.created_at + shift, "raw": _shifted(mention.raw, shift)}
            )
        return mention

    def _shift(self) -> timedelta:
        """How far to move every timestamp so that the newest is now."""
        newest: datetime | None = None
        with self.path.open("rb") as handle:
            for line in handle:
                try:
                    created = datetime.fromisoformat(json.loads(line)["created_at"])
                except (ValueError, KeyError, TypeError, RecursionError):
                    continue
                if created.tzinfo is not None and (newest is None or created > newest):
                    newest = created
        return (datetime.now(UTC) - newest) if newest else timedelta(0)
