"""The one Lambda artifact: ``handlers/`` plus its runtime dependencies, as a reproducible zip.

Planning (which requirements, which files, the pip command) is pure and reads only this
repository; ``build`` is the side-effecting part (pip, files). No Pulumi import, so
``python -m stack.packaging`` builds the artifact without the Pulumi SDK.
"""

from __future__ import annotations

import argparse
import ast
import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Architecture = Literal["arm64", "x86_64"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUILD_DIR = PROJECT_ROOT / "build" / "lambda"
SOURCE_PACKAGE = "handlers"

LAMBDA_RUNTIME = "python3.13"
LAMBDA_PYTHON_VERSION = "3.13"
MACHINES: dict[Architecture, str] = {"arm64": "aarch64", "x86_64": "x86_64"}
LAMBDA_GLIBC = (2, 34)
"""glibc of Amazon Linux 2023, which the python3.13 runtime runs on: the newest manylinux tag."""
OLDEST_MANYLINUX_MINOR = 17
"""manylinux_2_17 is manylinux2014, the oldest tag a current wheel is built for."""

NEVER_SHIPPED = frozenset(
    {
        "albumreg",
        "aws_durable_execution_sdk_python_testing",
        "altair",
        "cv2",
        "moto",
        "numpy",
        "onnxruntime",
        "pandas",
        "pulumi",
        "pulumi_aws",
        "rapidfuzz",
        "rapidocr",
        "stack",
        "streamlit",
        "tests",
    }
)
"""Top-level modules that are never in the artifact (the machine-side code and its extras): a
``handlers/`` module importing one, even inside a function, fails the plan."""

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""Every entry gets this date (the earliest a zip can hold), so equal inputs give equal bytes."""
ZIP_FILE_MODE = 0o100644
ZIP_COMPRESS_LEVEL = 9

_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9.+!_-]+)\s*$")


class PackagingError(RuntimeError):
    """The artifact cannot be planned or built as asked; the message says what to fix."""


@dataclass(frozen=True)
class SourceFile:
    """One file of ``handlers/`` and its name inside the zip."""

    arcname: str
    path: Path


@dataclass(frozen=True)
class PackagePlan:
    """Everything that decides the artifact's content, and nothing else.

    Attributes:
        architecture: the Lambda architecture the wheels are for.
        requirements: ``[project].dependencies`` of ``pyproject.toml``, each ``name==version``.
        pins: every exact pin of ``constraints.txt`` (normalised name -> version); pip gets
            the file as constraints, and the build checks the installed versions against it.
        constraints: path of ``constraints.txt``.
        sources: every file of ``handlers/``, sorted by name in the zip.
    """

    architecture: Architecture
    requirements: tuple[str, ...]
    pins: tuple[tuple[str, str], ...]
    constraints: Path
    sources: tuple[SourceFile, ...]

    @property
    def platforms(self) -> tuple[str, ...]:
        """Wheel platform tags Lambda can load, newest first (pip does not expand them itself)."""
        machine = MACHINES[self.architecture]
        major, newest = LAMBDA_GLIBC
        minors = range(newest, OLDEST_MANYLINUX_MINOR - 1, -1)
        tags = [f"manylinux_{major}_{minor}_{machine}" for minor in minors]
        return (*tags, f"manylinux2014_{machine}")

    def pip_command(self, target: Path) -> list[str]:
        """The ``pip install`` that fetches the dependencies as Lambda-compatible wheels.

        Binary wheels only, for CPython 3.13 on the chosen architecture, whatever Python and
        machine run the build; ``--no-compile`` because bytecode of another Python is useless.
        """
        platform_args = [arg for tag in self.platforms for arg in ("--platform", tag)]
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(target),
            *platform_args,
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--constraint",
            str(self.constraints),
            *self.requirements,
        ]

    @property
    def dependency_key(self) -> str:
        """Identity of the installed dependencies: reused while requirements and pins hold."""
        pins = [f"{name}=={version}" for name, version in self.pins]
        return _digest([self.architecture, LAMBDA_PYTHON_VERSION, *self.requirements, *pins])[:16]

    @property
    def source_key(self) -> str:
        """Identity of the ``handlers/`` files (names and contents)."""
        hasher = hashlib.sha256()
        for source in self.sources:
            hasher.update(source.arcname.encode() + b"\0" + source.path.read_bytes() + b"\0")
        return hasher.hexdigest()[:16]


@dataclass(frozen=True)
class Artifact:
    """The built zip.

    Attributes:
        path: where it is on disk.
        code_sha256: base64 SHA-256 of the zip, as Lambda reports ``CodeSha256``.
        size: bytes.
    """

    path: Path
    code_sha256: str
    size: int


def normalize(name: str) -> str:
    """A distribution name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(pyproject: Path) -> tuple[str, ...]:
    """``[project].dependencies``, each required to be an exact ``name==version`` pin.

    Raises:
        PackagingError: a dependency is not pinned exactly.
    """
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = tuple(str(item) for item in project.get("dependencies", []))
    loose = [item for item in requirements if not _PIN.match(item)]
    if loose:
        raise PackagingError(f"pin these dependencies exactly (name==version): {loose}")
    return requirements


def read_pins(constraints: Path) -> dict[str, str]:
    """Exact pins of a constraints file (normalised name -> version); other lines are ignored."""
    pins: dict[str, str] = {}
    for line in constraints.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.split("#", 1)[0])
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def plan_package(root: Path = PROJECT_ROOT, architecture: Architecture = "arm64") -> PackagePlan:
    """Decide the artifact's content from the repository alone (no network, no writes).

    Raises:
        PackagingError: an unknown architecture, an unpinned dependency, or a ``handlers/``
            module that imports code which is never shipped (it would fail in Lambda).
    """
    if architecture not in MACHINES:
        raise PackagingError(f"architecture {architecture!r}: expected one of {list(MACHINES)}")
    requirements = read_requirements(root / "pyproject.toml")
    constraints = root / "constraints.txt"
    pins = read_pins(constraints)
    unpinned = [item for item in requirements if normalize(item.split("==")[0]) not in pins]
    if unpinned:
        raise PackagingError(f"{unpinned} are missing from {constraints.name}")
    sources = select_sources(root)
    return PackagePlan(
        architecture=architecture,
        requirements=requirements,
        pins=tuple(sorted(pins.items())),
        constraints=constraints,
        sources=tuple(sources),
    )


