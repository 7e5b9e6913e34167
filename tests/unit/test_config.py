import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from reputation.config import DATABASE_URL_ENV, Config, Severity, load_config, parse_config
from reputation.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_example_config_is_valid_and_complete() -> None:
    config = load_config(REPO / "reputation.example.yaml")
    assert config.brands[0].name == "Voltmart"
    assert config.alerts.rules.detractor.severity is Severity.HIGH
    assert config.sources[0].type == "replay"


def config_keys(model: type[BaseModel], path: str = "") -> list[str]:
    """Every key of the configuration, as dotted paths (list items as their model's keys)."""
    keys = []
    for name, field in model.model_fields.items():
        keys.append(path + name)
        for kind in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                keys += config_keys(kind, f"{path}{name}.")
    return keys


def test_the_example_documents_every_key() -> None:
    # reputation.example.yaml is the reference for users: a key missing there is a key nobody finds.
    text = (REPO / "reputation.example.yaml").read_text()
    missing = [
        key
        for key in config_keys(Config)
        if not re.search(rf"^[\s#-]*{re.escape(key.rsplit('.', 1)[-1])}:", text, re.M)
    ]
    assert missing == []


def test_defaults_route_alerts_to_slack_webhook_env() -> None:
    config = parse_config({"brands": [{"name": "Acme"}]}, "x.yaml")
    assert [(r.name, r.webhook_env) for r in config.alerts.routes] == [("default", "SLACK_WEBHOOK_URL")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"brands": []}, "x.yaml: brands: List should have at least 1 item"),
        ({"brands": [{"name": "A", "timezone": "Mars/Base"}]}, "brands[0].timezone: unknown time zone 'Mars/Base'"),
        ({"brands": [{"name": "A", "keywords": {"include": ["(x"]}}]}, "brands[0].keywords.include: rule 1"),
        (
            {"brands": [{"name": "A"}], "sources": [{"name": "s", "type": "replay", "brands": ["B"]}]},
            "names unknown brand 'B'",
        ),
        ({"brands": [{"name": "A"}], "colour": "red"}, "colour: Extra inputs are not permitted"),
        (
            {"brands": [{"name": "A"}], "alerts": {"rules": {"detractor": {"severity": "urgent"}}}},
            "alerts.rules.detractor.severity: severity must be one of",
        ),
        (
            {
                "brands": [{"name": "A"}],
                "alerts": {"routes": [{"name": "r", "webhook_env": "https://hooks.slack.com/x"}]},
            },
            "alerts.routes[0].webhook_env: name an environment variable",
        ),
        ({"brands": [{"name": "A"}, {"name": "A"}]}, "brands: 'A' appears twice"),
        ({"brands": [{"name": "A", "lexicon": {"pro": 9}}]}, "must be between -4 and 4"),
        ({"brands": "Acme"}, "brands: Input should be a valid list"),
    ],
)
def test_errors_name_file_key_and_problem(data: object, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(data, "x.yaml")
    assert expected in str(raised.value)


def test_password_in_database_url_is_rejected_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"brands": [{"name": "A"}], "database_url": "postgresql://me:hunter22@db/x"}, "x.yaml")
    assert "hunter22" not in str(raised.value)
    assert DATABASE_URL_ENV in str(raised.value)


def test_environment_overrides_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config({"brands": [{"name": "A"}], "database_url": "sqlite:///a.db"}, "x.yaml")
    assert config.resolved_database_url() == "sqlite:///a.db"
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql+psycopg://u:p@h/db")
    assert config.resolved_database_url() == "postgresql+psycopg://u:p@h/db"


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("brands: [\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_config(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(listing)


def test_paths_in_a_file_are_relative_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "reputation.yaml").write_text(
        "database_url: sqlite:///data/reputation.db\nbrands: [{name: A}]\ndigest: {output_dir: pages}\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(Path("../conf/reputation.yaml"))
    assert config.database_url == f"sqlite:///{elsewhere / '..' / 'conf' / 'data' / 'reputation.db'}"
    assert Path(config.digest.output_dir) == elsewhere / ".." / "conf" / "pages"
    assert config.resolve_path("export.jsonl") == elsewhere / ".." / "conf" / "export.jsonl"
    assert config.resolve_path("/srv/export.jsonl") == Path("/srv/export.jsonl")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////srv/reputation.db",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:shared?mode=memory&uri=true",
        "postgresql+psycopg://reputation@db:5432/reputation",
    ],
)
def test_absolute_memory_and_server_urls_are_kept(tmp_path: Path, url: str) -> None:
    path = tmp_path / "reputation.yaml"
    path.write_text(f"database_url: '{url}'\nbrands: [{{name: A}}]\n")
    assert load_config(path).database_url == url


def test_a_configuration_built_in_code_keeps_the_working_directory() -> None:
    config = parse_config({"brands": [{"name": "A"}], "database_url": "sqlite:///a.db"}, "x.yaml")
    assert config.base_dir is None
    assert config.database_url == "sqlite:///a.db"
    assert config.resolve_path("x.jsonl") == Path("x.jsonl")
