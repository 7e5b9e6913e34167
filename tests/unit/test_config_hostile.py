"""Hostile configuration and URLs end in a clear error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reputation.config import load_config
from reputation.errors import ConfigError, StoreError
from reputation.store import Store

BRAND = "brands:\n  - name: Voltmart\n"


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "reputation.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_duplicate_keys_are_an_error_naming_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"duplicate key 'brands' \(line 3"):
        load(tmp_path, BRAND + "brands:\n  - name: Other\n")


def test_ten_thousand_deep_yaml_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nested too deeply"):
        load(tmp_path, BRAND + "extra: " + "[" * 10_000 + "]" * 10_000 + "\n")


def test_a_keyword_rule_nested_five_thousand_levels_is_an_error(tmp_path: Path) -> None:
    rule = "(" * 5000 + "refund" + ")" * 5000
    with pytest.raises(ConfigError, match="nested deeper than 32") as caught:
        load(tmp_path, BRAND + f"    keywords:\n      include: ['{rule}']\n")
    assert len(str(caught.value)) < 400  # the rule is quoted clipped, not whole


PRINTABLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="'")


@given(password=st.text(alphabet=PRINTABLE, min_size=1, max_size=20))
def test_a_password_in_the_file_is_refused_whatever_it_holds(
    tmp_path_factory: pytest.TempPathFactory, password: str
) -> None:
    folder = tmp_path_factory.mktemp("pw")
    with pytest.raises(ConfigError, match="holds a password"):
        load(folder, BRAND + f"database_url: 'postgresql://app:{password}@db.internal/rep'\n")


def test_a_url_without_a_password_is_accepted(tmp_path: Path) -> None:
    load(tmp_path, BRAND + "database_url: 'postgresql://app@db.internal/rep'\n")
    load(tmp_path, BRAND + "database_url: 'sqlite:///data/a:b@c.db'\n")


@pytest.mark.parametrize("port", ["abc", "99999", "0", "-1"])
def test_a_bad_port_in_the_database_url_is_a_clear_error(port: str) -> None:
    with pytest.raises(StoreError, match="not usable") as caught:
        Store.open(f"postgresql+psycopg://app:hunter22@127.0.0.1:{port}/test")
    assert "hunter22" not in str(caught.value)
