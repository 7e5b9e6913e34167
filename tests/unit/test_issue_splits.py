"""An issue that took in a second problem is split; a coherent one is left whole."""

import itertools
from datetime import UTC, datetime, timedelta

from reputation.issues import Complaint, IssueClusterer
from reputation.issues.splits import MIN_REVIEW_SIZE, issues_to_review, parts_of, review
from reputation.text.embeddings import HashingEmbedder

T0 = datetime(2026, 3, 2, tzinfo=UTC)
WHO = ["my", "our", "the", "his", "her"]
WHEN = ["three weeks ago", "last month", "in december", "two weeks ago", "on monday", "before christmas"]
REFUND = [f"returned {who} order {when}, refund still not received" for who, when in itertools.product(WHO, WHEN)]
DEVICE = ["android", "iphone", "ipad", "pixel", "tablet", "galaxy"]
FAULT = ["froze", "closes instantly", "shows a blank page", "logs me out", "spins forever"]
CRASH = [f"app crashes at login on {device}, screen {fault}" for device, fault in itertools.product(DEVICE, FAULT)]


def complaints(texts: list[str], start: int = 0) -> list[Complaint]:
    return [
        Complaint(f"x:{start + i}", "Voltmart", text, T0 + timedelta(minutes=start + i)) for i, text in enumerate(texts)
    ]


def test_two_problems_form_two_parts_and_one_problem_one() -> None:
    embedder = HashingEmbedder()
    both = embedder.embed(REFUND[:20] + CRASH[:12])
    parts = parts_of(both, split_at=0.05)
    assert [len(part) for part in parts] == [20, 12]
    assert parts[1] == list(range(20, 32))
    assert len(parts_of(embedder.embed(REFUND), split_at=0.05)) == 1


def test_a_drifted_issue_is_split_and_the_larger_part_keeps_its_id() -> None:
    members = complaints(REFUND[:20]) + complaints(CRASH[:12], start=100)
    # A threshold this loose folds both problems into one issue, as drift would over many cycles.
    loose = IssueClusterer([], ignore_words=["Voltmart"], embedder=HashingEmbedder(), join_similarity=-0.5)
    assigned = loose.assign_all(members)
    (issue_id,) = set(assigned.values())
    assert issue_id is not None
    drifted = loose.issues[issue_id]
    assert drifted.size == 32 and drifted.reviewed_size == 0

    clusterer = IssueClusterer([drifted], ignore_words=["Voltmart"], embedder=HashingEmbedder())
    clusterer.touched.add(issue_id)
    assert issues_to_review(clusterer) == [drifted]
    assert issues_to_review(clusterer, keep_whole=[issue_id]) == []  # people merged it: left whole

    (split,) = review(clusterer, drifted, members, T0 + timedelta(days=1))
    assert split.source == issue_id and split.target != issue_id
    assert set(split.moved) == {f"x:{100 + i}" for i in range(12)}
    assert split.similarity < clusterer.join
    crash = clusterer.issues[split.target]
    assert (drifted.size, crash.size) == (20, 12)
    assert drifted.reviewed_size == 20 and crash.reviewed_size == 12
    assert "refund" in drifted.label and "crash" in crash.label
    assert all(text in CRASH for text in crash.examples) and all(text in REFUND for text in drifted.examples)
    assert crash.created_at == T0 + timedelta(minutes=100)
    # The refund texts' mean no longer carries the crashes: a new crash complaint goes to the new issue.
    later = clusterer.assign_all(complaints(["app crashes at login again on my pixel, screen froze"], start=500))
    assert later["x:500"] == crash.id
    # Checked once; not again until it has grown by half.
    assert issues_to_review(clusterer) == []


def test_a_coherent_issue_is_left_whole() -> None:
    clusterer = IssueClusterer([], ignore_words=["Voltmart"], embedder=HashingEmbedder())
    members = complaints(REFUND)
    (issue_id,) = set(clusterer.assign_all(members).values())
    assert issue_id is not None
    issue = clusterer.issues[issue_id]
    assert issue.size == len(REFUND) >= MIN_REVIEW_SIZE
    assert issues_to_review(clusterer) == [issue]
    assert review(clusterer, issue, members, T0) == []
    assert issue.size == len(REFUND) and issue.reviewed_size == len(REFUND)
