"""The CloudWatch queries of the Comparison page: both namespaces, valid ids, derived rates."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from albumreg.dashboard.data.cloudwatch import (
    SERIES,
    WINDOWS,
    Point,
    is_percentile,
    queries,
    success_rates,
)
from handlers.domain.tenant import Pattern

SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_queries_ask_each_figure_of_both_namespaces_with_the_service_dimension() -> None:
    asked = queries(WINDOWS["Last day"])
    assert len(asked) == 2 * len(SERIES)
    for query in asked:
        # GetMetricData ids: a lower-case letter first, then letters, digits and underscores.
        assert re.fullmatch(r"[a-z][A-Za-z0-9_]*", query["Id"])
        metric = query["MetricStat"]["Metric"]
        assert metric["Dimensions"] == [{"Name": "Service", "Value": "album-registration"}]
        assert query["MetricStat"]["Period"] == 3600
    assert {q["MetricStat"]["Metric"]["Namespace"] for q in asked} == {
        SF.metric_namespace,
        LDF.metric_namespace,
    }
    stats = {q["MetricStat"]["Stat"] for q in asked}
    assert {"p50", "p95", "Sum", "Average"} <= stats


def test_without_percentiles_no_percentile_is_asked() -> None:
    kept = tuple(s for s in SERIES if not is_percentile(s))
    assert {q["MetricStat"]["Stat"] for q in queries(WINDOWS["Last hour"], kept)} == {
        "Sum",
        "Average",
    }


def test_success_rate_is_completed_over_decided_per_pattern_and_interval() -> None:
    points = [
        Point(SF, "completed", AT, 3.0),
        Point(SF, "failed", AT, 1.0),
        Point(LDF, "completed", AT, 2.0),
        Point(LDF, "cost", AT, 0.0004),
    ]
    rates = {(p.pattern, p.at): p.value for p in success_rates(points)}
    assert rates == {(SF, AT): 0.75, (LDF, AT): 1.0}
