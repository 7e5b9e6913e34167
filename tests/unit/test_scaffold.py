"""`reputation connectors new`: the generated connector passes its contract once fetch is filled in."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import connectors
from reputation.cli.app import app
from reputation.connector import SourceSettings

runner = CliRunner()


def fill_in_fetch(module: Path) -> None:
    """Do what the TODO in the generated fetch says: uncomment its example, drop the raise."""
    lines = module.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "# TODO:" in line)
    end = next(i for i, line in enumerate(lines) if "raise NotImplementedError" in line)
    example = lines[start:end][lines[start:end].index("        #") + 1 :]
    uncommented = [line[:8] + line[10:] for line in example]
    module.write_text("\n".join([*lines[:start], *uncommented, *lines[end + 1 :]]) + "\n")


@pytest.mark.slow
def test_new_connector_passes_its_contract_once_fetch_is_filled_in(tmp_path: Path) -> None:
    # A project of its own: a copy of the connectors package beside the generated files.
    shutil.copytree(
        Path(connectors.__file__).parent, tmp_path / "connectors", ignore=shutil.ignore_patterns("__pycache__")
    )
    result = runner.invoke(app, ["connectors", "new", "mastodon_social", "--directory", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert 'mastodon_social = "connectors.mastodon_social:MastodonSocialConnector"' in result.output
    module = tmp_path / "connectors" / "mastodon_social.py"
    test = tmp_path / "tests" / "contract" / "test_mastodon_social.py"
    assert module.exists() and test.exists() and (tmp_path / "tests" / "fakes" / "mastodon_social.py").exists()

    # What a developer has beside the generated files in this repository: the contract
    # suite's store fixture, and (after adding the printed line to pyproject.toml and
    # reinstalling) the entry point, here as the metadata an install writes.
    shutil.copy(Path(__file__).parents[1] / "contract" / "conftest.py", tmp_path / "tests" / "contract")
    installed = tmp_path / "generated_connector-0.0.0.dist-info"
    installed.mkdir()
    (installed / "METADATA").write_text("Metadata-Version: 2.1\nName: generated-connector\nVersion: 0.0.0\n")
    (installed / "entry_points.txt").write_text(
        "[reputation.connectors]\nmastodon_social = connectors.mastodon_social:MastodonSocialConnector\n"
    )

    def pytest_run() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)

    spec = importlib.util.spec_from_file_location("generated_mastodon_social", module)
    assert spec is not None and spec.loader is not None
    generated_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generated_module)
    unfinished = generated_module.MastodonSocialConnector(SourceSettings(name="m", env={"MASTODON_SOCIAL_TOKEN": "t"}))
    with pytest.raises(NotImplementedError):
        list(unfinished.fetch("voltmart", None))
    fill_in_fetch(module)
    finished = pytest_run()
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert " passed" in finished.stdout and "failed" not in finished.stdout
    # (The test module's imports sort differently outside this project, so it is left out.)
    generated = [str(module), str(tmp_path / "tests" / "fakes" / "mastodon_social.py")]
    project = Path(connectors.__file__).parents[1] / "pyproject.toml"
    for tool in (["check"], ["format", "--check"]):
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", *tool, "--no-cache", "--config", str(project), *generated],
            capture_output=True,
            text=True,
            check=False,
        )
        assert lint.returncode == 0, lint.stdout


def test_new_refuses_bad_names_and_overwrites(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["connectors", "new", "Not-A-Name", "--directory", str(tmp_path)])
    assert bad.exit_code == 1 and "use lowercase letters" in bad.output
    assert runner.invoke(app, ["connectors", "new", "forum", "--directory", str(tmp_path)]).exit_code == 0
    again = runner.invoke(app, ["connectors", "new", "forum", "--directory", str(tmp_path)])
    assert again.exit_code == 1 and "not overwriting" in again.output
