"""Topics and issues measured on labelled complaints: `python -m evals.topics_eval [--extra NAME=CSV ...]`.

Every data set goes through `reputation analyze` (`reputation.cli.analyze.analyze_file`), the path a new user
takes, and beside it two baselines on the same MiniLM vectors: k-means told twice the true number of
topics, and average linkage cut at cosine distance 0.6. For each, per level (issue, topic):

- in 3+: the share of texts in a group of 3 or more (an unsorted complaint counts as in no group);
- NMI against the gold labels (every unsorted text counted as a group of its own, so leaving texts
  out is not rewarded);
- groups: how many groups of 3 or more;
- named: the share of groups of 3+ whose label shares a content lemma with the name of the group's
  majority gold label (for the baselines, the same labeller runs on their groups); our issue label is
  "topic > issue", as `reputation analyze` writes it and alerts and the digest show it, and the row "ours,
  name alone" scores the issue's own name without its topic; named* leaves out the groups
  whose majority label has no name to match (the airline tag OTHER), which no label can name.

Data, none of it written here (see ../shared/data/SOURCES.md):
- banking77 test split (Casanueva et al., 2020, CC BY 4.0): 3,080 one-line bank queries, 77 intents;
  the intent is both the topic and the issue.
- CFPB complaints (public domain): 1,470 narratives; product = topic level, issue = issue level.
- `--extra NAME=CSV` (columns text, category; optional topic): any other labelled set read from outside
  the repo. The run reported in README.md used the 491 annotated airline customer-support tweets of
  asappresearch/dialog-intent-induction @ 6396f31 (data/airlines_raw.csv.bz2, rows whose tag is not
  UNK; Kaggle "Customer Support on Twitter", CC BY-NC-SA 4.0, so not committed here). Their tags are
  codes; `TAG_NAMES` below gives each the words a CX lead would use for it, written before any run.

`--resample N` also scores N random 70% subsets of each extra set and prints the mean and spread: one run's
named share moves 2-3 points with one group, so compare versions subset by subset, not by one run.
`--split` also scores each extra set's two halves (by the parity of the SHA-1 of the text): settings are
tuned on banking77, CFPB and the "tune" half only; the "held" half is the held-out check.
Vectors are cached per data set in ~/.cache/reputation-evals so that a second run does not embed again.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reputation.cli.analyze import analyze_file
from reputation.issues import IssueClusterer, average_linkage
from reputation.issues.phrases import add_phrases, label_issues, lemma
from reputation.text.embeddings import Embedder, Matrix, default_embedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "issues"
CACHE = Path.home() / ".cache" / "reputation-evals"
# Gold names for the airline tags (dialog-intent-induction's codes), in plain words.
TAG_NAMES = {
    "DELAY": "delay late delayed cancel cancelled",
    "BAGGAGE": "baggage bag luggage suitcase lost",
    "INFLIGHTENT": "entertainment wifi movie tv screen",
    "TERMOPS": "gate boarding crew security",
    "INFLIGHTFACS": "seat food drink plane cabin",
    "FLIGHTSTAFF": "staff crew attendant pilot",
    "BOOKFLT": "booking book ticket website",
    "CHECKIN": "check-in check checkin boarding pass",
    "CUSTSUPP": "support customer service call hold phone",
    "REWARDS": "rewards miles points status upgrade",
    "CHGFLT": "change rebook flight change",
    "TERMFACS": "airport terminal lounge",
    "NEWFEAT": "feature app",
    "OTHER": "",
}
_FUNCTION = frozenset("a an the and or to of my me i it for on in not no be do get is your you with".split())


@dataclass(frozen=True)
class Dataset:
    name: str
    texts: list[str]
    topics: list[str]
    issues: list[str]


@dataclass(frozen=True)
class Row:
    method: str
    level: str
    in3: float
    nmi: float
    groups: int
    named: float | None
    named_known: float | None  # over the groups whose majority gold label has a name (not airline "OTHER")


class CachedEmbedder:
    """The real embedder behind a disk cache keyed by text, one cache per data set.

    The int8 embedder's vectors move a little with the texts batched beside them, so a cache shared by every
    data set (and every earlier run) gave each text the vector of whichever batch first embedded it, and the
    figures depended on that history (single-topic airline tweets: NMI 0.507 from one cache, 0.487 from
    another). One cache per data set, filled by that set's own first run, holds what `reputation analyze`
    computes on that file, and a later run reads the same vectors.
    """

    def __init__(self, inner: Embedder, dataset: str) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.path = CACHE / f"{inner.name}-{dataset}.npz"
        self.known: dict[str, Matrix] = {}
        if self.path.exists():
            with np.load(self.path) as saved:
                self.known = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))

    def _key(self, text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def embed(self, texts: Sequence[str]) -> Matrix:
        missing = list(dict.fromkeys(t for t in texts if self._key(t) not in self.known))
        if missing:
            self.known.update(zip(map(self._key, missing), self.inner.embed(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.stack([self.known[self._key(t)] for t in texts]).astype(np.float32)

    def save(self) -> None:
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(self.path, keys=np.array(list(self.known)), vectors=np.stack(list(self.known.values())))


def load(extra: Sequence[str], split: bool = False) -> list[Dataset]:
    sets = []
    with (DATA / "banking77_test.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    sets.append(Dataset("banking77", [r["text"] for r in rows], *[[r["category"] for r in rows]] * 2))
    with (DATA / "cfpb_complaints.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    sets.append(Dataset("cfpb", [r["text"] for r in rows], [r["product"] for r in rows], [r["issue"] for r in rows]))
    for item in extra:
        name, _, path = item.partition("=")
        with Path(path).open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        truth = [r["category"] for r in rows]
        topics = [r.get("topic") or r["category"] for r in rows]
        sets.append(Dataset(name, [r["text"] for r in rows], topics, truth))
        if split:
            # Settings are tuned on one half and reported on the other; the half is fixed by the text alone.
            for part in ("tune", "held"):
                keep = [i for i, r in enumerate(rows) if half(r["text"]) == part]
                sets.append(
                    Dataset(
                        f"{name}-{part}",
                        [rows[i]["text"] for i in keep],
                        [topics[i] for i in keep],
                        [truth[i] for i in keep],
                    )
                )
    return sets


def half(text: str) -> str:
    """ "tune" or "held": the parity of the text's SHA-1, so the split never depends on row order."""
    return "tune" if hashlib.sha1(text.encode()).digest()[0] % 2 == 0 else "held"


