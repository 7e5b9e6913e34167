"""`reputation analyze FILE`: sentiment, intent and issue for every text of a file.

Rows stream through in chunks: each chunk is scored, its texts clustered into
issues incrementally (`reputation.issues`), and its lines spooled to a temporary
file; only confusion counts and per-issue counts are kept, so 100,000 texts take
about the memory of one chunk. Issues can merge as later chunks arrive, so the
output is written at the end from the spool, with each line's final issue id and
label. A bad row becomes an error line and the batch goes on.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from rich.text import Text

from reputation.errors import InputError
from reputation.issues import Complaint, IssueClusterer
from reputation.issues.addressed import addressed_names, brand_words
from reputation.issues.topics import resolve as resolve_topic
from reputation.issues.topics import topic_and_issue
from reputation.text.classifier import SentimentClassifier, classifier_for
from reputation.text.embeddings import Embedder, default_embedder
from reputation.text.intent import detect_intent
from reputation.text.sentiment import SentimentAnalyzer, raw_vader
from reputation.text.sentiment_metrics import LABELS, ConfusionCounter, Metrics, normalize_label

# The report keeps this many error messages; the count covers all of them.
MAX_ERROR_MESSAGES = 20
PROGRESS_EVERY = 500  # reported as each chunk is written
# Texts clustered together; the file's later rows join the issues the first chunk found. A file of a few
# hundred posts is one chunk, where 250 cut even the airline support tweets in two. Over 14 random 70% subsets
# (`python -m evals.topics_eval --resample 14`) their NMI rose 0.457 -> 0.478 (without OTHER 0.520 -> 0.522);
# over 8 subsets CFPB's rose 0.481 -> 0.503 and banking77's fell 0.833 -> 0.825; the complaint reasons' rose
# 0.232 -> 0.254 in one run; groups of 3+ fell 1-2 points. Named shares held (0.444 -> 0.457 and 0.559 -> 0.573,
# as many subsets lower as higher; CFPB and banking77 level). At 2000, banking77's NMI fell to 0.809 for nothing
# more elsewhere. Average linkage holds a chunk's distances: for 1000 rows about 10 MB.
CHUNK_ROWS = 1000
ISSUES_SHOWN = 15
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class IssueSummary:
    id: str
    label: str
    size: int
    negative_share: float
    examples: tuple[str, ...]
    topic_id: str | None = None
    topic_label: str | None = None
    brand: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "brand": self.brand,
            "label": self.label,
            "topic_id": self.topic_id,
            "topic_label": self.topic_label,
            "size": self.size,
            "negative_share": round(self.negative_share, 3),
            "examples": list(self.examples),
        }


_JSONL = {".jsonl", ".ndjson", ".json"}
_DELIMITED = {".csv": ",", ".tsv": "\t"}


@dataclass(frozen=True)
class AnalyzeReport:
    """What one run saw: counts, capped error messages, and metrics when labelled."""

    path: Path
    rows: int
    error_count: int
    errors: tuple[str, ...]
    sentiments: dict[str, int]
    intents: dict[str, int]
    labelled: int
    metrics: Metrics | None
    vader_metrics: Metrics | None
    output: Path | None = None
    issues: tuple[IssueSummary, ...] = ()
    unsorted: int = 0  # texts in no issue yet: alone, or with fewer than granularity.MIN_GROUP alike

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "rows": self.rows,
            "error_count": self.error_count,
            "errors": list(self.errors),
            "sentiments": dict(self.sentiments),
            "intents": dict(self.intents),
            "labelled": self.labelled,
            "metrics": self.metrics.to_dict() if self.metrics else None,
            "vader_metrics": self.vader_metrics.to_dict() if self.vader_metrics else None,
            "output": str(self.output) if self.output else None,
            "issues": [issue.to_dict() for issue in self.issues],
            "unsorted": self.unsorted,
        }

    def render(self) -> Text:
        """A short plain summary for the terminal (no markup: texts may hold brackets)."""
        lines = [f"{self.rows} rows from {self.path}, {self.error_count} errors"]
        lines += [f"  {message}" for message in self.errors]
        lines.append("sentiment: " + _counts(self.sentiments, LABELS))
        lines.append("intent:    " + (_counts(self.intents, sorted(self.intents)) or "none"))
        for name, metrics in (("ours", self.metrics), ("raw VADER", self.vader_metrics)):
            if metrics is not None:
                lines.append(
                    f"{name:>9}: macro-F1 {metrics.macro_f1:.3f}  accuracy {metrics.accuracy:.3f}"
                    f"  macro-recall {metrics.macro_recall:.3f}  (n={metrics.n})"
                )
                lines.append(
                    "           recall: "
                    + "  ".join(f"{label} {metrics.recall(label):.3f}" for label in LABELS)
                    + f"  negatives read as positive {metrics.negatives_read_positive:.3f}"
                )
                lines += [
                    f"           {true:>8} -> " + "  ".join(f"{p[:3]} {c:>5}" for p, c in zip(LABELS, row, strict=True))
                    for true, row in zip(LABELS, metrics.confusion, strict=True)
                ]
        if self.issues:
            lines.append(f"issues: {len(self.issues)} (largest first); unsorted: {self.unsorted} texts")
            lines.append(f"  {'size':>6}  {'neg':>4}  topic > issue / examples")
            for issue in self.issues[:ISSUES_SHOWN]:
                name = topic_and_issue(issue.topic_label, issue.label)
                name = f"{issue.brand}: {name}" if issue.brand else name
                lines.append(f"  {issue.size:>6}  {issue.negative_share:>4.0%}  {name}  [{issue.id}]")
                lines += [f"                - {example[:100]}" for example in issue.examples[:2]]
        if self.output is not None:
            lines.append(f"written to {self.output}")
        return Text("\n".join(lines))


def _counts(counts: dict[str, int], order: Iterable[str]) -> str:
    return ", ".join(f"{name} {counts.get(name, 0)}" for name in order)


@dataclass
class _Row:
    line: int  # 1-based line in the file, for messages a person can find
    index: int  # 0-based data row, the id when the file has none
    record: dict[str, Any] | None
    problem: str = ""


@dataclass
class _Tally:
    rows: int = 0
    error_count: int = 0
    errors: list[str] = field(default_factory=list)
    sentiments: Counter[str] = field(default_factory=Counter)
    intents: Counter[str] = field(default_factory=Counter)
    ours: ConfusionCounter = field(default_factory=ConfusionCounter)
    vader: ConfusionCounter = field(default_factory=ConfusionCounter)
    issue_sizes: Counter[str] = field(default_factory=Counter)
    issue_negatives: Counter[str] = field(default_factory=Counter)

    def error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERROR_MESSAGES:
            self.errors.append(message[:200])


def analyze_file(
    path: Path,
    *,
    text_column: str = "text",
    id_column: str = "id",
    label_column: str = "label",
    brand_column: str = "brand",
    output: Path | None = None,
    progress: Callable[[int], None] | None = None,
    analyzer: SentimentAnalyzer | None = None,
    embedder: Embedder | None = None,
) -> AnalyzeReport:
    """Score every row of a JSONL, CSV or TSV file; write JSON lines to `output`.

    A `.tsv` whose first row names none of the columns is read as Hutto &
    Gilbert's ground-truth layout: id, label (mean rating), text. Rows that name a
    brand in `brand_column` have their issues found per brand, as the pipeline
    does, and that brand's name never decides or names one; in a file with no brand
    column, the handles most rows tag stand for it (`addressed_names`). `progress` is
    called with the rows finished since its previous call (every PROGRESS_EVERY
    rows, then the rest at the end), ready for a progress bar's `advance`.
    `analyzer` lets the caller bring brand overrides; `embedder` the issue embedder.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    if output is not None and output.exists() and output.resolve() == path.resolve():
        raise InputError(f"output would overwrite the input: {output}")
    analyzer = analyzer or SentimentAnalyzer()
    embedder = embedder or default_embedder()
    # One embedder for sentiment and issues: it remembers each text, so nothing is embedded twice.
    classifier = classifier_for(embedder)
    columns = (id_column, label_column, text_column)
    tally = _Tally()
    sink = _open_output(output)  # opened first: an unwritable output fails before any work
    clusterer: IssueClusterer | None = None
    chunk: list[tuple[dict[str, Any], str | None]] = []

    def flush() -> None:
        nonlocal clusterer
        texts = [(n, text, line.get("brand")) for n, (line, text) in enumerate(chunk) if text is not None]
        assigned: dict[str, str | None] = {}
        if texts:
            clusterer = clusterer or IssueClusterer([], embedder=embedder)
            named = {brand for _, _, brand in texts if brand}
            written = [text for _, text, _ in texts]
            # Without a brand column, the handles most rows tag say whose complaints these are ("@united").
            clusterer.ignore_also(brand_words(named, written) if named else addressed_names(written))
            base = tally.rows
            assigned = clusterer.assign_all(
                [
                    Complaint(str(base + n), brand, text, _EPOCH + timedelta(seconds=base + n))
                    for n, text, brand in texts
                ]
            )
        for line, _ in chunk:
            issue_id = assigned.get(str(tally.rows))
            if "error" not in line:
                line["issue_id"] = issue_id
                if issue_id is not None:
                    tally.issue_sizes[issue_id] += 1
                    tally.issue_negatives[issue_id] += line["sentiment"]["label"] == "negative"
            spool.write(json.dumps(line) + "\n")
            tally.rows += 1
            if progress is not None and tally.rows % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
        chunk.clear()

    try:
        with (
            path.open(encoding="utf-8-sig", errors="replace", newline="") as source,
            tempfile.TemporaryFile("w+", encoding="utf-8") as spool,
        ):
            for row in _read(source, path, columns):
                chunk.append(_analyze_row(row, columns, analyzer, tally, classifier, brand_column))
                if len(chunk) >= CHUNK_ROWS:
                    flush()
            flush()
            summaries = _summaries(tally, clusterer)
            if sink is not None:
                spool.seek(0)
                for text_line in spool:
                    line = json.loads(text_line)
                    if "error" not in line:
                        line.update(_issue_fields(clusterer, line["issue_id"]))
                    sink.write(json.dumps(line) + "\n")
    finally:
        if sink is not None:
            sink.close()
    if progress is not None and tally.rows % PROGRESS_EVERY:
        progress(tally.rows % PROGRESS_EVERY)
    labelled = tally.ours.n
    return AnalyzeReport(
        path=path,
        rows=tally.rows,
        error_count=tally.error_count,
        errors=tuple(tally.errors),
        sentiments=dict(tally.sentiments),
        intents=dict(tally.intents),
        labelled=labelled,
        metrics=tally.ours.metrics() if labelled else None,
        vader_metrics=tally.vader.metrics() if labelled else None,
        output=output,
        issues=summaries,
        unsorted=tally.rows - tally.error_count - sum(issue.size for issue in summaries),
    )


