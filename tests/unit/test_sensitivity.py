"""The sensitivity curves: the cost model applied to measured usage, varied along one axis."""

from __future__ import annotations

from decimal import Decimal

import pytest

from albumreg.tools.report_summary import failure_sentence, flip_sentences
from albumreg.tools.sensitivity import (
    LATENCIES_S,
    REVIEW_WAITS_S,
    Measured,
    Point,
    break_even,
    cost_at_latency,
    cost_at_review_wait,
    curve,
    describe,
    latency_label,
    measured,
    wait_label,
)
from handlers.domain.cost import US_EAST_1, workflow_cost
from handlers.domain.tenant import Pattern
from handlers.domain.usage import GB, Usage
from handlers.domain.workflow_metrics import WorkflowMetrics

SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE
ARM = US_EAST_1.duration("arm64").usd


def start(pattern: Pattern, **usage: object) -> Measured:
    return Measured(
        usage=Usage(pattern=pattern, lambda_gb_seconds=Decimal(4), **usage),  # type: ignore[arg-type]
        memory_gb=Decimal("1"),
        requests_per_agent=3.0,
        active_seconds=60.0,
        price_latency_s=0.5,
    )


def test_the_axes_span_the_ranges_the_report_promises() -> None:
    assert (LATENCIES_S[0], LATENCIES_S[-1]) == (0.1, 10.0)
    assert (REVIEW_WAITS_S[0], REVIEW_WAITS_S[-1]) == (60, 7 * 86_400)


def test_latency_bills_six_waiting_invocations_on_step_functions_and_one_durable() -> None:
    # GIVEN the same usage measured at 0.5 s, three requests per agent, 1 GB of memory
    sf, ldf = start(SF), start(LDF)

    # WHEN every request takes 1.5 s instead (one more second)
    sf_extra = cost_at_latency(sf, 1.5, US_EAST_1) - cost_at_latency(sf, 0.5, US_EAST_1)
    ldf_extra = cost_at_latency(ldf, 1.5, US_EAST_1) - cost_at_latency(ldf, 0.5, US_EAST_1)

    # THEN six agents x three requests x 1 s are billed in sf, three seconds once in ldf
    assert sf_extra == pytest.approx(float(6 * 3 * 1 * ARM))
    assert ldf_extra == pytest.approx(float(3 * 1 * ARM))


def test_latency_below_the_measured_one_never_bills_negative_duration() -> None:
    tiny = start(SF)

    assert cost_at_latency(tiny, 0.0, US_EAST_1) >= float(
        workflow_cost(Usage(pattern=SF), US_EAST_1).total
    )


def test_review_wait_costs_step_functions_nothing_and_durable_its_retention() -> None:
    sf = start(SF, state_transitions=11)
    written = 10 * 1024 * 1024
    ldf = start(LDF, durable_operations=13, durable_bytes_written=written, durable_retention_days=7)

    sf_week = cost_at_review_wait(sf, 7 * 86_400, US_EAST_1)
    sf_minute = cost_at_review_wait(sf, 60, US_EAST_1)
    ldf_extra = cost_at_review_wait(ldf, 7 * 86_400, US_EAST_1) - cost_at_review_wait(
        ldf, 60, US_EAST_1
    )

    assert sf_week == sf_minute
    # GB x (seven days minus one minute) / 30-day month x the GB-month price
    days = Decimal(7) - Decimal(60) / 86_400
    expected = Decimal(written) / GB * days / 30 * US_EAST_1.durable_gb_month_retained.usd
    assert ldf_extra == pytest.approx(float(expected))


def test_break_even_is_interpolated_between_the_points_around_the_crossing() -> None:
    points = [
        Point(SF, 1.0, 1.0),
        Point(LDF, 1.0, 3.0),
        Point(SF, 2.0, 3.0),
        Point(LDF, 2.0, 3.0),
        Point(SF, 3.0, 5.0),
        Point(LDF, 3.0, 3.0),
    ]

    assert break_even(points) == [2.0]
    assert break_even([Point(SF, 0.0, 0.0), Point(LDF, 0.0, 2.0), Point(SF, 4.0, 4.0),
                       Point(LDF, 4.0, 2.0)]) == [2.0]  # fmt: skip


