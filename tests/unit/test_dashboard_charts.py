"""Chart builders: fixed colours per pattern, only measured numbers, readable step order."""

from __future__ import annotations

from typing import Any

import pytest

from albumreg.dashboard.charts import (
    COST_COLOURS,
    PATTERN_COLOURS,
    billed_units_chart,
    cost_chart,
    distribution_chart,
    step_time_chart,
    success_rate_chart,
    timeline_chart,
)
from albumreg.dashboard.data.comparison import ExecutionMetrics, Outcomes, TimelineBar, WorkflowCost
from handlers.domain.cost import Component
from handlers.domain.models import WorkflowStatus
from handlers.domain.tenant import Pattern
from tests.conftest import T0

SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE


def run(pattern: Pattern, active: float, **changes: Any) -> ExecutionMetrics:
    values: dict[str, Any] = {
        "pattern": pattern,
        "upload_id": f"{pattern.value}-{active}",
        "execution_id": None,
        "received_at": T0,
        "source": "stored",
        "active_seconds": active,
        "human_wait_seconds": 30.0,
        "step_seconds": {"extract-albums": 2.0, "review-years": 30.0, "price-albums": 1.0},
        "billed_units": 11 if pattern is SF else 13,
        "parallel_efficiency": 0.9,
    }
    return ExecutionMetrics(**(values | changes))


def colour_scales(spec: Any) -> list[dict[str, Any]]:
    """Every colour scale of pattern in a chart spec, wherever layering put it."""
    found = []
    if isinstance(spec, dict):
        colour = spec.get("encoding", {}).get("color", {})
        if colour.get("field") == "pattern":
            found.append(colour["scale"])
        for value in spec.values():
            found += colour_scales(value)
    elif isinstance(spec, list):
        for value in spec:
            found += colour_scales(value)
    return found


def values(chart: Any) -> list[dict[str, Any]]:
    """The rows a chart draws (Altair moves inline rows into named datasets)."""
    spec = chart.to_dict()
    return spec["datasets"][spec["data"]["name"]]


def test_pattern_colours_never_depend_on_the_order_of_the_data() -> None:
    expected = {
        "domain": [SF.label, LDF.label],
        "range": [PATTERN_COLOURS[SF], PATTERN_COLOURS[LDF]],
    }
    for measured in ([run(SF, 4), run(LDF, 3)], [run(LDF, 3), run(SF, 4)], [run(LDF, 3)]):
        for chart in (
            distribution_chart(measured, "active_seconds", "t", "s"),
            billed_units_chart(measured),
            step_time_chart(measured),
        ):
            scales = colour_scales(chart.to_dict())
            assert all(scale == expected for scale in scales)
    assert PATTERN_COLOURS[SF] != PATTERN_COLOURS[LDF]


def test_step_time_chart_leaves_out_the_human_review_and_control_states() -> None:
    measured = [
        run(
            SF, 4, step_seconds={"extract-albums": 2.0, "review-years": 30.0, "review-outcome": 0.0}
        ),
        run(SF, 6, step_seconds={"extract-albums": 4.0, "store-results": 0.5}),
    ]

    rows = values(step_time_chart(measured))

    assert {(row["step"], row["seconds"]) for row in rows} == {
        ("Extract albums", 3.0),
        ("Store results", 0.5),
    }


def test_distribution_chart_skips_executions_without_the_value() -> None:
    measured = [run(SF, 4), run(LDF, 3, parallel_efficiency=None)]

    rows = values(distribution_chart(measured, "parallel_efficiency", "t", "ratio"))

    assert [(row["pattern"], row["value"]) for row in rows] == [(SF.label, 0.9)]


def test_billed_units_chart_shows_the_mean_per_pattern() -> None:
    rows = values(billed_units_chart([run(SF, 1), run(SF, 2, billed_units=13), run(LDF, 1)]))

    assert {(row["pattern"], row["units"], row["unit"]) for row in rows} == {
        (SF.label, 12, "state transitions"),
        (LDF.label, 13, "durable operations"),
    }


def cost(pattern: Pattern, components: dict[str, float]) -> WorkflowCost:
    total = sum(components.values())
    return WorkflowCost(pattern, "u", WorkflowStatus.COMPLETED, components, total, 0.0, total)


def test_cost_chart_means_stored_costs_and_marks_shared_components_as_the_cost_model_does() -> None:
    costs = [
        cost(SF, {"orchestration": 0.0003, "vision": 0.0002, "other": 0.00001}),
        cost(SF, {"orchestration": 0.0005, "vision": 0.0002, "other": 0.00001}),
    ]

    rows = values(cost_chart(costs))

    by_component = {row["component"]: row for row in rows}
    assert set(by_component) == {"orchestration", "vision", "other"}
    assert by_component["orchestration"]["usd"] == pytest.approx(0.0004)
    assert by_component["orchestration"]["kind"] == "orchestrator's own"
    assert by_component["vision"]["kind"] == "shared"
    # EventBridge, CloudWatch and agent tokens are paid alike by both (handlers.domain.cost).
    assert by_component["other"]["kind"] == "shared"
    assert all(row["pattern"] == SF.label for row in rows)
    assert all(row["workflows"] == 2 for row in rows)


def test_success_rate_chart_leaves_out_patterns_with_nothing_decided() -> None:
    rows = values(success_rate_chart([Outcomes(SF, 3, 1), Outcomes(LDF, 0, 0)]))

    assert [(row["pattern"], row["rate"]) for row in rows] == [(SF.label, 0.75)]


def test_timeline_chart_orders_rows_by_workflow_order_and_grows_with_them() -> None:
    bars = [
        TimelineBar(SF, "Store results", 30, 5.0, 5.5),
        TimelineBar(SF, "Extract albums", 0, 0.0, 2.0),
        TimelineBar(LDF, "Extract albums", 0, 0.1, 1.9),
    ]

    spec = timeline_chart(bars).to_dict()

    assert spec["layer"][0]["encoding"]["y"]["sort"] == ["Extract albums", "Store results"]
    assert spec["height"] > timeline_chart(bars[:1]).to_dict()["height"]


def test_every_cost_component_has_its_own_colour() -> None:
    assert set(COST_COLOURS) == set(Component)
    assert len(set(COST_COLOURS.values())) == len(Component)
