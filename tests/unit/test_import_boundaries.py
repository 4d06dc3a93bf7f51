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
    "local",
    "stack",
    "dashboard",
)
FORBIDDEN_IN_HANDLERS = ("pulumi", "pulumi_aws", "streamlit", "altair", "moto", "local", "stack")


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


LAYER_RULES = {
    "client": ("local", "dashboard", "stack"),
    "dashboard": ("local", "stack"),
    "stack": ("local", "dashboard", "client"),
}


@pytest.mark.parametrize(
    "path",
    [path for layer in LAYER_RULES for path in sorted((ROOT / layer).rglob("*.py"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_middle_layers_never_import_upwards(path: Path) -> None:
    layer = path.relative_to(ROOT).parts[0]
    assert offending(path, LAYER_RULES[layer]) == []