def test_a_crossing_is_named_with_who_wins_on_each_side() -> None:
    points = [Point(SF, 1.0, 1.0), Point(LDF, 1.0, 2.0), Point(SF, 3.0, 3.0), Point(LDF, 3.0, 2.0)]

    text = describe(points, "Price API latency", latency_label)

    assert text == (
        "Price API latency: the two break even at 2 s: Step Functions is cheaper below it, "
        "Durable functions above it."
    )


def test_no_crossing_says_who_stays_cheaper_and_where_the_lines_would_meet() -> None:
    points = [Point(SF, 1.0, 5.0), Point(LDF, 1.0, 1.0), Point(SF, 2.0, 5.0), Point(LDF, 2.0, 2.0)]

    text = describe(points, "Price API latency", latency_label)

    # The gap is 4 at 1 s and 3 at 2 s: closing by 1 a second, it would close at 5 s.
    assert text == (
        "Price API latency: no break-even between 1 s and 2 s; the cheaper one throughout is "
        "Durable functions, by $4.000000 at 1 s and by $3.000000 at 2 s (going on straight, "
        "the two would meet near 5 s)."
    )


def test_wait_labels_read_as_minutes_hours_days_and_years() -> None:
    assert [wait_label(s) for s in (60, 5400, 2 * 86_400, 800 * 86_400)] == [
        "1 min",
        "1.5 h",
        "2 days",
        "2.19 years",
    ]


def test_measured_starting_point_reads_memory_and_requests_per_agent() -> None:
    completed = [
        WorkflowMetrics.model_validate(values)
        for values in (
            {
                "usage": {"lambda_gb_seconds": 4.0, "state_transitions": 11},
                "lambda_billed_ms": 2000,
                "pricing_requests": 18,
                "active_seconds": 3.0,
            },
            {
                "usage": {"lambda_gb_seconds": 6.0, "state_transitions": 13},
                "lambda_billed_ms": 6000,
                "pricing_requests": 18,
                "active_seconds": 5.0,
            },
        )
    ]

    found = measured(SF, completed, price_latency_s=0.5)

    assert found is not None
    assert found.usage.state_transitions == 12
    assert found.memory_gb == Decimal("1.25")  # 5 GB-s over 4 s
    assert found.requests_per_agent == 3.0
    assert found.active_seconds == 4.0
    assert measured(SF, [], 0.5) is None


def test_curves_priced_from_measured_usage_feed_the_flip_sentences() -> None:
    starts = {SF: start(SF, state_transitions=11), LDF: start(LDF, durable_operations=13)}

    latency = curve(starts, LATENCIES_S, cost_at_latency, US_EAST_1)
    wait = curve(starts, REVIEW_WAITS_S, cost_at_review_wait, US_EAST_1)
    sentences = flip_sentences(latency, wait, None)

    assert len(latency) == 2 * len(LATENCIES_S)
    assert sentences[0].startswith("Price API latency:")
    assert sentences[1].startswith("Review wait:")
    assert "albumreg bench --scenarios all" in sentences[2]


def test_failure_sentence_counts_who_spends_less_extra_per_scenario() -> None:
    scenarios = {
        "happy": {"sf": {"cost_per_workflow_usd": 1.0}, "ldf": {"cost_per_workflow_usd": 1.0}},
        "pricing-outage": {
            "sf": {"cost_per_workflow_usd": 1.5},
            "ldf": {"cost_per_workflow_usd": 1.2},
        },
        "vision-throttled": {
            "sf": {"cost_per_workflow_usd": 1.1},
            "ldf": {"cost_per_workflow_usd": 1.3},
        },
        "extract-failure": {
            "sf": {"cost_per_workflow_usd": 0.2},
            "ldf": {"cost_per_workflow_usd": 0.1},
        },
    }

    text = failure_sentence(scenarios)

    assert text == (
        "When something fails, Durable functions spends less extra per workflow than happy in "
        "2 of 3 failure scenarios (the other way round in vision-throttled); the costliest "
        "failure "
        "is pricing-outage on Step Functions, $0.500000 more than a happy workflow."
    )