def _lemmas(text: str) -> set[str]:
    words = text.lower().replace("_", " ").replace(",", " ").replace("-", " ").split()
    return {lemma(w) for w in words if w not in _FUNCTION}


def gold_name(label: str) -> set[str]:
    return _lemmas(TAG_NAMES.get(label, label))


def score(method: str, level: str, truth: Sequence[str], found: Sequence[str | None], labels: dict[str, str]) -> Row:
    from sklearn.metrics import normalized_mutual_info_score

    sizes = Counter(g for g in found if g is not None)
    # An unsorted text is a group of its own for NMI.
    filled = [g if g is not None else f"unsorted-{i}" for i, g in enumerate(found)]
    in3 = sum(1 for g in found if g is not None and sizes[g] >= 3) / len(found)
    members: defaultdict[str, list[str]] = defaultdict(list)
    for g, t in zip(found, truth, strict=True):
        if g is not None and sizes[g] >= 3:
            members[g].append(t)
    majority = {g: Counter(ts).most_common(1)[0][0] for g, ts in members.items()}
    named = [bool(_lemmas(labels.get(g, "")) & gold_name(majority[g])) for g in members]
    known = [hit for g, hit in zip(members, named, strict=True) if gold_name(majority[g])]
    return Row(
        method,
        level,
        in3,
        float(normalized_mutual_info_score(truth, filled)),
        len(members),
        sum(named) / len(named) if named else None,
        sum(known) / len(known) if known else None,
    )


def ours(data: Dataset, embedder: Embedder) -> tuple[list[Row], float]:
    with tempfile.TemporaryDirectory() as scratch:
        source, output = Path(scratch) / "in.csv", Path(scratch) / "out.jsonl"
        with source.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "text"])
            writer.writerows(enumerate(data.texts))
        started = time.perf_counter()
        analyze_file(source, output=output, embedder=embedder)
        seconds = time.perf_counter() - started
        lines = [json.loads(line) for line in output.open(encoding="utf-8")]
    rows = []
    for level, truth in (("issue", data.issues), ("topic", data.topics)):
        found = [line.get(f"{level}_id") for line in lines]
        labels = {line[f"{level}_id"]: line.get(f"{level}_label") or "" for line in lines if line.get(f"{level}_id")}
        rows.append(score("ours", level, truth, found, labels))
    # `issue_label` is "topic > issue", as every surface shows it; the issue's own name alone, for comparison with
    # the baselines' single labels, is what follows the topic.
    alone = {
        line["issue_id"]: _name_alone(line.get("issue_label") or "", line.get("topic_label"))
        for line in lines
        if line.get("issue_id")
    }
    found = [line.get("issue_id") for line in lines]
    rows.append(score("ours, name alone", "issue", data.issues, found, alone))
    return rows, seconds


def _name_alone(issue_label: str, topic_label: str | None) -> str:
    prefix = f"{topic_label} > " if topic_label else ""
    return issue_label[len(prefix) :] if prefix and issue_label.startswith(prefix) else issue_label


