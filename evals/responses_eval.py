"""How well `reputation responses` reads threads: first answers, unanswered ones, canned replies, asking again.

Run ``python -m evals.responses_eval`` (a temporary SQLite store; about a minute).

The scenario (`evals.responses_scenario`) was written on this project, by the
same hand as the detector; it is replayed through the real pipeline (replay
connector, brand rules, enrichment) and then read by `customer_threads`, as
the command does. Two seeds are scored: 19 was the one looked at while the
detector was written, 20 was not looked at.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from evals.responses_scenario import BRAND, HANDLE, START, Truth, scenario
from reputation.config import parse_config
from reputation.enrichment import Enricher
from reputation.pipeline import collect, utcnow
from reputation.replies.owned import OwnedAccounts
from reputation.replies.threads import Thread, customer_threads
from reputation.store import Store


def replay(lines: list[dict[str, Any]], workdir: Path) -> list[Thread]:
    path = workdir / "threads.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    config = parse_config(
        {
            "brands": [{"name": BRAND, "owned_accounts": [f"x:{HANDLE}"]}],
            "sources": [{"name": "threads", "type": "replay", "options": {"path": str(path)}}],
            "issues": {"embedder": "hashing"},
        },
        "eval",
    )
    store = Store.open(f"sqlite:///{workdir / 'eval.db'}")
    collect(store, config, config.sources[0], env={})
    Enricher(config, predict=None).run(store, utcnow())
    with store.engine.connect() as connection:
        threads = customer_threads(connection, OwnedAccounts.from_config(config), START - timedelta(days=1))
    store.close()
    return threads


def _pr(found: set[str], truth: set[str]) -> str:
    hit = len(found & truth)
    precision = hit / len(found) if found else 1.0
    recall = hit / len(truth) if truth else 1.0
    return f"precision {precision:.3f} ({hit}/{len(found)}), recall {recall:.3f} ({hit}/{len(truth)})"


def score(threads: list[Thread], truths: dict[str, Truth]) -> dict[str, str]:
    got = {thread.key: thread for thread in threads}
    missing = sorted(set(truths) - set(got))
    extra = sorted(set(got) - set(truths))
    answered = [t for t in truths.values() if t.answered and t.thread in got]
    within = [
        t
        for t in answered
        if got[t.thread].first_response_seconds is not None
        and abs((got[t.thread].first_response_seconds or 0) - (t.first_response_seconds or 0)) <= 60
    ]
    responder = 0
    for truth in truths.values():
        answer = got[truth.thread].answer if truth.thread in got else None
        responder += (answer.responder if answer else None) == truth.responder
    return {
        "threads": f"{len(truths)} in the scenario, {len(got)} found, {len(missing)} missed, {len(extra)} extra",
        "first response within 60 s": f"{len(within)}/{len(answered)}",
        "responder right": f"{responder}/{len(truths)}",
        "unanswered": _pr(
            {k for k, t in got.items() if t.answer is None}, {t.thread for t in truths.values() if not t.answered}
        ),
        "canned": _pr({k for k, t in got.items() if t.canned}, {t.thread for t in truths.values() if t.canned}),
        "outcome right (where the customer answered back)": "{}/{}".format(
            sum(
                got[t.thread].outcome == t.outcome
                for t in truths.values()
                if t.outcome != "unknown" and t.thread in got
            ),
            sum(t.outcome != "unknown" for t in truths.values()),
        ),
        "asked again": _pr(
            {k for k, t in got.items() if t.asked_again}, {t.thread for t in truths.values() if t.asked_again}
        ),
    }


def main() -> None:
    runs = [
        (19, 0, "looked at while writing"),
        (20, 0, "held out"),
        (20, 3, "held out, 1-3 words of each template reply replaced at random"),
    ]
    for seed, swaps, what in runs:
        lines, truths = scenario(seed=seed, swaps=swaps)
        with tempfile.TemporaryDirectory() as directory:
            threads = replay(lines, Path(directory))
        print(f"seed {seed} ({what}):")
        for name, value in score(threads, truths).items():
            print(f"  {name}: {value}")
        if "-v" in sys.argv:
            got = {thread.key: thread for thread in threads}
            for truth in truths.values():
                thread = got.get(truth.thread)
                if thread is None:
                    continue
                if bool(thread.asked_again) != truth.asked_again or bool(thread.canned) != truth.canned:
                    print(
                        "   ",
                        truth.thread,
                        truth,
                        thread.asked_again,
                        [a.text for a in thread.answers],
                        [p.text for p in thread.posts],
                    )


if __name__ == "__main__":
    main()
