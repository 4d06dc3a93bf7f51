"""The report's answer-first sections on crafted METRICS documents: summary, failure, sensitivity.

The workflows are the recorded happy runs (tests/events/collect_*.json) collected by the real
``derive``; the scenario figures are written here, so every number the page shows is known.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from albumreg.cli.main import main
from albumreg.tools.report_page import SECTION_IDS, render_markdown, report_data, sections
from albumreg.tools.repository_metrics import measure
from handlers.domain.tenant import Pattern
from tests.functional.test_report import recorded_workflows

SCENARIOS: dict[str, Any] = {
    "happy": {
        "description": "nothing fails; the reviewer approves",
        "sf": {"completed": 2, "billed_units_p50": 11, "retries_p50": 0,
               "lambda_invocations_p50": 9, "active_p50_s": 3.0, "cost_per_workflow_usd": 0.0006},
        "ldf": {"completed": 2, "billed_units_p50": 13, "retries_p50": 0,
                "lambda_invocations_p50": 2, "active_p50_s": 2.0, "cost_per_workflow_usd": 0.0002},
    },
    "pricing-outage": {
        "description": "the pricing API answers every request with a 500",
        "sf": {"completed": 2, "billed_units_p50": 23, "retries_p50": 12,
               "lambda_invocations_p50": 21, "active_p50_s": 9.0, "cost_per_workflow_usd": 0.0009},
        "ldf": {"completed": 2, "billed_units_p50": 25, "retries_p50": 12,
                "lambda_invocations_p50": 5, "active_p50_s": 8.0,
                "cost_per_workflow_usd": 0.00025},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def data() -> Any:
    return report_data(
        recorded_workflows(),
        measure(),
        "recorded runs",
        config={"price_latency": 0.5},
        generated_at=datetime(2026, 12, 3, tzinfo=UTC),
        scenarios=SCENARIOS,
        scenario_source="crafted scenarios",
        volume=50_000,
    )


def test_the_report_opens_with_the_answer(data: Any) -> None:
    parts = sections(data)

    assert [part.id for part in parts] == list(SECTION_IDS)
    assert SECTION_IDS[0] == "summary"
    assert render_markdown(data).split("\n## ")[1].startswith("The answer")


def test_summary_names_the_winner_of_each_row_and_the_cost_of_failure(data: Any) -> None:
    text = render_markdown(data)
    summary = text.split("\n## ")[1]

    assert "| cost per month at 50,000 workflows |" in summary
    # pricing-outage minus happy: $0.0003 more on Step Functions, $0.00005 on durable
    assert (
        "| cost of failure (pricing API down, extra per workflow) | $0.000300 | $0.00005000 | "
        "Durable functions, 6.0x less |" in summary
    )
    assert "When the verdict flips:" in summary
    assert "Price API latency:" in summary and "Review wait:" in summary
    assert "When something fails, Durable functions spends less extra" in summary


def test_failure_section_shows_each_figure_with_its_change_from_happy(data: Any) -> None:
    failure = render_markdown(data).split("\n## What failure costs")[1].split("\n## ")[0]

    assert "crafted scenarios" in failure
    assert (
        "| pricing-outage | Step Functions | 2 completed | 9 (+6) | 23 (+12) | 12 (+12) | "
        "21 (+12) | $0.00090000 (+0.00030000) |" in failure
    )
    assert "| pricing-outage | the pricing API answers every request with a 500 |" in failure


def test_sensitivity_section_names_break_even_points_in_words(data: Any) -> None:
    sensitivity = render_markdown(data).split("\n## Sensitivity")[1].split("\n## ")[0]

    assert "Chart: Cost per workflow by price API latency" in sensitivity
    assert "Chart: Cost per workflow by review wait" in sensitivity
    for what in ("Price API latency: ", "Review wait: "):
        line = next(line for line in sensitivity.splitlines() if line.startswith(what))
        assert "break-even" in line or "break even" in line
        assert "between 0.1 s and 10 s" in line or "between 1 min and 7 days" in line


def test_without_scenarios_the_failure_section_says_what_to_run() -> None:
    empty = report_data(
        recorded_workflows(), measure(), "recorded", generated_at=datetime(2026, 1, 1, tzinfo=UTC)
    )

    text = render_markdown(empty)

    assert "run albumreg bench --scenarios all" in text
    by_pattern = {p: p.label for p in Pattern}
    assert all(label in text for label in by_pattern.values())


def test_report_from_a_scenario_run_alone_uses_its_happy_workflows(
    tmp_path, monkeypatch, capsys
) -> None:
    # GIVEN only a scenario run: no running system, no plain bench document here
    monkeypatch.chdir(tmp_path)
    document = {
        "config": {"price_latency": 0.5},
        "environment": {"finished_at": "2026-12-03T00:00:00+00:00", "cpus": 2},
        "scenarios": SCENARIOS,
        "workflows": [
            w.model_copy(update={"scenario": "happy"}).model_dump(mode="json")
            for w in recorded_workflows()
        ],
    }
    path = tmp_path / "scenarios.json"
    path.write_text(json.dumps(document))
    out = tmp_path / "report.html"

    status = main(
        ["report", "--scenarios", str(path), "--env-file", str(tmp_path / "none.env"),
         "--out", str(out)]
    )  # fmt: skip

    assert status == 0
    assert "the happy scenario of albumreg bench --scenarios document" in capsys.readouterr().out
    text = out.with_suffix(".md").read_text()
    summary = text.split("\n## ")[1]
    assert "| cost per workflow | $" in summary
    assert "| pricing-outage | Step Functions |" in text
