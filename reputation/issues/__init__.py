"""Complaint issues: incremental clustering with stable ids, labels and examples."""

from reputation.issues.clustering import (
    JOIN_SIMILARITY,
    MAX_LIVE_ISSUES,
    Complaint,
    Issue,
    IssueClusterer,
    Merge,
    issue_id_for,
)
from reputation.issues.linkage import average_linkage
from reputation.issues.phrases import label_issues, phrases_of

__all__ = [
    "JOIN_SIMILARITY",
    "MAX_LIVE_ISSUES",
    "Complaint",
    "Issue",
    "IssueClusterer",
    "Merge",
    "average_linkage",
    "issue_id_for",
    "label_issues",
    "phrases_of",
]