def select_sources(root: Path) -> list[SourceFile]:
    """Every file of ``handlers/``: the folder is what runs in Lambda, and nothing else.

    Raises:
        PackagingError: a module imports code that is never shipped, even inside a function.
    """
    sources = [
        SourceFile(path.relative_to(root).as_posix(), path)
        for path in sorted((root / SOURCE_PACKAGE).rglob("*"))
        if path.is_file() and not _is_bytecode(path.relative_to(root).as_posix())
    ]
    for source in sources:
        if source.arcname.endswith(".py"):
            unshipped = sorted(_top_level(all_imports(source.path)) & NEVER_SHIPPED)
            if unshipped:
                raise PackagingError(
                    f"{source.arcname} imports {', '.join(unshipped)}, which is never in the "
                    "Lambda artifact: inject it through handlers.wiring.Dependencies instead"
                )
    return sources


def all_imports(path: Path) -> set[str]:
    """Every module a file may import, inside functions too (``TYPE_CHECKING`` blocks aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    type_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node.test)
        for stmt in node.body
        for child in ast.walk(stmt)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def module_imports(path: Path) -> set[str]:
    """Modules a file imports when it is loaded.

    Imports inside functions (loaded on first use) and under ``if TYPE_CHECKING:`` (never
    executed) are skipped: they do not run when Lambda imports the module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in _load_time_nodes(tree.body):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _load_time_nodes(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _load_time_nodes(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                yield from _load_time_nodes(c for c in children if isinstance(c, ast.stmt))
        for handler in getattr(node, "handlers", []):
            if isinstance(handler, ast.ExceptHandler):
                yield from _load_time_nodes(handler.body)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level(modules: Iterable[str]) -> set[str]:
    return {name.split(".", 1)[0] for name in modules}


def check_imports(sources: Sequence[SourceFile], available: set[str]) -> list[str]:
    """Load-time imports of the kept files that nothing in the artifact provides.

    Args:
        sources: the kept ``handlers/`` files.
        available: top-level module names the installed dependencies provide.

    Returns:
        ``file: module`` for each import Lambda could not resolve; empty when all resolve.
    """
    known = available | set(sys.stdlib_module_names) | {SOURCE_PACKAGE, "__future__"}
    return sorted(
        f"{source.arcname}: {name}"
        for source in sources
        if source.arcname.endswith(".py")
        for name in _top_level(module_imports(source.path))
        if name not in known
    )


def installed_top_levels(site: Path) -> set[str]:
    """Top-level importable names in a ``pip --target`` directory."""
    names: set[str] = set()
    for entry in site.iterdir():
        if entry.name.endswith((".dist-info", ".data")) or entry.name in {"bin", "__pycache__"}:
            continue
        if entry.is_dir():
            names.add(entry.name)
        elif entry.suffix in {".py", ".so", ".pyd"}:
            names.add(entry.name.split(".", 1)[0])
    return names


def installed_versions(site: Path) -> dict[str, str]:
    """Distributions in a ``pip --target`` directory (normalised name -> version)."""
    versions: dict[str, str] = {}
    for metadata in site.glob("*.dist-info/METADATA"):
        fields = dict(
            line.split(": ", 1)
            for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.startswith(("Name: ", "Version: "))
        )
        versions[normalize(fields["Name"])] = fields["Version"]
    return versions


def check_versions(installed: dict[str, str], pins: dict[str, str]) -> list[str]:
    """Installed distributions whose version is not exactly the pinned one (or has no pin)."""
    return sorted(
        f"{name} {version} (pinned: {pins.get(name, 'nothing')})"
        for name, version in installed.items()
        if pins.get(name) != version
    )


def archive_entries(plan: PackagePlan, site: Path) -> list[tuple[str, Path]]:
    """Every (zip name, file) of the artifact, sorted by zip name.

    Raises:
        PackagingError: a dependency ships a file under a name ``handlers/`` also uses.
    """
    entries: dict[str, Path] = {}
    for path in sorted(site.rglob("*")):
        arcname = path.relative_to(site).as_posix()
        if path.is_file() and not _is_bytecode(arcname) and not arcname.startswith("bin/"):
            entries[arcname] = path
    for source in plan.sources:
        if source.arcname in entries:
            raise PackagingError(f"a dependency also provides {source.arcname}")
        entries[source.arcname] = source.path
    return sorted(entries.items())


def write_archive(entries: Sequence[tuple[str, Path]], destination: Path) -> Artifact:
    """Write a zip whose bytes depend only on the entries' names and contents.

    Sorted names, one fixed timestamp and one file mode: the same inputs give the same
    ``CodeSha256``, so ``pulumi up`` sees no change when nothing changed.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for arcname, path in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_TIMESTAMP)
            info.external_attr = ZIP_FILE_MODE << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=ZIP_COMPRESS_LEVEL)
    partial.replace(destination)
    return describe(destination)


def describe(path: Path) -> Artifact:
    """The artifact record of an existing zip."""
    data = path.read_bytes()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return Artifact(path=path, code_sha256=digest, size=len(data))


def install_dependencies(plan: PackagePlan, target: Path) -> None:
    """Run pip for the plan into ``target`` (network: the package index).

    Raises:
        PackagingError: pip failed; its output is in the message.
    """
    completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        plan.pip_command(target), capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise PackagingError(f"pip install failed:\n{completed.stdout}\n{completed.stderr}")


def build(plan: PackagePlan, build_dir: Path = DEFAULT_BUILD_DIR) -> Artifact:
    """Build the zip for ``plan``, reusing installed dependencies and earlier zips.

    Dependencies are installed once per ``dependency_key``, so editing a handler rebuilds
    the zip in a second without the network.

    Raises:
        PackagingError: pip failed, an installed version differs from its pin, or a handlers
            module imports something the artifact does not contain.
    """
    destination = (
        build_dir / f"albumreg-{plan.architecture}-{plan.dependency_key}-{plan.source_key}.zip"
    )
    if destination.is_file():
        return describe(destination)
    site = _installed(plan, build_dir)
    problems = check_versions(installed_versions(site), dict(plan.pins))
    if problems:
        raise PackagingError(f"installed versions differ from constraints.txt: {problems}")
    unresolved = check_imports(plan.sources, installed_top_levels(site))
    if unresolved:
        raise PackagingError(f"imports the artifact cannot resolve: {unresolved}")
    return write_archive(archive_entries(plan, site), destination)


def _installed(plan: PackagePlan, build_dir: Path) -> Path:
    site = build_dir / f"site-{plan.architecture}-{plan.dependency_key}"
    if site.is_dir():
        return site
    build_dir.mkdir(parents=True, exist_ok=True)
    # Installed beside the final directory and renamed once complete: an interrupted pip run
    # never leaves a half-filled directory that a later build would trust.
    staging = Path(tempfile.mkdtemp(prefix="site-", dir=build_dir))
    try:
        install_dependencies(plan, staging)
        staging.rename(site)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return site


def _is_bytecode(arcname: str) -> bool:
    return "__pycache__/" in arcname or arcname.endswith((".pyc", ".pyo"))


def _digest(parts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stack.packaging``: build the artifact and print where it is."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--architecture", choices=sorted(MACHINES), default="arm64")
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD_DIR)
    args = parser.parse_args(argv)
    artifact = build(plan_package(PROJECT_ROOT, args.architecture), args.build_dir)
    sys.stdout.write(f"{artifact.path} {artifact.size} bytes sha256={artifact.code_sha256}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
