"""Dependencies point one way: the domain imports no SDK, no orchestrator, no UI, no Pulumi."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

FORBIDDEN_IN_DOMAIN = (
    "boto3",
    "botocore",
    "aws_durable_execution_sdk_python",
    "pulumi",
    "pulumi_aws",
    "streamlit",
    "altair",
    "moto",
    "handlers.adapters",
    "albumreg",
    "stack",
)
FORBIDDEN_IN_HANDLERS = ("pulumi", "pulumi_aws", "streamlit", "altair", "moto", "albumreg", "stack")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        name
        for name in imported_modules(path)
        if any(name == banned or name.startswith(banned + ".") for banned in forbidden)
    )


DOMAIN_FILES = sorted((ROOT / "handlers" / "domain").rglob("*.py"))
HANDLER_FILES = sorted((ROOT / "handlers").rglob("*.py"))


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_domain_imports_nothing_outside(path: Path) -> None:
    assert offending(path, FORBIDDEN_IN_DOMAIN) == []


@pytest.mark.parametrize("path", HANDLER_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_lambda_code_imports_no_tooling(path: Path) -> None:
    assert offending(path, FORBIDDEN_IN_HANDLERS) == []


def test_boundary_check_detects_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import boto3\nfrom pulumi_aws import s3\nfrom handlers.domain import x\n")
    assert offending(sample, FORBIDDEN_IN_DOMAIN) == ["boto3", "pulumi_aws"]


ROOMS = ("cli", "tools", "cloud", "dashboard", "client")
"""The rooms of ``albumreg/`` (what runs on your machine), top first."""

LAYER_RULES: dict[str, tuple[str, ...]] = {
    "handlers": ("albumreg", "stack"),
    "stack": ("albumreg",),
    "albumreg.cli": (),
    "albumreg.tools": ("albumreg.cli",),
    "albumreg.cloud": ("albumreg.cli", "albumreg.tools", "albumreg.dashboard"),
    "albumreg.dashboard": ("albumreg.cli", "albumreg.tools", "albumreg.cloud", "stack"),
    "albumreg.client": (
        "albumreg.cli",
        "albumreg.tools",
        "albumreg.cloud",
        "albumreg.dashboard",
        "stack",
    ),
    "tests": (),
}
"""What each package may not import: Lambda code and the Pulumi program nothing machine-side;
in ``albumreg/``, no room imports one above it (the CLI may import all, the client none)."""


def layer_of(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return f"albumreg.{parts[1]}" if parts[0] == "albumreg" else parts[0]


def test_the_layer_rules_name_every_package_and_room() -> None:
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if not path.parent.name.startswith(".")
    }
    rooms = {path.parent.name for path in (ROOT / "albumreg").glob("*/__init__.py")}
    assert rooms == set(ROOMS)
    assert {name.split(".")[0] for name in LAYER_RULES} == packages
    assert {name.split(".")[1] for name in LAYER_RULES if name.startswith("albumreg.")} == rooms


@pytest.mark.parametrize(
    "path",
    [
        path
        for top in ("handlers", "stack", "albumreg")
        for path in sorted((ROOT / top).rglob("*.py"))
        if path.parent != ROOT / "albumreg"
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_package_imports_a_layer_above_it(path: Path) -> None:
    assert offending(path, LAYER_RULES[layer_of(path)]) == []
