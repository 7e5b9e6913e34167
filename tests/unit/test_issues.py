from datetime import UTC, datetime, timedelta

from reputation.issues import Complaint, IssueClusterer, terms_of

T0 = datetime(2026, 1, 5, tzinfo=UTC)

REFUNDS = [
    "Still waiting for my refund from Voltmart, three weeks now",
    "Voltmart refund approved weeks ago and still waiting, nothing in my account",
    "where is my refund voltmart?? still waiting",
    "Refund still not here. Waiting since December. Voltmart please",
]
HOLD = [
    "On hold with Voltmart support for 45 minutes again",
    "Voltmart support hold music for an hour, nobody picks up",
    "45 minutes on hold with Voltmart support and then the call dropped",
]


def complaints(texts: list[str], start: int = 0) -> list[Complaint]:
    return [
        Complaint(f"x:{start + i}", "Voltmart", text, T0 + timedelta(minutes=start + i)) for i, text in enumerate(texts)
    ]


def test_similar_complaints_share_an_issue_and_different_ones_do_not() -> None:
    clusterer = IssueClusterer([], ignore_words=["Voltmart"])
    assigned = clusterer.assign_all(complaints(REFUNDS) + complaints(HOLD, start=100))
    refund_ids = {assigned[f"x:{i}"] for i in range(len(REFUNDS))}
    hold_ids = {assigned[f"x:{100 + i}"] for i in range(len(HOLD))}
    assert len(refund_ids) == 1 and len(hold_ids) == 1 and refund_ids != hold_ids
    labels = {issue.id: issue.label for issue in clusterer.issues.values()}
    assert "refund" in labels[refund_ids.pop()]
    assert "voltmart" not in " ".join(labels.values()).lower()


def test_issue_ids_are_stable_across_runs() -> None:
    first = IssueClusterer([], ignore_words=["Voltmart"])
    ids = first.assign_all(complaints(REFUNDS))
    # A later run starts from the stored issues and keeps their ids.
    second = IssueClusterer(first.issues.values(), ignore_words=["Voltmart"])
    later = second.assign_all(complaints(["my refund is still not here, still waiting"], start=50))
    assert later["x:50"] == ids["x:0"]


def test_negation_is_kept_and_empty_text_gets_no_issue() -> None:
    assert "not receiv" in terms_of("I have not received anything")
    assert IssueClusterer([]).assign(Complaint("x:1", None, "!!! ??? 😡", T0)) is None
