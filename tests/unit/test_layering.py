"""The arrows of the architecture, read from the imports of every module (issue 16).

The core (`reputation/`) imports none of the packages built on it, nor the
evaluation harness or the tests; a connector imports from the core only the
records (`reputation.models`) and the connector seam (`reputation.connector`),
with the one secret redaction they share (`reputation.redaction`), so a platform
package can be written, tested and versioned against those.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
ABOVE_THE_CORE = ("evals", "tests", "alerts", "connectors", "dags")
CORE_FOR_CONNECTORS = ("reputation.models", "reputation.connector", "reputation.redaction")


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imports_of(source: str, package: str) -> set[str]:
    """The modules a module of `package` imports, absolute.

    `from a.b import c` counts as `a.b.c` when `a.b` is a package of this tree
    (so `from reputation import pipeline` is `reputation.pipeline`), else as `a.b`.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            if (ROOT / base.replace(".", "/") / "__init__.py").exists():
                found.update(f"{base}.{alias.name}" for alias in node.names)
            else:
                found.add(base)
    return found


def imports(path: Path) -> set[str]:
    package = ".".join(path.relative_to(ROOT).parts[:-1])
    return imports_of(path.read_text(), package)


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def test_the_reading_sees_what_the_rules_forbid() -> None:
    source = "from reputation import pipeline\nfrom reputation.store.schema import mentions\nimport alerts.engine\n"
    assert imports_of(source, "connectors") == {"reputation.pipeline", "reputation.store.schema", "alerts.engine"}
    assert imports_of("from .errors import BadResponse\n", "connectors") == {"connectors.errors"}
    assert len(modules("reputation")) > 30 and len(modules("connectors")) > 15


@pytest.mark.parametrize("path", modules("reputation"), ids=lambda path: str(path.relative_to(ROOT)))
def test_the_core_imports_nothing_built_on_it(path: Path) -> None:
    upward = sorted(name for name in imports(path) if within(name, ABOVE_THE_CORE))
    assert upward == [], f"{path.relative_to(ROOT)} imports {upward}"


@pytest.mark.parametrize("path", modules("connectors"), ids=lambda path: str(path.relative_to(ROOT)))
def test_connectors_take_only_the_records_and_the_seam_from_the_core(path: Path) -> None:
    where = str(path.relative_to(ROOT))
    outside = sorted(
        name for name in imports(path) if within(name, ("reputation",)) and not within(name, CORE_FOR_CONNECTORS)
    )
    assert outside == [], f"{where} imports {outside}; a connector uses reputation.models and reputation.connector"