def _issue_fields(clusterer: IssueClusterer | None, issue_id: str | None) -> dict[str, Any]:
    """The line's issue and topic after every merge; all null for an unsorted text."""
    final = clusterer.issues[clusterer.resolve(issue_id)] if clusterer and issue_id else None
    if clusterer is None or final is None or final.unsorted:
        return {"issue_id": None, "issue_label": None, "topic_id": None, "topic_label": None, "unsorted": True}
    topic = clusterer.topics.get(resolve_topic(clusterer.topics, final.topic_id) or "")
    return {
        "issue_id": final.id,
        # As alerts, the digest and `issues list` name it ("delay > missed connection"), not the bare name.
        "issue_label": topic_and_issue(topic.label if topic else None, final.label),
        "topic_id": topic.id if topic else None,
        "topic_label": topic.label if topic else None,
        "unsorted": False,
    }


def _summaries(tally: _Tally, clusterer: IssueClusterer | None) -> tuple[IssueSummary, ...]:
    """Per final issue (merges followed): size, share negative, label and typical texts."""
    if clusterer is None:
        return ()
    sizes: Counter[str] = Counter()
    negatives: Counter[str] = Counter()
    for issue_id, size in tally.issue_sizes.items():
        final = clusterer.resolve(issue_id)
        sizes[final] += size
        negatives[final] += tally.issue_negatives[issue_id]
    return tuple(
        IssueSummary(
            id=issue_id,
            label=clusterer.issues[issue_id].label,
            size=size,
            negative_share=negatives[issue_id] / size,
            examples=tuple(clusterer.issues[issue_id].examples),
            topic_id=fields["topic_id"],
            topic_label=fields["topic_label"],
            brand=clusterer.issues[issue_id].brand,
        )
        for issue_id, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0]))
        if not (fields := _issue_fields(clusterer, issue_id))["unsorted"]
    )


