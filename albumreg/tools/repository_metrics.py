"""Developer-experience figures measured from this repository, for ``albumreg report``.

Lines of orchestration code and of tests per pattern, decision points, coverage per pattern from
the last test run, and the test doubles each pattern's tests use. Reads files only; imports no
handler, no test and no Pulumi module.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

ORCHESTRATION_FILES: dict[str, tuple[str, ...]] = {
    "sf": ("stack/album_registration.asl.json", "handlers/step_functions.py"),
    "ldf": ("handlers/durable.py",),
}
"""What each pattern's orchestration is written in: the ASL plus its task handlers, or the one
durable handler. The shared domain steps, adapters and models are the same for both."""

TEST_MARKERS: dict[str, str] = {"sf": "pattern_sf", "ldf": "pattern_ldf"}
"""The pytest marker (registered in ``pyproject.toml``) that claims a module under ``tests/`` for
one pattern, named by its module-level ``pytestmark``; a helper module that serves one pattern's
tests carries the same line. Read from the source, so renaming or moving a file keeps its
pattern. A module claimed by no pattern, or by both, counts as shared."""

COVERAGE_FILES: dict[str, tuple[str, ...]] = {
    "sf": ("handlers/step_functions.py",),
    "ldf": ("handlers/durable.py",),
}
"""Python that coverage.py can measure per pattern (an ASL file is not Python)."""

TEST_DOUBLES: dict[str, str] = {
    "mock_aws": "moto, in-process AWS APIs (S3, DynamoDB, Step Functions, Lambda)",
    "ThreadedMotoServer": "moto as an HTTP server on 127.0.0.1",
    "MOTO_CONFIG": "moto's ASL interpreter switched on (executes the state machine)",
    "routed_invokes": "moto's Lambda patched to run the real handlers in-process",
    "DurableFunctionTestRunner": "durable testing SDK runner (control plane in-process)",
    "DurablePlane": "durable control plane over HTTP (albumreg/cloud/durable_plane.py)",
    "ScriptedRecognizer": "fake recognizer (tests/fakes.py)",
    "ScriptedPricing": "fake price agent, chosen slots failing (tests/fakes.py)",
    "RecordingMetrics": "metrics sink that records (tests/fakes.py)",
    "RecordingInbox": "review inbox that records (tests/fakes.py)",
    "RunnerInbox": "review inbox over the durable runner (durable_harness.py)",
    "FixedClock": "clock that moves only when told (tests/conftest.py)",
    "Stubber": "botocore Stubber (scripted AWS responses)",
    "monkeypatch": "pytest monkeypatch",
}
"""Names searched for in each pattern's test files: which doubles and emulators they need."""

NO_COVERAGE = "no coverage data: run make coverage"


@dataclass(frozen=True)
class FileLines:
    """Counted lines of one file."""

    path: str
    code: int
    comments: int
    decision_points: int


@dataclass(frozen=True)
class Coverage:
    """Statements covered by the last test run."""

    statements: int
    covered: int

    @property
    def percent(self) -> float:
        """Covered share, 0..100."""
        return 100.0 * self.covered / self.statements if self.statements else 0.0


@dataclass(frozen=True)
class DevMetrics:
    """Everything the report's developer-experience section shows."""

    orchestration: dict[str, list[FileLines]]
    tests: dict[str, list[FileLines]]
    coverage: dict[str, Coverage | None]
    coverage_source: str
    doubles: dict[str, list[str]]
    method: dict[str, str] = field(default_factory=dict)


