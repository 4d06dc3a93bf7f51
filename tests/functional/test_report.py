"""``albumreg report`` on recorded runs: valid self-contained HTML and Markdown, every section."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from albumreg.cli.main import main
from albumreg.tools.report_page import SECTION_IDS, render_html, render_markdown, report_data
from albumreg.tools.repository_metrics import (
    NO_COVERAGE,
    ROOT,
    TEST_MARKERS,
    asl_lines,
    measure,
    module_markers,
    pattern_coverage,
    python_lines,
)
from handlers.adapters.metrics_collector import derive
from handlers.config import Settings
from handlers.domain.cost import US_EAST_1
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import MeasuredWorkflow

EVENTS = Path(__file__).parents[1] / "events"
VOID = {"meta", "br", "img", "hr", "input", "link", "wbr", "col", "area", "base", "source"}


class Checker(HTMLParser):
    """Collects section ids and fails on unbalanced tags or anything loaded from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.sections: list[str] = []
        self.svgs = 0
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self.sections.append(str(values.get("id")))
        if tag == "svg":
            self.svgs += 1
        if tag in ("script", "link", "iframe"):
            self.problems.append(f"<{tag}> in a self-contained page")
        for name in ("src", "href"):
            if str(values.get(name, "")).startswith(("http:", "https:", "//")):
                self.problems.append(f"{tag} loads {values[name]}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def check(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert not checker.problems, checker.problems[:5]
    assert not checker.stack, checker.stack
    return checker


def recorded_workflows() -> list[MeasuredWorkflow]:
    workflows = []
    for pattern in Pattern:
        run = json.loads((EVENTS / f"collect_{pattern.value}.json").read_text())
        items = {item["sk"]["S"]: item for item in run["items"]}
        values = derive(pattern, run["history"], items, Settings(table_name="t"), US_EAST_1)
        workflows.append(MeasuredWorkflow.of(pattern, "u", values))
    return workflows


def bench_document(workflows: list[dict[str, Any]]) -> str:
    """A bench document as ``albumreg bench`` saves it, around the given workflow rows."""
    return json.dumps(
        {
            "config": {"uploads": 1},
            "environment": {"finished_at": "2026-11-27T00:00:00+00:00", "cpus": 2},
            "sf": {"lost": 0},
            "ldf": {"lost": 0},
            "workflows": workflows,
        }
    )


@pytest.fixture(scope="module")
def data():
    return report_data(
        recorded_workflows(),
        measure(),
        "recorded runs",
        lost={"sf": 0, "ldf": 0},
        config={"uploads": 1},
        generated_at=datetime(2026, 11, 27, tzinfo=UTC),
    )


def test_report_html_is_valid_with_every_section(data) -> None:
    page = render_html(data)
    checker = check(page)
    assert checker.sections == list(SECTION_IDS)
    # active durations, steps, cost, projections, lines of code
    assert checker.svgs >= 5
    assert "Step Functions" in page and "Durable functions" in page
    assert US_EAST_1.state_transition.source.split()[0] in page


def test_report_markdown_has_every_section(data) -> None:
    text = render_markdown(data)
    for title in (
        "## Runtime",
        "## Cost per workflow",
        "## Monthly projections",
        "## Developer experience",
        "## Method and sources",
    ):
        assert title in text
    assert "| state transitions |" in text.replace("orchestration | state", "| state")


def test_report_without_metrics_says_what_to_run(tmp_path) -> None:
    empty = report_data([], measure(), "nothing", generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    page = render_html(empty)
    assert check(page).sections == list(SECTION_IDS)
    assert "albumreg bench" in page


def test_report_command_writes_html_and_markdown_from_a_bench_document(tmp_path, capsys) -> None:
    workflows = [w.model_dump(mode="json", exclude_none=True) for w in recorded_workflows()]
    bench = tmp_path / "bench.json"
    bench.write_text(bench_document(workflows))
    out = tmp_path / "out" / "report.html"
    assert main(["report", "--bench", str(bench), "--out", str(out)]) == 0
    assert check(out.read_text()).sections == list(SECTION_IDS)
    assert out.with_suffix(".md").read_text().startswith("# Album registration")
    assert "2 workflows" in capsys.readouterr().out


def test_a_bench_document_of_an_earlier_version_still_reports_its_cost(tmp_path) -> None:
    # GIVEN a document saved before the rates vocabulary: ``prices_as_of`` in every row
    rows = []
    for workflow in recorded_workflows():
        row = workflow.model_dump(mode="json", exclude_none=True)
        row["prices_as_of"] = row.pop("rates_as_of")
        rows.append(row)
    bench = tmp_path / "bench.json"
    bench.write_text(bench_document(rows))

    # WHEN the report reads it
    out = tmp_path / "report.html"
    assert main(["report", "--bench", str(bench), "--out", str(out)]) == 0

    # THEN the cost section has the costs those rows stored
    cost = out.with_suffix(".md").read_text().split("\n## Cost per workflow")[1].split("\n## ")[0]
    assert "No completed workflow with a cost yet." not in cost
    assert "| total |" in cost


def test_python_lines_leave_out_comments_docstrings_and_blanks() -> None:
    source = '''"""Module docstring."""

# a comment
def f(x):
    """Docstring
    over two lines."""
    if x and x > 1:  # trailing comment counts as code
        return [y for y in range(x) if y]
    return None
'''
    code, comments, decisions = python_lines(source)
    # code: def, if, return [...], return None
    assert code == 4
    # "# a comment" alone on its line; the trailing one shares a code line
    assert comments == 1
    # if, the extra "and" operand, the comprehension's filter
    assert decisions == 3


def test_asl_lines_leave_out_comment_fields() -> None:
    source = """{
  "Comment": "what it does",
  "States": {
    "a": {"Type": "Choice", "Choices": [{"Next": "b"}, {"Next": "c"}]},

    "b": {"Type": "Task", "Retry": [{}], "Catch": [{}, {}]}
  }
}
"""
    code, comments, decisions = asl_lines(source)
    # 7 non-blank lines, one of them only a Comment
    assert (code, comments) == (6, 1)
    # two Choice rules, one Retry, two Catch entries
    assert decisions == 5


def test_coverage_is_read_from_coverage_json(tmp_path) -> None:
    assert pattern_coverage(tmp_path) == ({"sf": None, "ldf": None}, NO_COVERAGE)
    (tmp_path / "coverage.json").write_text(
        json.dumps(
            {
                "files": {
                    "handlers/durable.py": {
                        "summary": {"num_statements": 200, "covered_lines": 150}
                    }
                }
            }
        )
    )
    found, source = pattern_coverage(tmp_path)
    assert source == "coverage.json"
    assert found["sf"] is None
    assert found["ldf"] is not None and found["ldf"].percent == pytest.approx(75.0)


def test_repository_measures_both_patterns() -> None:
    dev = measure()
    assert {f.path for f in dev.orchestration["sf"]} == {
        "stack/album_registration.asl.json",
        "handlers/step_functions.py",
    }
    assert [f.path for f in dev.orchestration["ldf"]] == ["handlers/durable.py"]
    assert all(f.code > 0 for files in dev.orchestration.values() for f in files)
    assert any("sfn_harness" in f.path for f in dev.tests["sf"])
    assert any("durable_harness" in f.path for f in dev.tests["ldf"])
    assert "routed_invokes" in dev.doubles["sf"]
    assert "DurableFunctionTestRunner" in dev.doubles["ldf"]
    claimed = {f.path for files in dev.tests.values() for f in files}
    assert "tests/functional/test_parity.py" in {f.path for f in dev.tests["shared"]}
    assert len(claimed) == sum(len(files) for files in dev.tests.values()), "a file counted twice"


def test_module_markers_reads_only_the_module_level_pytestmark() -> None:
    source = """
import pytest
from pytest import mark

pytestmark = [pytest.mark.pattern_sf, pytest.mark.timeout(900), mark.slow]


@pytest.mark.pattern_ldf
def test_one():
    pytestmark = pytest.mark.aws
"""
    assert module_markers(source) == {"pattern_sf", "timeout", "slow"}
    assert module_markers("pytestmark: object = pytest.mark.e2e\n") == {"e2e"}
    assert module_markers("marks = pytest.mark.e2e\n") == set()


def write_test_module(root: Path, relative: str, pytestmark: str = "") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    marks = f"pytestmark = {pytestmark}\n" if pytestmark else ""
    path.write_text(f"import pytest\n\n{marks}\n\ndef test_it():\n    assert True\n")


def test_a_test_file_keeps_its_pattern_when_renamed(tmp_path: Path) -> None:
    # GIVEN a Step Functions test, a durable helper, a look-alike name and a file claiming both
    write_test_module(tmp_path, "tests/functional/test_step_functions.py", "pytest.mark.pattern_sf")
    write_test_module(tmp_path, "tests/functional/durable_helpers.py", "pytest.mark.pattern_ldf")
    write_test_module(tmp_path, "tests/unit/test_durable_lookalike.py")
    write_test_module(
        tmp_path, "tests/unit/test_both.py", "[pytest.mark.pattern_sf, pytest.mark.pattern_ldf]"
    )
    before = measure(tmp_path).tests

    # WHEN the Step Functions test is renamed and moved
    (tmp_path / "tests/functional/test_step_functions.py").rename(
        tmp_path / "tests/machine_checks.py"
    )
    after = measure(tmp_path).tests

    # THEN it is still the Step Functions pattern's, and names alone claim nothing
    assert [f.path for f in before["sf"]] == ["tests/functional/test_step_functions.py"]
    assert [f.path for f in after["sf"]] == ["tests/machine_checks.py"]
    for tests in (before, after):
        assert [f.path for f in tests["ldf"]] == ["tests/functional/durable_helpers.py"]
        assert [f.path for f in tests["shared"]] == [
            "tests/unit/test_both.py",
            "tests/unit/test_durable_lookalike.py",
        ]
    assert after["sf"][0].code == before["sf"][0].code > 0


def test_every_pattern_marker_is_registered_with_pytest() -> None:
    registered = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"
    ]["markers"]
    names = {line.split(":", 1)[0] for line in registered}
    assert set(TEST_MARKERS.values()) <= names
