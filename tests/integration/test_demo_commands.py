"""After `make demo`, every command the demo prints works as printed and sends nothing twice."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.slack import slack_receiver

VENV = Path(sys.executable).parent.parent


def printed_commands(output: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Next, from this directory"))
    return [line.strip() for line in lines[start + 1 :] if line.startswith("  ")]


def without_venv_on_path(env: dict[str, str]) -> dict[str, str]:
    keep = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p).absolute() != VENV / "bin"]
    cleaned = {key: value for key, value in env.items() if key not in ("VIRTUAL_ENV", "REPUTATION_DATABASE_URL")}
    return {**cleaned, "PATH": os.pathsep.join(keep), "COLUMNS": "80"}


@pytest.mark.slow
def test_the_printed_commands_work_from_the_repo_root_and_send_nothing_twice(tmp_path: Path) -> None:
    # A repository root as after `make install`: `make demo` runs .venv/bin/reputation, venv not activated.
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".venv").symlink_to(VENV)
    with slack_receiver() as slack:
        env = without_venv_on_path({**os.environ, "SLACK_WEBHOOK_URL": slack.url})
        demo = subprocess.run(
            [".venv/bin/reputation", "demo", "--workdir", "demo-output"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert demo.returncode == 0, demo.stderr
        sent_by_demo = len(slack.messages)
        raised = re.search(r"(\d+) new alerts, (\d+) delivered to Slack", demo.stdout)
        assert raised is not None, demo.stdout
        # Every alert the demo raised reached Slack once (it raises several: detractor, repeat, unanswered...).
        assert sent_by_demo == int(raised.group(1)) == int(raised.group(2)) >= 3
        commands = printed_commands(demo.stdout)
        assert [shlex.split(c)[1] for c in commands] == ["digest", "issues", "run"]
        assert all(shlex.split(c)[0] == ".venv/bin/reputation" for c in commands)
        for command in commands:
            done = subprocess.run(shlex.split(command), cwd=root, env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"{command}: {done.stderr}"
        # And from anywhere, with the config's absolute path.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        run_again = [str(root / ".venv/bin/reputation"), "run", "--config", str(root / "demo-output/reputation.yaml")]
        done = subprocess.run(run_again, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        assert "0 new alerts" in done.stdout
        assert len(slack.messages) == sent_by_demo
    # One database, the demo's; the digest went next to it.
    assert sorted(p.name for p in root.iterdir()) == [".venv", "demo-output"]
    assert list(elsewhere.iterdir()) == []
    assert [p.name for p in (root / "demo-output").glob("*.db")] == ["reputation.db"]
    assert len(list((root / "demo-output").glob("digest-*.html"))) == 1


def test_the_demo_names_the_command_as_the_user_can_type_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from reputation.cli.app import _program

    script = tmp_path / "venv" / "bin" / "reputation"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["venv/bin/reputation", "demo"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert _program() == "venv/bin/reputation"
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    assert _program() == "reputation"  # the venv is active: the short name finds this same program
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "reputation" / "__main__.py"), "demo"])
    assert _program().endswith(" -m reputation")