def _docstring_lines(tree: ast.AST) -> set[int]:
    """Lines of string statements: docstrings of modules, classes, functions and attributes."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _python_decisions(tree: ast.AST) -> int:
    """Branch points (McCabe's count without the +1 per function)."""
    count = 0
    for node in ast.walk(tree):
        if isinstance(
            node,
            ast.If | ast.For | ast.AsyncFor | ast.While | ast.ExceptHandler | ast.IfExp,
        ):
            count += 1
        elif isinstance(node, ast.BoolOp):
            count += len(node.values) - 1
        elif isinstance(node, ast.comprehension):
            count += len(node.ifs)
        elif isinstance(node, ast.match_case):
            count += 1
    return count


def python_lines(source: str) -> tuple[int, int, int]:
    """(code, comment, decision points) of Python source.

    Code lines hold at least one token that is not a comment and not part of a docstring;
    blank lines, comment-only lines and docstrings are not code.
    """
    tree = ast.parse(source)
    docs = _docstring_lines(tree)
    code: set[int] = set()
    comments: set[int] = set()
    skipped = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments.add(token.start[0])
        elif token.type not in skipped:
            code.update(range(token.start[0], token.end[0] + 1))
    code -= docs
    return len(code), len(comments - code), _python_decisions(tree)


_COMMENT_LINE = re.compile(r'^\s*"Comment"\s*:\s*".*",?\s*$')


def asl_lines(source: str) -> tuple[int, int, int]:
    """(code, comment, decision points) of an ASL file.

    Every non-blank line is code except a line holding only a ``"Comment"`` field (ASL has no
    comment syntax; those fields are its comments). Decision points: Choice rules, Retry and
    Catch entries.
    """
    lines = [line for line in source.splitlines() if line.strip()]
    comments = sum(1 for line in lines if _COMMENT_LINE.match(line))
    return len(lines) - comments, comments, _asl_decisions(json.loads(source))


def _asl_decisions(node: Any) -> int:
    if isinstance(node, list):
        return sum(_asl_decisions(item) for item in node)
    if not isinstance(node, Mapping):
        return 0
    count = 0
    for key, value in node.items():
        if key in ("Choices", "Retry", "Catch") and isinstance(value, list):
            count += len(value)
        count += _asl_decisions(value)
    return count


def count_file(root: Path, relative: str) -> FileLines:
    """Lines of one file, by its kind (``.json`` is ASL, anything else Python)."""
    source = (root / relative).read_text()
    counter = asl_lines if relative.endswith(".json") else python_lines
    code, comments, decisions = counter(source)
    return FileLines(relative, code, comments, decisions)


def module_markers(source: str) -> set[str]:
    """Marker names a module's top-level ``pytestmark`` applies.

    ``pytestmark`` may be one mark or a list or tuple of them, each written ``pytest.mark.NAME``
    or ``mark.NAME``, called (``pytest.mark.timeout(900)``) or not.
    """
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if not any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets):
            continue
        for part in ast.walk(value):
            if isinstance(part, ast.Attribute) and _is_mark(part.value):
                names.add(part.attr)
    return names


def _is_mark(node: ast.expr) -> bool:
    """``pytest.mark`` or a bare ``mark`` (``from pytest import mark``)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "mark"
    return isinstance(node, ast.Name) and node.id == "mark"


def _test_files(root: Path) -> dict[str, list[str]]:
    """Every Python file under ``tests/``, by the one pattern its markers claim, else shared."""
    claimed: dict[str, list[str]] = {group: [] for group in [*TEST_MARKERS, "shared"]}
    for path in sorted(root.glob("tests/**/*.py")):
        markers = module_markers(path.read_text())
        patterns = [pattern for pattern, marker in TEST_MARKERS.items() if marker in markers]
        claimed[patterns[0] if len(patterns) == 1 else "shared"].append(str(path.relative_to(root)))
    return claimed


def _coverage_from_json(path: Path, files: Iterable[str]) -> dict[str, Coverage]:
    measured = json.loads(path.read_text()).get("files", {})
    found: dict[str, Coverage] = {}
    for relative in files:
        summary = measured.get(relative, {}).get("summary")
        if summary:
            found[relative] = Coverage(
                int(summary["num_statements"]), int(summary["covered_lines"])
            )
    return found


def _coverage_from_data(root: Path, files: Iterable[str]) -> dict[str, Coverage]:
    import coverage  # noqa: PLC0415 - a dev dependency, loaded only when a data file exists

    data = coverage.Coverage(data_file=str(root / ".coverage"))
    data.load()
    measured = set(data.get_data().measured_files())
    found: dict[str, Coverage] = {}
    for relative in files:
        absolute = str((root / relative).resolve())
        if absolute not in measured:
            continue
        _, statements, _, missing, _ = data.analysis2(absolute)
        found[relative] = Coverage(len(statements), len(statements) - len(missing))
    return found


def pattern_coverage(root: Path = ROOT) -> tuple[dict[str, Coverage | None], str]:
    """Coverage of each pattern's Python from the last test run, and where it came from."""
    files = [f for paths in COVERAGE_FILES.values() for f in paths]
    if (root / "coverage.json").is_file():
        by_file, source = _coverage_from_json(root / "coverage.json", files), "coverage.json"
    elif (root / ".coverage").is_file():
        by_file, source = _coverage_from_data(root, files), ".coverage"
    else:
        return dict.fromkeys(COVERAGE_FILES), NO_COVERAGE
    result: dict[str, Coverage | None] = {}
    for pattern, paths in COVERAGE_FILES.items():
        parts = [by_file[p] for p in paths if p in by_file]
        result[pattern] = (
            Coverage(sum(c.statements for c in parts), sum(c.covered for c in parts))
            if parts
            else None
        )
    return result, source


