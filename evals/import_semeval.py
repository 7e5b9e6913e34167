"""Build evals/data/semeval_twitter_2013_2016_A.tsv.gz from a checkout of the SemEval Twitter data.

`python -m evals.import_semeval REPO` where REPO is a git clone of
rsd16/SemEval2017-Task-4-Subtask-A-Classification-Sentiment-Analysis at commit
68bb1f6d869805bdc15fa5ee4dcc8fdbda3fb205, which holds the SemEval-2016 Task 4 subtask A
English distribution (Rosenthal, Farra, Nakov et al.) under Subtask_A/. These are the
tweets TweetEval's sentiment *train* split was made from (Barbieri et al., 2020).

Read: the 2013-2016 train, dev, devtest and test files listed in FILES. Never read:
Subtask_A/SemEval2017-task4-test.subtask-A.english.txt, the SemEval-2017 test set, which is
TweetEval's test split and is held back for independent checks. Tweets whose text is also
in TweetEval's validation split (../shared/data/sentiment) are left out, so that split
stays a fair test; repeated texts are kept once (first file in FILES order wins).

Terms: released by the SemEval organisers for research; Twitter's terms of service apply
to the tweets (the same terms as the TweetEval copy in ../shared/data).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import html
import re
import subprocess
from pathlib import Path

COMMIT = "68bb1f6d869805bdc15fa5ee4dcc8fdbda3fb205"
FILES = (
    "twitter-2013train-A",
    "twitter-2013dev-A",
    "twitter-2013test-A",
    "twitter-2014test-A",
    "twitter-2014sarcasm-A",
    "twitter-2015train-A",
    "twitter-2015test-A",
    "twitter-2016train-A",
    "twitter-2016dev-A",
    "twitter-2016devtest-A",
    "twitter-2016test-A",
)
OUTPUT = Path(__file__).with_name("data") / "semeval_twitter_2013_2016_A.tsv.gz"
VALIDATION = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sentiment" / "tweeteval_sentiment_val.tsv"
)


def _key(text: str) -> str:
    # TweetEval wrote every handle as "@user", dropped quotes around a tweet and some escapes.
    text = re.sub(r"@\w+", "@user", html.unescape(text).lower())
    text = re.sub(r"https?://\S+", "", text)
    return " ".join(re.sub(r"[^\w@ ]+", " ", text).split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    args = parser.parse_args()
    with VALIDATION.open(encoding="utf-8", newline="") as handle:
        held = {_key(row["text"]) for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}
    seen: set[str] = set()
    rows: list[tuple[str, str, str, str]] = []
    dropped = 0
    for name in FILES:
        data = subprocess.run(
            ["git", "-C", str(args.repo), "show", f"{COMMIT}:Subtask_A/{name}.txt"],
            check=True,
            capture_output=True,
        ).stdout.decode("utf-8", "replace")
        for line in data.splitlines():
            parts = line.split("\t")
            if len(parts) < 3 or parts[1] not in ("negative", "neutral", "positive"):
                continue
            text = "\t".join(parts[2:]).strip()
            key = _key(text)
            if key in held:
                dropped += 1
                continue
            if not key or key in seen:
                continue
            seen.add(key)
            rows.append((parts[0], name, parts[1], text.replace("\t", " ")))
    OUTPUT.parent.mkdir(exist_ok=True)
    # mtime 0: the same input gives the same bytes.
    with OUTPUT.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(b"id\tfile\tlabel\ttext\n")
        for row in rows:
            gz.write(("\t".join(row) + "\n").encode())
    print(f"{OUTPUT}: {len(rows)} tweets; {dropped} left out as TweetEval validation texts")


if __name__ == "__main__":
    main()
