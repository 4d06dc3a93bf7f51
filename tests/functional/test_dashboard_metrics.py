"""The Comparison page's cost and CloudWatch sections, with AppTest over moto.

The cost chart reads what finished workflows stored (completed and failed alike); the CloudWatch
charts read both namespaces with ``GetMetricData`` from moto, with the local cloud's correction
(``namespaced_metric_queries``) applied as the local cloud applies it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pyarrow as pa  # type: ignore[import-untyped]  # Streamlit's own dependency
import pytest
from streamlit.testing.v1 import AppTest

from albumreg.cloud.moto_fixes import namespaced_metric_queries
from albumreg.dashboard import cached
from albumreg.dashboard.data import cloudwatch
from albumreg.dashboard.launch import APP
from handlers.domain.tenant import Pattern
from tests.functional.conftest import TABLE
from tests.functional.dashboard_world import SF, World, build_world

TIMEOUT = 30


@pytest.fixture
def world(repo, s3) -> World:
    return build_world(repo, s3)


@pytest.fixture
def comparison(world: World) -> Iterator[AppTest]:
    with namespaced_metric_queries(), cached.backend_factory(world.backend):
        yield AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()


def charts_by_title(at: AppTest) -> dict[str, list[dict[str, Any]]]:
    """Every Altair chart on the page, by title, with the rows Streamlit sent the browser."""
    found: dict[str, list[dict[str, Any]]] = {}
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        titles = [spec.get("title")] + [layer.get("title") for layer in spec.get("layer", [])]
        title = next(t for t in titles if t)
        rows = [
            row
            for dataset in element.proto.datasets
            for row in pa.ipc.open_stream(dataset.data.data).read_all().to_pylist()
        ]
        found[str(title.get("text") if isinstance(title, dict) else title)] = rows
    return found


def test_cost_chart_renders_from_the_stored_metrics_of_every_finished_workflow(
    comparison: AppTest, world: World, dynamodb
) -> None:
    # GIVEN a failed workflow whose METRICS item the collector wrote too
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"sf#UPLOAD#{world.uploads['failed']}"},
            "sk": {"S": "METRICS"},
            "cost": {"M": {"orchestration": {"N": "0.000075"}, "compute": {"N": "0.00001"}}},
            "cost_total_usd": {"N": "0.000085"},
            "cost_orchestration_usd": {"N": "0.000085"},
            "cost_shared_usd": {"N": "0"},
        },
    )
    cached.clear_reads()

    at = comparison.switch_page("views/comparison.py").run()

    assert not at.exception
    assert any("Means over 2 finished workflows" in c.value for c in at.caption)
    rows = charts_by_title(at)["Cost per workflow (mean USD, stored by each finished workflow)"]
    by_component = {row["component"]: row for row in rows}
    assert by_component["orchestration"]["usd"] == pytest.approx((0.000275 + 0.000075) / 2)
    assert by_component["vision"]["kind"] == "shared"
    table = next(d.value for d in at.dataframe if "Total (USD)" in d.value.columns)
    assert list(table["Orchestrator"]) == [SF.label]
    assert list(table["Workflows"]) == [2]
    assert table["Total (USD)"][0] == pytest.approx((0.000475 + 0.000085) / 2)


def test_cloudwatch_charts_render_both_namespaces_from_moto(comparison: AppTest) -> None:
    # GIVEN both namespaces hold the workflows' and the collector's figures of the last hour
    client = boto3.client("cloudwatch", region_name="us-east-1")
    when = datetime.now(UTC) - timedelta(minutes=10)
    figures = {Pattern.STEP_FUNCTIONS: (3, 1, 0.00047, 4), Pattern.DURABLE: (4, 0, 0.00031, 2)}
    for pattern, (completed, failed, cost, cold) in figures.items():
        client.put_metric_data(
            Namespace=pattern.metric_namespace,
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": "Service", "Value": "album-registration"}],
                    "Timestamp": when,
                    "Value": float(value),
                    "Unit": "Count" if name != "CostPerWorkflow" else "None",
                }
                for name, value in (
                    ("WorkflowsCompleted", completed),
                    ("WorkflowsFailed", failed),
                    ("CostPerWorkflow", cost),
                    ("ColdStarts", cold),
                )
            ],
        )
    cached.clear_reads()

    # WHEN the page shows the last hour
    at = comparison.switch_page("views/comparison.py").run()
    at = at.segmented_control(key="cloudwatch-window").set_value("Last hour").run()

    # THEN each figure is drawn for both patterns on the window's time axis
    assert not at.exception
    specs = charts_by_title(at)
    wanted = {series.title for series in cloudwatch.SERIES if not cloudwatch.is_percentile(series)}
    assert wanted | {"Success rate"} <= set(specs)
    drawn = specs["Workflows completed"]
    assert {(row["pattern"], row["value"]) for row in drawn} == {
        (Pattern.STEP_FUNCTIONS.label, 3.0),
        (Pattern.DURABLE.label, 4.0),
    }
    rates = {row["pattern"]: row["value"] for row in specs["Success rate"]}
    assert rates == {Pattern.STEP_FUNCTIONS.label: 0.75, Pattern.DURABLE.label: 1.0}
    cold_starts = {row["pattern"]: row["value"] for row in specs["Cold starts"]}
    assert cold_starts == {Pattern.STEP_FUNCTIONS.label: 4.0, Pattern.DURABLE.label: 2.0}
