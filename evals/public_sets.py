"""Public labelled sets that stay out of the repository, turned into files `reputation analyze` reads.

    python -m evals.public_sets tweeteval-test TEXT_FILE LABEL_FILE OUT.csv
    python -m evals.public_sets airline-sentiment Tweets.csv OUT.csv [--reasons REASONS.csv]
    python -m evals.public_sets airline-topics airlines_raw.csv.bz2 OUT.csv

- tweeteval-test: cardiffnlp/tweeteval @ 4fbd22c, datasets/sentiment/test_text.txt and test_labels.txt
  (SemEval-2017 task 4A test, 12,284 tweets; never trained on). Writes id, text, label.
- airline-sentiment: Twitter US Airline Sentiment (Figure Eight "Data for Everyone", CC BY-NC-SA 4.0;
  one copy is Tweets.csv in Anuragiitk/Twitter-US-Sentiment-Analysis @ 58786be), 14,640 customer tweets
  to six US airlines, rated negative / neutral / positive by contributors. Writes id, text, label,
  reason; `--reasons` also writes the negative tweets with one of the nine complaint reasons (not
  "Can't Tell") as text, category for `python -m evals.topics_eval --extra reasons=FILE`.
- airline-topics: asappresearch/dialog-intent-induction @ 6396f31, data/airlines_raw.csv.bz2: the 491
  airline support tweets annotators tagged (not UNK), as text, category (CC BY-NC-SA 4.0).

Nothing here is committed data; the licences above keep it out.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import re
from pathlib import Path

_TWEETEVAL_LABELS = {"0": "negative", "1": "neutral", "2": "positive"}
_SPEAKER_MARKS = re.compile(r"<cust__|__cust>|__company__")


def tweeteval_test(texts: Path, labels: Path, out: Path) -> int:
    lines = texts.read_text(encoding="utf-8").splitlines()
    codes = labels.read_text(encoding="utf-8").split()
    if len(lines) != len(codes):
        raise SystemExit(f"{texts} has {len(lines)} lines but {labels} has {len(codes)} labels")
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        pairs = enumerate(zip(lines, codes, strict=True))
        writer.writerows((i, text, _TWEETEVAL_LABELS[code]) for i, (text, code) in pairs)
    return len(codes)


def airline_sentiment(source: Path, out: Path, reasons: Path | None) -> int:
    with source.open(encoding="utf-8", errors="replace", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label", "reason"])
        writer.writerows((i, r["text"], r["airline_sentiment"], r["negativereason"]) for i, r in enumerate(rows))
    if reasons is not None:
        with reasons.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "category"])
            writer.writerows(
                (r["text"], r["negativereason"])
                for r in rows
                if r["airline_sentiment"] == "negative" and r["negativereason"] not in ("", "Can't Tell")
            )
    return len(rows)


def airline_topics(source: Path, out: Path) -> int:
    with bz2.open(source, "rt", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["tag"] != "UNK"]
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows((" ".join(_SPEAKER_MARKS.sub(" ", r["first_utterance"]).split()), r["tag"]) for r in rows)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sets = parser.add_subparsers(dest="set", required=True)
    tweeteval = sets.add_parser("tweeteval-test")
    tweeteval.add_argument("texts", type=Path)
    tweeteval.add_argument("labels", type=Path)
    tweeteval.add_argument("out", type=Path)
    airline = sets.add_parser("airline-sentiment")
    airline.add_argument("source", type=Path)
    airline.add_argument("out", type=Path)
    airline.add_argument("--reasons", type=Path)
    topics = sets.add_parser("airline-topics")
    topics.add_argument("source", type=Path)
    topics.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.set == "tweeteval-test":
        count = tweeteval_test(args.texts, args.labels, args.out)
    elif args.set == "airline-sentiment":
        count = airline_sentiment(args.source, args.out, args.reasons)
    else:
        count = airline_topics(args.source, args.out)
    print(f"{count} rows written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
