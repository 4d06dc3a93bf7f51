"""What the two CloudWatch namespaces say over a window: one ``GetMetricData`` for both patterns.

Per pattern and interval: workflows completed and failed (the workflows' own counts), the
success rate derived from them, p50 and p95 of the active duration, the mean cost per workflow
and the cold starts (the collector's figures). Plain data: must not import Streamlit; the page
draws it with ``albumreg.dashboard.charts.cloudwatch_chart``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from handlers.adapters.metrics import SERVICE, SERVICE_DIMENSION
from handlers.domain.tenant import PATTERNS, Pattern

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient


@dataclass(frozen=True)
class Window:
    """A time range to look back over, and the interval each point covers."""

    label: str
    span: timedelta
    period_seconds: int


WINDOWS: dict[str, Window] = {
    window.label: window
    for window in (
        Window("Last hour", timedelta(hours=1), 300),
        Window("Last day", timedelta(days=1), 3600),
        Window("Last week", timedelta(days=7), 6 * 3600),
    )
}


@dataclass(frozen=True)
class Series:
    """One figure per pattern, as queried: CloudWatch metric, statistic, axis title."""

    key: str
    metric: str
    stat: str
    title: str
    unit: str


SERIES: tuple[Series, ...] = (
    Series("completed", "WorkflowsCompleted", "Sum", "Workflows completed", "workflows"),
    Series("failed", "WorkflowsFailed", "Sum", "Workflows failed", "workflows"),
    Series("active_p50", "ActiveDuration", "p50", "Active duration p50", "seconds"),
    Series("active_p95", "ActiveDuration", "p95", "Active duration p95", "seconds"),
    Series("cost", "CostPerWorkflow", "Average", "Cost per workflow (mean)", "USD"),
    Series("cold_starts", "ColdStarts", "Sum", "Cold starts", "cold invocations"),
)
SUCCESS_RATE = Series("success_rate", "", "", "Success rate", "completed / (completed + failed)")
"""Derived here per interval from the two counts, not queried."""


@dataclass(frozen=True)
class Point:
    """One value of one figure for one pattern and interval."""

    pattern: Pattern
    key: str
    at: datetime
    value: float


@dataclass(frozen=True)
class Readings:
    """Everything one window showed.

    Attributes:
        window: what was asked.
        start: the window's start (a shared axis begins here).
        end: its end.
        points: every value, all figures and both patterns.
        percentiles: whether p50 and p95 were asked for (the local cloud's CloudWatch,
            moto, computes no percentile statistics).
    """

    window: Window
    start: datetime
    end: datetime
    points: list[Point]
    percentiles: bool

    def of(self, key: str) -> list[Point]:
        """The points of one figure, oldest first."""
        return sorted((p for p in self.points if p.key == key), key=lambda p: p.at)


def _query_id(pattern: Pattern, series: Series) -> str:
    # Ids must start with a lower-case letter and hold only letters, digits and underscores.
    return f"{pattern.value}_{series.key}"


def is_percentile(series: Series) -> bool:
    """``p50``, ``p95``: statistics CloudWatch computes from the samples' distribution."""
    return series.stat.startswith("p")


def queries(window: Window, asked: tuple[Series, ...] = SERIES) -> list[dict[str, Any]]:
    """The ``MetricDataQueries``: each of ``asked`` for both namespaces."""
    return [
        {
            "Id": _query_id(pattern, series),
            "Label": f"{pattern.label} {series.title}",
            "MetricStat": {
                "Metric": {
                    "Namespace": pattern.metric_namespace,
                    "MetricName": series.metric,
                    "Dimensions": [{"Name": SERVICE_DIMENSION, "Value": SERVICE}],
                },
                "Period": window.period_seconds,
                "Stat": series.stat,
            },
            "ReturnData": True,
        }
        for pattern in PATTERNS
        for series in asked
    ]


def read(
    client: CloudWatchClient,
    window: Window,
    now: datetime | None = None,
    *,
    percentiles: bool = True,
) -> Readings:
    """Query both namespaces over ``window`` ending ``now`` (pages followed).

    Args:
        client: CloudWatch (AWS, or the local cloud's).
        window: how far back, and the interval of each point.
        now: the window's end; the current time by default.
        percentiles: ask for p50 and p95 too; the local cloud's CloudWatch cannot answer them.
    """
    end = now or datetime.now(UTC)
    start = end - window.span
    asked = tuple(s for s in SERIES if percentiles or not is_percentile(s))
    by_id = {_query_id(p, s): (p, s) for p in PATTERNS for s in asked}
    points: list[Point] = []
    paginator = client.get_paginator("get_metric_data")
    for page in paginator.paginate(
        MetricDataQueries=queries(window, asked),  # type: ignore[arg-type]
        StartTime=start,
        EndTime=end,
        ScanBy="TimestampAscending",
    ):
        for result in page.get("MetricDataResults", []):
            pattern, series = by_id[result["Id"]]
            for at, value in zip(
                result.get("Timestamps", []), result.get("Values", []), strict=False
            ):
                points.append(Point(pattern, series.key, at, float(value)))
    points += success_rates(points)
    return Readings(window, start, end, points, percentiles)


def success_rates(points: list[Point]) -> list[Point]:
    """Completed over completed plus failed, per pattern and interval with either."""
    counts: dict[tuple[Pattern, datetime], dict[str, float]] = defaultdict(dict)
    for point in points:
        if point.key in ("completed", "failed"):
            counts[(point.pattern, point.at)][point.key] = point.value
    rates = []
    for (pattern, at), found in counts.items():
        decided = found.get("completed", 0.0) + found.get("failed", 0.0)
        if decided:
            rates.append(
                Point(pattern, SUCCESS_RATE.key, at, found.get("completed", 0.0) / decided)
            )
    return rates
