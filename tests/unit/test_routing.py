from datetime import UTC, datetime

from alerts.incidents import routes_for
from alerts.rules import Finding
from reputation.config import Severity
from tests.conftest import make_config


def finding(severity: Severity, brand: str = "Voltmart", issue: str | None = None) -> Finding:
    facts = {"issue_id": "iss-1", "issue_label": issue} if issue else {}
    return Finding("s", "detractor", brand, severity, "t", 1.0, datetime(2026, 1, 1, tzinfo=UTC), facts=facts)


def test_routes_by_brand_severity_and_issue() -> None:
    config = make_config(
        brands=[{"name": "Voltmart"}, {"name": "Zapp"}],
        alerts={
            "routes": [
                {"name": "all", "webhook_env": "A"},
                {"name": "zapp", "webhook_env": "B", "brands": ["Zapp"]},
                {"name": "execs", "webhook_env": "C", "min_severity": "critical"},
                {"name": "refunds", "webhook_env": "D", "issues": ["refund not received"]},
            ]
        },
    )
    names = lambda f: [route.name for route in routes_for(config, f)]  # noqa: E731
    assert names(finding(Severity.HIGH)) == ["all"]
    assert names(finding(Severity.CRITICAL, brand="Zapp")) == ["all", "zapp", "execs"]
    assert names(finding(Severity.LOW, issue="refund not received")) == ["all", "refunds"]