def _fixtures(root: Path) -> dict[str, tuple[str, set[str]]]:
    """Every conftest fixture: its source and the fixtures it asks for in turn."""
    found: dict[str, tuple[str, set[str]]] = {}
    for path in root.glob("tests/**/conftest.py"):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and any(
                "fixture" in ast.unparse(decorator) for decorator in node.decorator_list
            ):
                segment = ast.get_source_segment(source, node) or ""
                found[node.name] = (segment, {arg.arg for arg in node.args.args})
    return found


def _requested(source: str) -> set[str]:
    """Names test functions in ``source`` ask for as parameters (fixtures among them)."""
    return {
        arg.arg
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef)
        for arg in node.args.args
    }


def doubles_used(root: Path, files: Iterable[str]) -> list[str]:
    """Which known doubles and emulators the given test files use.

    Searched in the files themselves and in the conftest fixtures they request, followed
    through the fixtures those fixtures request.
    """
    fixtures = _fixtures(root)
    texts = [(root / path).read_text() for path in files]
    wanted = set().union(*(_requested(text) for text in texts)) if texts else set()
    seen: set[str] = set()
    while wanted - seen:
        name = (wanted - seen).pop()
        seen.add(name)
        if name in fixtures:
            source, requested = fixtures[name]
            texts.append(source)
            wanted |= requested
    text = "\n".join(texts)
    return [name for name in TEST_DOUBLES if re.search(rf"\b{re.escape(name)}\b", text)]


def measure(root: Path = ROOT) -> DevMetrics:
    """Every developer-experience figure of the repository at ``root``."""
    tests = _test_files(root)
    coverage, source = pattern_coverage(root)
    return DevMetrics(
        orchestration={
            pattern: [count_file(root, path) for path in paths if (root / path).is_file()]
            for pattern, paths in ORCHESTRATION_FILES.items()
        },
        tests={group: [count_file(root, path) for path in paths] for group, paths in tests.items()},
        coverage=coverage,
        coverage_source=source,
        doubles={pattern: doubles_used(root, tests[pattern]) for pattern in TEST_MARKERS},
        method={
            "code lines": "Python: lines holding a token that is neither a comment nor part "
            "of a docstring; ASL: non-blank lines except those holding only a Comment field",
            "decision points": "Python: if, for, while, except, conditional expressions, "
            "extra boolean operands, comprehension filters, match cases; ASL: Choice rules, "
            "Retry and Catch entries",
            "tests": "files under tests/ whose module-level pytestmark names "
            + " or ".join(f"pytest.mark.{m} ({p})" for p, m in TEST_MARKERS.items())
            + "; every other test file is shared",
            "coverage": f"statements of {', '.join(f for v in COVERAGE_FILES.values() for f in v)}"
            " covered in the last run (coverage.json or .coverage)",
        },
    )
