"""Fixtures the integration tests share: the demo's working folder, built once per module."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reputation.cli.app import app


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where `reputation demo` ran (Slack unset, so nothing is sent): its store, config and digest."""
    workdir = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--workdir", str(workdir)], env={"SLACK_WEBHOOK_URL": ""})
    assert result.exit_code == 0, result.output
    return workdir
