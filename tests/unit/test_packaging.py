"""The Lambda artifact plan and build: what goes in, what stays out, same bytes every time.

No network: pip is replaced by a function that writes distribution metadata into the target.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from stack import packaging
from stack.packaging import (
    NEVER_SHIPPED,
    ZIP_TIMESTAMP,
    PackagePlan,
    PackagingError,
    all_imports,
    archive_entries,
    build,
    check_imports,
    check_versions,
    module_imports,
    normalize,
    plan_package,
    write_archive,
)

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def plan() -> PackagePlan:
    return plan_package(ROOT, "arm64")


def arcnames(plan: PackagePlan) -> set[str]:
    return {source.arcname for source in plan.sources}


def make_repo(root: Path, dependencies: list[str], files: dict[str, str]) -> Path:
    deps = ", ".join(f'"{item}"' for item in dependencies)
    (root / "pyproject.toml").write_text(f'[project]\nname = "x"\ndependencies = [{deps}]\n')
    (root / "constraints.txt").write_text("boto3==1.44.8\nsix==1.17.0\n")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def fake_site(target: Path, versions: dict[str, str], modules: list[str]) -> None:
    for name, version in versions.items():
        info = target / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n")
    for module in modules:
        (target / module).mkdir(parents=True, exist_ok=True)
        (target / module / "__init__.py").write_text("")


def test_plan_requires_exactly_the_pinned_project_dependencies(plan: PackagePlan) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert plan.requirements == tuple(pyproject["project"]["dependencies"])
    pins = dict(plan.pins)
    for requirement in plan.requirements:
        name, version = requirement.split("==")
        assert pins[packaging.normalize(name)] == version
    names = {packaging.normalize(item.split("==")[0]) for item in plan.requirements}
    assert {"aws-durable-execution-sdk-python", "boto3", "pydantic"} <= names
    assert not names & {"moto", "rapidocr", "rapidfuzz", "streamlit", "pulumi", "onnxruntime"}


def test_plan_pip_command_fetches_cpython_313_wheels_for_the_architecture(
    plan: PackagePlan, tmp_path: Path
) -> None:
    command = plan.pip_command(tmp_path / "site")
    joined = " ".join(command)
    assert "--python-version 3.13" in joined
    assert "--implementation cp" in joined
    assert "--only-binary=:all:" in command
    assert f"--target {tmp_path / 'site'}" in joined
    assert f"--constraint {ROOT / 'constraints.txt'}" in joined
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    # Pillow ships manylinux_2_28 wheels for aarch64; pip does not infer it from 2014.
    assert {"manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64"} <= set(
        platforms
    )
    assert all(tag.endswith("_aarch64") for tag in platforms)
    assert command[-len(plan.requirements) :] == list(plan.requirements)


def test_plan_for_x86_uses_x86_wheels_and_another_cache_key(plan: PackagePlan) -> None:
    x86 = plan_package(ROOT, "x86_64")
    assert all(tag.endswith("_x86_64") for tag in x86.platforms)
    assert x86.dependency_key != plan.dependency_key
    assert x86.source_key == plan.source_key


def test_plan_refuses_an_unknown_architecture() -> None:
    with pytest.raises(PackagingError, match="architecture"):
        plan_package(ROOT, "riscv64")  # type: ignore[arg-type]


def test_plan_zips_handlers_whole(plan: PackagePlan) -> None:
    on_disk = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "handlers").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert arcnames(plan) == on_disk
    assert {"handlers/durable.py", "handlers/adapters/recognition/bedrock.py"} <= on_disk
    for source in plan.sources:
        if source.arcname.endswith(".py"):
            tops = {name.split(".")[0] for name in all_imports(source.path)}
            assert not tops & NEVER_SHIPPED, source.arcname


def _shipped_modules(requirements: tuple[str, ...]) -> set[str]:
    """Top-level modules of the pinned dependencies and everything they require, as installed."""
    provides: dict[str, set[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for dist in dists:
            provides.setdefault(normalize(dist), set()).add(module)
    seen: set[str] = set()
    pending = [normalize(item.split("==")[0]) for item in requirements]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for requirement in metadata.requires(name) or []:
            if "extra ==" not in requirement:
                pending.append(normalize(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]))
    return set().union(*(provides.get(name, set()) for name in seen))


def test_every_handlers_import_is_shipped_in_the_artifact(plan: PackagePlan) -> None:
    shipped = _shipped_modules(plan.requirements) | set(sys.stdlib_module_names)
    shipped |= {"handlers", "__future__"}
    unshipped = {
        f"{source.arcname}: {name}"
        for source in plan.sources
        if source.arcname.endswith(".py")
        for name in {module.split(".")[0] for module in all_imports(source.path)}
        if name not in shipped
    }
    assert unshipped == set()


@pytest.mark.parametrize(
    "code",
    [
        "from rapidfuzz import fuzz\n",
        "def load():\n    from albumreg.cloud.catalog import load_catalog\n"
        "    return load_catalog\n",
    ],
    ids=["at-load-time", "inside-a-function"],
)
def test_plan_refuses_a_module_that_imports_never_shipped_code(tmp_path: Path, code: str) -> None:
    repo = make_repo(
        tmp_path, ["boto3==1.44.8"], {"handlers/__init__.py": "", "handlers/uses.py": code}
    )
    with pytest.raises(PackagingError, match=r"handlers/uses\.py imports (rapidfuzz|albumreg)"):
        plan_package(repo, "arm64")


def test_all_imports_skips_only_type_checking_blocks(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import mypy_boto3_s3\n"
        "def later():\n"
        "    import rapidocr\n"
    )
    assert all_imports(source) == {"typing", "rapidocr"}


def test_plan_refuses_a_dependency_that_is_not_pinned_exactly(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, ["boto3>=1.40"], {"handlers/__init__.py": ""})
    with pytest.raises(PackagingError, match="pin these dependencies exactly"):
        plan_package(repo, "arm64")


def test_module_imports_ignores_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from __future__ import annotations\n"
        "import json\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import mypy_boto3_s3\n"
        "else:\n"
        "    import csv\n"
        "try:\n"
        "    import tomllib\n"
        "except ImportError:\n"
        "    import tomli\n"
        "def later():\n"
        "    import rapidocr\n"
    )
    tops = {name.split(".")[0] for name in module_imports(source)}
    assert tops == {"__future__", "json", "typing", "csv", "tomllib", "tomli"}


def test_archive_is_byte_identical_sorted_and_free_of_bytecode(
    plan: PackagePlan, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    fake_site(site, {"boto3": "1.44.8"}, ["boto3", "zlib_pkg"])
    (site / "boto3" / "__pycache__").mkdir()
    (site / "boto3" / "__pycache__" / "x.cpython-313.pyc").write_bytes(b"\0")
    (site / "bin").mkdir()
    (site / "bin" / "jp.py").write_text("#!/usr/bin/env python\n")

    first = write_archive(archive_entries(plan, site), tmp_path / "a" / "one.zip")
    second = write_archive(archive_entries(plan, site), tmp_path / "b" / "two.zip")

    assert first.path.read_bytes() == second.path.read_bytes()
    expected = base64.b64encode(hashlib.sha256(first.path.read_bytes()).digest()).decode()
    assert first.code_sha256 == expected
    with zipfile.ZipFile(first.path) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {ZIP_TIMESTAMP}
    assert not [
        n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("bin/")
    ]
    assert {"boto3/__init__.py", "boto3-1.44.8.dist-info/METADATA", "handlers/durable.py"} <= set(
        names
    )
    assert not [n for n in names if n.startswith("albumreg/")]


def test_archive_refuses_a_dependency_that_shadows_handlers(
    plan: PackagePlan, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    fake_site(site, {}, ["handlers"])
    (site / "handlers" / "durable.py").write_text("")
    with pytest.raises(PackagingError, match="a dependency also provides handlers/"):
        archive_entries(plan, site)


class FakePip:
    """Writes what pip would install for the plan, counting the calls."""

    def __init__(self, versions: dict[str, str], modules: list[str]) -> None:
        self.versions = versions
        self.modules = modules
        self.calls = 0

    def __call__(self, plan: PackagePlan, target: Path) -> None:
        self.calls += 1
        fake_site(target, self.versions, self.modules)


def lambda_site(plan: PackagePlan) -> FakePip:
    pins = dict(plan.pins)
    names = ["aws-durable-execution-sdk-python", "boto3", "botocore", "pillow", "pydantic"]
    names += ["urllib3", "jmespath", "s3transfer", "pydantic-core", "typing-extensions"]
    names += ["aws-lambda-powertools"]
    modules = ["aws_durable_execution_sdk_python", "boto3", "botocore", "PIL", "pydantic"]
    modules += ["urllib3", "jmespath", "s3transfer", "pydantic_core", "typing_extensions"]
    modules += ["aws_lambda_powertools"]
    return FakePip({name: pins[name] for name in names}, modules)


def test_build_installs_dependencies_once_and_reuses_them(
    plan: PackagePlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip = lambda_site(plan)
    monkeypatch.setattr(packaging, "install_dependencies", pip)

    artifact = build(plan, tmp_path)
    (artifact.path).unlink()
    rebuilt = build(plan, tmp_path)

    assert pip.calls == 1
    assert rebuilt.code_sha256 == artifact.code_sha256
    assert rebuilt.path.name.startswith("albumreg-arm64-")
    assert not list(tmp_path.glob("site-*/bin"))


def test_build_refuses_an_installed_version_that_differs_from_its_pin(
    plan: PackagePlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip = lambda_site(plan)
    pip.versions["boto3"] = "1.0.0"
    monkeypatch.setattr(packaging, "install_dependencies", pip)
    with pytest.raises(PackagingError, match=r"boto3 1\.0\.0"):
        build(plan, tmp_path)


def test_build_refuses_handlers_importing_what_the_artifact_lacks(
    plan: PackagePlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip = lambda_site(plan)
    pip.modules.remove("PIL")
    monkeypatch.setattr(packaging, "install_dependencies", pip)
    with pytest.raises(PackagingError, match=r"image\.py: PIL"):
        build(plan, tmp_path)


def test_check_versions_flags_a_distribution_without_a_pin() -> None:
    assert check_versions({"six": "1.17.0", "newdep": "1.0"}, {"six": "1.17.0"}) == [
        "newdep 1.0 (pinned: nothing)"
    ]


def test_check_imports_accepts_stdlib_and_installed_modules(plan: PackagePlan) -> None:
    everything = {"aws_durable_execution_sdk_python", "boto3", "botocore", "PIL", "pydantic"}
    everything |= {"urllib3", "pydantic_core", "aws_lambda_powertools"}
    assert check_imports(plan.sources, everything) == []
    assert "handlers/durable.py: aws_durable_execution_sdk_python" in check_imports(
        plan.sources, everything - {"aws_durable_execution_sdk_python"}
    )
