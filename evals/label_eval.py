"""Issue labels measured on banking77: `python -m evals.label_eval [CSV] [--tune-only] [--grid]`.

Labelling is measured apart from clustering: the texts are grouped by their gold intent (77 groups of
40 bank-customer queries), each group is labelled with `label_issues` over all the groups, and each
label is compared with its intent's name ("card_arrival", "lost_or_stolen_card"). Both sides are
lemmatised alike (spaCy's lookup table, negations read as "not") and stripped of function words.

- hit: the share of groups whose label shares a content lemma with the intent name ("not" alone does
  not count);
- F1: the mean token F1 between the label's lemmas and the intent name's lemmas ("not" counts here);
- distinct: how many different labels the groups got (two intents labelled alike are told apart by neither).

The intents (not the texts) are split in two halves with a fixed seed, the same split as
`evals.issues_eval`: the scoring is tuned on the first half (`--grid`, which looks at it only) and
both are reported. The rows: the rules (the fallback), spaCy with the default scoring (the default), and
spaCy with the scoring tuned on the tuning half (kept to show that it overfit; not used).
banking77: Casanueva et al., 2020, CC BY 4.0 (see shared/data/SOURCES.md).
"""

from __future__ import annotations

import csv
import itertools
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reputation.issues import phrases
from reputation.issues.phrases import DEFAULT_SCORING, SPACY_TUNED_SCORING, Scoring, add_phrases, label_issues

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "issues" / "banking77_test.csv"
SEED = 7
EXAMPLES = 15
# Left out on both sides before comparing (particles too, so that "top up" scores as "top").
_FUNCTION_WORDS = frozenset(
    """a an the and or to by of my me i it its for on in into via about after up out off down over back
    why how what when can could will would be do get is""".split()
)


@dataclass(frozen=True)
class Setup:
    name: str
    extractor: str
    scoring: Scoring


@dataclass(frozen=True)
class Figures:
    hit: float
    f1: float
    distinct: int
    groups: int


def load(path: Path) -> dict[str, list[str]]:
    """Texts by gold intent, in file order."""
    groups: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            intent = row.get("category") or row.get("label") or ""
            groups.setdefault(intent, []).append(row["text"])
    return groups


