"""Splitting an issue that has drifted into two problems.

A cycle folds each group of new complaints into the issue whose mean it is
closest to. Means can drift: an issue can take in a second problem beside its
first, each new group close enough to the mean of both. So when an issue has
grown by half since it was last looked at, its most recent members are
clustered again by the same average linkage. A part that linkage keeps apart
at the issue's own threshold less a margin, and that is big enough to be an
issue, is split off; small stray groups stay with the part they are closest to.
The largest part keeps the id; members older than the sample stay with it.

The cost is bounded by the sample (`REVIEW_SAMPLE` members of at most
`MAX_REVIEWS_PER_CYCLE` issues), never by the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from reputation.issues.clustering import Complaint, Issue, IssueClusterer, issue_id_for
from reputation.issues.linkage import average_linkage
from reputation.issues.phrases import add_phrases
from reputation.text.embeddings import Matrix

# How far below the join threshold parts must be, per embedder: picked on the tuning half of banking77's
# intents (two intents forced into one issue must come apart, one intent alone must stay whole), like
# JOIN_SIMILARITY; `python -m evals.issues_eval` reports both halves. It also keeps the next cycle
# from merging a part straight back.
SPLIT_MARGIN = {"all-minilm-l6-v2": 0.2, "hashing-4096": 0.15}
MIN_PART = 5  # texts in a part that becomes an issue ...
MIN_PART_SHARE = 0.15  # ... and this share of the sample
MIN_REVIEW_SIZE = 20  # smaller issues are not checked
REVIEW_GROWTH = 1.5  # checked again once this many times the size it was last checked at
REVIEW_SAMPLE = 300  # the most recent members re-read and re-embedded
MAX_REVIEWS_PER_CYCLE = 5


@dataclass(frozen=True)
class Split:
    source: str  # keeps its id, with the largest part
    target: str  # the issue split off
    moved: tuple[str, ...]  # mention keys that now belong to the target
    similarity: float  # average-linkage similarity between what stayed and what left
    at: datetime


def due_for_review(size: int, reviewed_size: int) -> bool:
    return size >= MIN_REVIEW_SIZE and size >= reviewed_size * REVIEW_GROWTH


def split_similarity(embedder: str, join_similarity: float) -> float:
    """Parts less similar than this on average (average linkage) are different issues."""
    return join_similarity - SPLIT_MARGIN.get(embedder, 0.15)


def parts_of(vectors: Matrix, split_at: float) -> list[list[int]]:
    """Rows grouped into the parts an issue should become, largest first; one part means no split."""
    if len(vectors) < 2 * MIN_PART:
        return [list(range(len(vectors)))]
    labels = average_linkage(vectors, split_at)
    groups: dict[int, list[int]] = defaultdict(list)
    for row, label in enumerate(labels):
        groups[int(label)].append(row)
    least = max(MIN_PART, MIN_PART_SHARE * len(vectors))
    big = sorted((g for g in groups.values() if len(g) >= least), key=lambda g: (-len(g), g[0]))
    if len(big) < 2:
        return [list(range(len(vectors)))]
    means = np.stack([vectors[g].mean(axis=0) for g in big])
    for group in groups.values():
        if len(group) < least:
            closest = int(np.argmax(means @ vectors[group].mean(axis=0)))
            big[closest].extend(group)
    return [sorted(part) for part in big]


def issues_to_review(clusterer: IssueClusterer, keep_whole: Iterable[str] = ()) -> list[Issue]:
    """This cycle's grown issues, biggest first; `keep_whole` are those people merged, never split."""
    whole = {clusterer.resolve(issue_id) for issue_id in keep_whole}
    grown = [
        issue
        for issue_id in clusterer.touched
        if (issue := clusterer.issues[issue_id]).merged_into is None
        and issue.centroid is not None
        and issue.embedder == clusterer.embedder.name
        and issue.id not in whole
        and due_for_review(issue.size, issue.reviewed_size)
    ]
    return sorted(grown, key=lambda issue: (-issue.size, issue.id))[:MAX_REVIEWS_PER_CYCLE]


def review(clusterer: IssueClusterer, issue: Issue, members: Sequence[Complaint], at: datetime) -> list[Split]:
    """Check an issue's recent `members` (at most `REVIEW_SAMPLE`) and split off the parts that drifted apart."""
    issue.reviewed_size = issue.size
    clusterer.touched.add(issue.id)
    ordered = sorted(members, key=lambda member: (member.created_at, member.mention_key))[-REVIEW_SAMPLE:]
    cleaned = [clusterer.clean(member.text) for member in ordered]
    if len(ordered) < 2 * MIN_PART or issue.centroid is None:
        return []
    vectors = embed(clusterer, cleaned)
    parts = parts_of(vectors, split_similarity(clusterer.embedder.name, clusterer.join_for(issue.brand)))
    if len(parts) < 2:
        return []
    kept = parts[0]
    splits = []
    for part in parts[1:]:
        new = _split_off(clusterer, issue, [ordered[i] for i in part], [cleaned[i] for i in part], vectors[part])
        similarity = float(vectors[kept].mean(axis=0) @ vectors[part].mean(axis=0))
        moved = tuple(ordered[i].mention_key for i in part)
        splits.append(Split(issue.id, new.id, moved, similarity, at))
    issue.reviewed_size = issue.size
    clusterer.pick_examples(issue, [ordered[i].text for i in kept], vectors[kept])
    clusterer.relabel({issue.brand})
    return splits


def embed(clusterer: IssueClusterer, cleaned: list[str]) -> Matrix:
    """Vectors for the members; those of this cycle's batch were computed already."""
    missing = list(dict.fromkeys(text for text in cleaned if text not in clusterer.batch_vectors))
    known = {
        **clusterer.batch_vectors,
        **(dict(zip(missing, clusterer.embedder.embed(missing), strict=True)) if missing else {}),
    }
    return np.stack([known[text] for text in cleaned])


def _split_off(
    clusterer: IssueClusterer, source: Issue, members: list[Complaint], cleaned: list[str], vectors: Matrix
) -> Issue:
    # The id comes from the part's oldest complaint, as for any issue; if that complaint opened the
    # source (or an issue since merged into it, which this revives), the next oldest is tried.
    taken = {issue_id for issue_id, issue in clusterer.issues.items() if issue.merged_into is None}
    ids = (issue_id_for(source.brand, member.mention_key) for member in members)
    new_id = next((issue_id for issue_id in ids if issue_id not in taken), None)
    if new_id is None:
        new_id = issue_id_for(source.brand, f"split:{source.id}:{members[0].mention_key}")
    new = Issue(
        id=new_id,
        brand=source.brand,
        label="",
        terms=add_phrases({}, cleaned, clusterer.label_ignore),
        size=len(members),
        created_at=members[0].created_at,
        last_seen_at=members[-1].created_at,
        centroid=vectors.mean(axis=0).astype(np.float32),
        embedder=source.embedder,
        reviewed_size=len(members),
    )
    clusterer.issues[new.id] = new
    clusterer.touched.add(new.id)
    clusterer.pick_examples(new, [member.text for member in members], vectors)
    # What left is taken out of the source's mean and phrase counts; its older members stay.
    originals = {member.text for member in members}
    source.release(vectors.sum(axis=0), len(members), cleaned, originals, clusterer.label_ignore)
    return new
