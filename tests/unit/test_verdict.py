"""The summary table: who wins each measure, by how much, and what is not measured."""

from __future__ import annotations

from decimal import Decimal

import pytest

from albumreg.client.verdict import (
    NOT_MEASURED,
    PatternFigures,
    compare,
    measured_figures,
    seconds,
    usd,
    verdict_rows,
)
from handlers.adapters.metrics_collector import CUSTOM_METRICS_PER_PATTERN
from handlers.domain.cost import ALARMS, US_EAST_1, Component
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics

SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE


def test_a_large_gap_is_a_ratio_and_names_the_lower_pattern() -> None:
    row = compare("cost per workflow", {SF: 0.0006, LDF: 0.0002}, usd)

    assert row.winner is LDF
    assert row.margin == "3.0x less"
    assert row.verdict == "Durable functions, 3.0x less"
    assert row.values == {SF: "$0.000600", LDF: "$0.000200"}


def test_a_small_gap_is_a_difference_with_its_share() -> None:
    row = compare("active latency p50", {SF: 2.0, LDF: 2.5}, seconds)

    assert row.winner is SF
    assert row.margin == "0.50 s less (20%)"


def test_figures_within_one_percent_are_a_tie() -> None:
    row = compare("active latency p50", {SF: 2.0, LDF: 2.015}, seconds)

    assert row.winner is None
    assert row.verdict == "tie"


def test_a_missing_figure_gives_no_verdict_and_says_not_measured() -> None:
    row = compare("cold starts", {SF: 9.0, LDF: None}, str)

    assert row.winner is None
    assert row.values[LDF] == NOT_MEASURED
    assert row.verdict == "no verdict"


def test_summary_has_every_measure_the_issue_names() -> None:
    figures = {
        SF: PatternFigures(0.0006, 60.0, 5.0, 9, None, 0.0004, 420, 300),
        LDF: PatternFigures(0.0002, 20.0, 2.5, None, None, None, 250, 200),
    }

    rows = verdict_rows(figures, volume=100_000)

    measures = [row.measure for row in rows]
    assert measures == [
        "cost per workflow",
        "cost per month at 100,000 workflows",
        "active latency p50",
        "cold starts per workflow (p50)",
        "cost of failure (pricing API down, extra per workflow)",
        "orchestration code",
        "test code of one pattern",
    ]
    by_measure = {row.measure: row for row in rows}
    assert by_measure["orchestration code"].winner is LDF
    assert "albumreg bench --scenarios" in by_measure[measures[4]].values[LDF]


def _metrics(total: str, active: float, cold: int | None, **more: str) -> WorkflowMetrics:
    return WorkflowMetrics.model_validate(
        {
            "workflow_status": "COMPLETED",
            "active_seconds": active,
            "cold_starts": cold,
            "cold_start_source": "local worker processes",
            "rates_as_of": US_EAST_1.as_of.isoformat(),
            "region": "us-east-1",
            "cost_items": {
                "state transitions": {
                    "component": Component.ORCHESTRATION.value,
                    "quantity": 11,
                    "unit": "transitions",
                    "usd": total,
                }
            },
        }
        | more
    )


def test_measured_figures_take_mean_cost_median_latency_and_add_fixed_monthly_costs() -> None:
    completed = [_metrics("0.0002", 2.0, 3), _metrics("0.0004", 6.0, 1), _metrics("0.0003", 3.0, 2)]
    completed.append(_metrics("0.0003", 3.0, None, cold_start_source="not measured"))

    found = measured_figures(SF, completed, volume=1000, rates=US_EAST_1)

    assert found.cost_per_workflow_usd == pytest.approx(0.0003)
    assert found.active_p50_s == 3.0
    assert found.cold_starts == 2
    assert found.cold_start_source == "local worker processes"
    fixed = US_EAST_1.cloudwatch_metric_month.of(CUSTOM_METRICS_PER_PATTERN)
    fixed += US_EAST_1.cloudwatch_alarm_month.of(ALARMS[SF])
    assert found.cost_per_month_usd == pytest.approx(float(Decimal("0.3") + fixed))


def test_measured_figures_without_metrics_are_all_unknown() -> None:
    found = measured_figures(LDF, [], volume=1000, rates=US_EAST_1)

    assert found == PatternFigures()