def split(intents: Sequence[str], seed: int = SEED) -> dict[str, list[str]]:
    """Intents in a tuning half and a held-out half (the split of `evals.issues_eval`)."""
    shuffled = sorted(intents)
    random.Random(seed).shuffle(shuffled)
    tune = set(shuffled[: len(shuffled) // 2])
    return {"tune": sorted(tune), "held-out": sorted(set(intents) - tune)}


def lemmas(words: Sequence[str]) -> set[str]:
    """Content lemmas of a label or an intent name, negations as "not"; the same lemmatiser for both."""
    found = set()
    for word in words:
        word = word.lower().strip("?!.,")
        if not word:
            continue
        if word in ("not", "never", "no", "cannot") or word.endswith(("n't", "n’t")):
            found.add("not")
        else:
            base = phrases.lemma(word, "spacy")
            if word not in _FUNCTION_WORDS and base not in _FUNCTION_WORDS:
                found.add(base)
    return found


def intent_lemmas(intent: str) -> set[str]:
    return lemmas(intent.replace("_", " ").split())


def score(label: str, intent: str) -> tuple[bool, float]:
    said, meant = lemmas(label.split()), intent_lemmas(intent)
    hit = bool((said & meant) - {"not"})
    common = len(said & meant)
    if not common:
        return hit, 0.0
    precision, recall = common / len(said), common / len(meant)
    return hit, 2 * precision * recall / (precision + recall)


def labels_for(groups: dict[str, list[str]], setup: Setup) -> dict[str, str]:
    profiles = {intent: add_phrases({}, texts, frozenset(), setup.extractor) for intent, texts in groups.items()}
    sizes = {intent: len(texts) for intent, texts in groups.items()}
    return label_issues(profiles, sizes, setup.extractor, setup.scoring)


def figures(labels: dict[str, str], intents: Sequence[str]) -> Figures:
    scores = [score(labels[intent], intent) for intent in intents]
    return Figures(
        hit=sum(hit for hit, _ in scores) / len(scores),
        f1=sum(f1 for _, f1 in scores) / len(scores),
        distinct=len({labels[intent] for intent in intents}),
        groups=len(intents),
    )


def speed(texts: Sequence[str], extractor: str, rounds: int = 3) -> tuple[float, float]:
    """Texts per second through `phrases_of` (the extractor already loaded): first pass, best of a few."""
    phrases.phrases_of("warm up", frozenset(), extractor)
    passes = []
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            phrases.phrases_of(text, frozenset(), extractor)
        passes.append(time.perf_counter() - started)
    return len(texts) / passes[0], len(texts) / min(passes)


def grid(groups: dict[str, list[str]], tune: Sequence[str]) -> list[str]:
    """Scoring settings for the spaCy extractor, ranked on the tuning half only by hit + F1 + distinct share."""
    profiles = {intent: add_phrases({}, texts, frozenset(), "spacy") for intent, texts in groups.items()}
    sizes = {intent: len(texts) for intent, texts in groups.items()}
    results = []
    # `distinct` (labels made unique) is left out: it wins the distinct share by construction, costs hit and F1,
    # and in the clusterer only touched issues are relabelled, so it could not keep labels unique anyway.
    for extra, negation, power in itertools.product(
        (0.0, 0.5, 1.0, 1.5, 2.0), (0.0, 0.3, 1.0), (0.5, 1.0, 1.5, 2.0, 3.0)
    ):
        scoring = replace(SPACY_TUNED_SCORING, per_extra_word=extra, negation_bonus=negation, rarity_power=power)
        found = figures(label_issues(profiles, sizes, "spacy", scoring), tune)
        results.append((found.hit + found.f1 + found.distinct / found.groups, found, scoring))
    results.sort(key=lambda item: -item[0])
    return [
        f"  extra word {s.per_extra_word:.1f} negation {s.negation_bonus:.1f} rarity power {s.rarity_power:.1f}: "
        f"hit {f.hit:.3f} F1 {f.f1:.3f} distinct {f.distinct}/{f.groups}"
        for _, f, s in results[:10]
    ]


def main(argv: Sequence[str] = ()) -> None:
    args = [a for a in argv if not a.startswith("--")]
    path = Path(args[0]) if args else DEFAULT_CSV
    groups = load(path)
    halves = split(list(groups))
    if "--tune-only" in argv or "--grid" in argv:
        del halves["held-out"]
    started = time.perf_counter()
    if phrases.extractor_in_use("spacy") != "spacy":  # loads spaCy
        sys.exit("spaCy (spacy, spacy-lookups-data) is not importable: nothing to compare")
    loaded = time.perf_counter() - started
    if "--grid" in argv:
        print("\n".join(grid(groups, halves["tune"])))
        return
    texts = [text for group in groups.values() for text in group]
    speeds = {extractor: speed(texts, extractor) for extractor in ("rules", "spacy")}  # before any cache is warm
    setups = [
        Setup("rules (fallback)", "rules", DEFAULT_SCORING),
        Setup("spaCy (default)", "spacy", DEFAULT_SCORING),
        Setup("spaCy + scoring tuned on tune half (unused)", "spacy", SPACY_TUNED_SCORING),
    ]
    found = {setup.name: labels_for(groups, setup) for setup in setups}
    print(f"banking77: {len(texts)} texts, {len(groups)} intents; halves by intent, seed {SEED}")
    width = max(len(setup.name) for setup in setups)
    print(f"{'setup':<{width}} {'half':<9} {'intents':>7} {'hit':>6} {'F1':>6} {'distinct':>8}")
    for setup in setups:
        for half, intents in halves.items():
            f = figures(found[setup.name], intents)
            print(f"{setup.name:<{width}} {half:<9} {f.groups:>7} {f.hit:>6.3f} {f.f1:>6.3f} {f.distinct:>8}")
    print(f"\nphrases_of speed on these {len(texts)} texts, texts/s (spaCy loaded once in {loaded:.2f}s):")
    for extractor, (first, best) in speeds.items():
        print(f"  {extractor:<6} first pass {first:>8.0f}, best of 3 {best:>8.0f}")
    shown = sorted(itertools.chain.from_iterable(halves.values()))[:: max(len(groups) // EXAMPLES, 1)][:EXAMPLES]
    rules, default = found[setups[0].name], found[setups[1].name]
    print(f"\n{'gold intent':<42} {'half':<9} {'rules label':<24} spaCy label (default)")
    for intent in shown:
        half = next(name for name, intents in halves.items() if intent in intents)
        print(f"{intent:<42} {half:<9} {rules[intent]:<24} {default[intent]}")


if __name__ == "__main__":
    main(sys.argv[1:])
