import pytest

from reputation.config import Severity, parse_config
from reputation.errors import ConfigError
from reputation.replies.owned import OwnedAccounts


def brands(*accounts: str, other: list[str] | None = None) -> dict[str, object]:
    listed: list[dict[str, object]] = [{"name": "Acme", "owned_accounts": list(accounts)}]
    if other is not None:
        listed.append({"name": "Other", "owned_accounts": other})
    return {"brands": listed}


def test_owned_accounts_match_case_insensitively_on_their_platform() -> None:
    owned = OwnedAccounts.from_config(parse_config(brands("x:AcmeHelp", "reddit:Acme_Official"), "t.yaml"))
    assert owned.brand_of("x", "acmehelp") == "Acme"
    assert owned.brand_of("x", "@ACMEHELP") == "Acme"
    assert owned.brand_of("reddit", "acme_official") == "Acme"
    assert owned.brand_of("reddit", "AcmeHelp") is None  # same handle, other platform: someone else
    assert owned.brand_of("x", "acmehelp2") is None


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("AcmeHelp", "write platform:handle"),
        ("x:@AcmeHelp", "leave out the @ (x:AcmeHelp)"),
        ("x:", "write platform:handle"),
        ("X Corp:acme", "is not a platform name"),
        ("x:acme help", "a handle has no spaces"),
    ],
)
def test_bad_owned_accounts_are_named_with_the_problem(account: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(brands(account), "t.yaml")
    assert "brands[0].owned_accounts" in str(caught.value)
    assert message in str(caught.value)


def test_an_account_is_owned_once() -> None:
    with pytest.raises(ConfigError, match="appears twice"):
        parse_config(brands("x:AcmeHelp", "x:acmehelp"), "t.yaml")
    with pytest.raises(ConfigError, match="belongs to both 'Acme' and 'Other'"):
        parse_config(brands("x:AcmeHelp", other=["x:ACMEHELP"]), "t.yaml")


def test_response_sla_per_brand_replaces_the_rules() -> None:
    config = parse_config({"brands": [{"name": "Acme", "response_sla": {"HIGH": 15}}, {"name": "Other"}]}, "t.yaml")
    assert config.response_sla_minutes("Acme", Severity.HIGH) == 15
    assert config.response_sla_minutes("Acme", Severity.MEDIUM) is None
    assert config.response_sla_minutes("Other", Severity.MEDIUM) == 240
    with pytest.raises(ConfigError, match=r"response_sla\.high must be a positive"):
        parse_config({"brands": [{"name": "A", "response_sla": {"high": 0}}]}, "t.yaml")