def _open_output(output: Path | None) -> IO[str] | None:
    if output is None:
        return None
    try:
        return output.open("w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc


def _analyze_row(
    row: _Row,
    columns: tuple[str, str, str],
    analyzer: SentimentAnalyzer,
    tally: _Tally,
    classifier: SentimentClassifier | None = None,
    brand_column: str = "brand",
) -> tuple[dict[str, Any], str | None]:
    """The row's output line, and its text when it has one to cluster."""
    id_column, label_column, text_column = columns
    record = row.record or {}
    row_id = record.get(id_column)
    if row_id is None or isinstance(row_id, dict | list) or row_id == "":
        row_id = row.index
    text = record.get(text_column)
    problem = row.problem
    if not problem and not isinstance(text, str):
        problem = f"missing {text_column!r}" if text is None else f"{text_column!r} is not a string"
    if problem:
        message = f"line {row.line}: {problem}"
        tally.error(message)
        return {"id": row_id, "error": message}, None
    assert isinstance(text, str)
    sentiment = classifier.score_many([text], analyzer)[0] if classifier else analyzer.score(text)
    intent = detect_intent(text, sentiment)
    tally.sentiments[sentiment.label] += 1
    tally.intents.update(intent.labels)
    raw_label = record.get(label_column)
    if raw_label is not None and raw_label != "":
        try:
            truth = normalize_label(raw_label)
        except ValueError as exc:
            tally.error(f"line {row.line}: {exc}; row left out of the metrics")
        else:
            tally.ours.add(truth, sentiment.label)
            tally.vader.add(truth, raw_vader(text).label)
    line = {
        "id": row_id,
        "sentiment": {
            "label": sentiment.label,
            "compound": sentiment.compound,
            "confidence": sentiment.confidence,
        },
        "intent": intent.labels,
    }
    brand = record.get(brand_column)
    if isinstance(brand, str) and brand.strip():
        line["brand"] = " ".join(brand.split())[:100]
    return line, text


def _read(source: IO[str], path: Path, columns: tuple[str, str, str]) -> Iterator[_Row]:
    suffix = path.suffix.lower()
    if suffix in _JSONL:
        return _read_jsonl(source, columns[2])
    if suffix in _DELIMITED:
        return _read_delimited(source, suffix, columns)
    raise InputError(f"unsupported file type {suffix or '(none)'!r}: use .jsonl, .csv or .tsv")


def _read_jsonl(source: IO[str], text_column: str) -> Iterator[_Row]:
    checked = False
    index = 0
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            yield _Row(number, index, None, f"not JSON ({exc.__class__.__name__})")
        else:
            if not isinstance(record, dict):
                yield _Row(number, index, None, "not a JSON object")
            else:
                # The first object stands for the file: a text column it lacks is
                # a wrong --text-column, not one bad row.
                if not checked and text_column not in record:
                    raise InputError(
                        f"no {text_column!r} field in the file; fields: {', '.join(map(str, record)) or '(none)'}"
                    )
                checked = True
                yield _Row(number, index, record)
        index += 1


def _read_delimited(source: IO[str], suffix: str, columns: tuple[str, str, str]) -> Iterator[_Row]:
    # TSV has no quoting (IANA text/tab-separated-values); tweets start with '"'.
    if suffix == ".tsv":
        reader = csv.reader(source, delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(source, delimiter=_DELIMITED[suffix])
    first = _next_row(reader)
    if first is None:
        return iter(())
    header = [name.strip() for name in first]
    if not set(columns) & set(header) and suffix == ".tsv":
        # Headerless ground-truth layout: id, label, text.
        return _rows(reader, list(columns), pending=first)
    if columns[2] not in header:
        raise InputError(f"no {columns[2]!r} column in the file; columns: {', '.join(header) or '(none)'}")
    return _rows(reader, header, pending=None)


def _next_row(reader: Any) -> list[str] | None:
    try:
        return list(next(reader))
    except StopIteration:
        return None
    except csv.Error as exc:
        raise InputError(f"unreadable header: {exc}") from exc


def _rows(reader: Any, header: list[str], pending: list[str] | None) -> Iterator[_Row]:
    index = 0
    if pending is not None:
        yield _Row(1, index, dict(zip(header, pending, strict=False)))
        index += 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield _Row(reader.line_num, index, None, f"unreadable row ({exc})")
        else:
            if not values:
                continue
            yield _Row(reader.line_num, index, dict(zip(header, values, strict=False)))
        index += 1