def baselines(data: Dataset, embedder: Embedder) -> list[Row]:
    from sklearn.cluster import KMeans

    clean = IssueClusterer([], embedder=embedder).clean
    cleaned = [clean(t) for t in data.texts]
    vectors = embedder.embed(cleaned)
    rows = []
    for level, truth in (("issue", data.issues), ("topic", data.topics)):
        k = 2 * len(set(truth))
        kmeans = KMeans(n_clusters=min(k, len(truth)), n_init=4, random_state=7).fit_predict(vectors)
        found = [f"k{c}" for c in kmeans]
        rows.append(score(f"k-means k={k}", level, truth, found, _label(found, cleaned)))
    linkage = [f"a{c}" for c in average_linkage(vectors, 0.4)]
    labels = _label(linkage, cleaned)
    for level, truth in (("issue", data.issues), ("topic", data.topics)):
        rows.append(score("avg linkage 0.6", level, truth, linkage, labels))
    return rows


def _label(found: Sequence[str], texts: Sequence[str]) -> dict[str, str]:
    groups: defaultdict[str, list[str]] = defaultdict(list)
    for g, text in zip(found, texts, strict=True):
        groups[g].append(text)
    profiles = {g: add_phrases({}, members, frozenset()) for g, members in groups.items()}
    return label_issues(profiles, {g: len(m) for g, m in groups.items()})


def resampled(data: Dataset, count: int, share: float = 0.7) -> list[list[Row]]:
    """Our rows on `count` random subsets of `share` of the texts (seeds 0..count-1).

    One run on a few hundred tweets names 30 to 70 groups, so one group moves the named share by 2 or 3 points,
    and a change can look better or worse by chance; the mean over subsets, and the paired difference seed by
    seed between two versions, say more than one run."""
    import random

    runs = []
    for seed in range(count):
        keep = sorted(random.Random(seed).sample(range(len(data.texts)), int(share * len(data.texts))))
        subset = Dataset(
            f"{data.name}-r{seed}",
            [data.texts[i] for i in keep],
            [data.topics[i] for i in keep],
            [data.issues[i] for i in keep],
        )
        embedder = CachedEmbedder(default_embedder(), data.name)  # the whole set's vectors
        rows, _ = ours(subset, embedder)
        embedder.save()
        runs.append(rows)
    return runs


def report_resampled(data: Dataset, count: int) -> None:
    runs = resampled(data, count)
    print(f"  ours on {count} random 70% subsets, mean ± sd (named per subset, seed order):")
    for index, (method, level) in enumerate((row.method, row.level) for row in runs[0]):
        rows = [run[index] for run in runs]
        in3, nmi = np.array([r.in3 for r in rows]), np.array([r.nmi for r in rows])
        named = np.array([r.named if r.named is not None else np.nan for r in rows])
        print(
            f"  {method:<16} {level:<6} in 3+ {in3.mean():.3f}  NMI {nmi.mean():.3f} ± {nmi.std():.3f}"
            f"  named {np.nanmean(named):.3f} ± {np.nanstd(named):.3f}  [{' '.join(f'{x:.2f}' for x in named)}]"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.topics_eval")
    parser.add_argument("--extra", action="append", default=[], help="NAME=CSV with columns text, category")
    parser.add_argument("--only", action="append", default=[], help="data set names to run")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--split", action="store_true", help="also score each extra set's tune and held halves")
    parser.add_argument(
        "--resample", type=int, default=0, metavar="N", help="also score N random 70%% subsets of each extra set"
    )
    args = parser.parse_args(argv)
    extras = {item.partition("=")[0] for item in args.extra}
    for data in load(args.extra, args.split):
        if args.only and data.name not in args.only:
            continue
        # A fresh embedder per set: its in-process memory of vectors must not carry one set's batches into another.
        embedder = CachedEmbedder(default_embedder(), data.name)
        found, seconds = ours(data, embedder)
        rows = found + ([] if args.no_baselines else baselines(data, embedder))
        embedder.save()
        print(f"{data.name}: {len(data.texts)} texts, {len(set(data.topics))} topics, {len(set(data.issues))} issues")
        print(f"  ours through analyze_file: {seconds:.1f}s")
        print(f"  {'method':<16} {'level':<6} {'in 3+':>6} {'NMI':>6} {'groups':>6} {'named':>6} {'named*':>6}")
        for r in rows:
            named, known = (f"{x:.2f}" if x is not None else "-" for x in (r.named, r.named_known))
            print(f"  {r.method:<16} {r.level:<6} {r.in3:>6.2f} {r.nmi:>6.3f} {r.groups:>6} {named:>6} {known:>6}")
        if args.resample and data.name in extras:
            report_resampled(data, args.resample)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
