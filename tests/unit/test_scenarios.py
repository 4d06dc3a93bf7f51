"""Failure scenarios: their names, what they inject, and the figures a scenario run reports."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from albumreg.cloud.fake_discogs import Knobs
from albumreg.tools.failure_costs import extra_cost, failure_rows, retry_count, scenario_figures
from albumreg.tools.scenarios import (
    BASELINE,
    SCENARIOS,
    FaultyRecognizer,
    Scenario,
    VisionFault,
    select,
)
from handlers.domain.errors import RecognitionError, TransientError
from handlers.domain.models import Extraction
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics
from tests.conftest import make_extraction

NAMES = [
    "happy",
    "pricing-flaky",
    "pricing-429",
    "pricing-outage",
    "vision-throttled",
    "review-timeout",
    "review-rejected",
    "extract-failure",
]


class Counting:
    """A recognizer that counts the calls that reach it."""

    def __init__(self) -> None:
        self.calls = 0

    def recognize(self, image: bytes) -> Extraction:
        self.calls += 1
        return make_extraction()


def by_name(name: str) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


def test_every_scenario_the_bench_promises_exists_with_happy_first() -> None:
    assert [s.name for s in SCENARIOS] == NAMES
    assert SCENARIOS[0].name == BASELINE


def test_all_selects_every_scenario() -> None:
    assert [s.name for s in select("all")] == NAMES


def test_a_comma_list_adds_happy_and_keeps_the_documented_order() -> None:
    chosen = select(" extract-failure,pricing-429 ")

    assert [s.name for s in chosen] == ["happy", "pricing-429", "extract-failure"]


@pytest.mark.parametrize("spec", ["", "pricing-slow", "happy,nope"])
def test_an_unknown_name_is_refused_with_the_known_ones(spec: str) -> None:
    with pytest.raises(ValueError, match="pricing-flaky"):
        select(spec)


@pytest.mark.parametrize(
    ("name", "knob", "value"),
    [
        ("pricing-flaky", "error_rate", 0.2),
        ("pricing-429", "rate_limit", 0.3),
        ("pricing-outage", "error_rate", 1.0),
        ("happy", "error_rate", 0.0),
    ],
)
def test_pricing_scenarios_set_the_api_knobs_and_keep_the_bench_latency(
    name: str, knob: str, value: float
) -> None:
    knobs = by_name(name).knobs(latency=0.25)

    assert isinstance(knobs, Knobs)
    assert getattr(knobs, knob) == value
    assert knobs.latency == 0.25


def test_pricing_429_answers_with_a_short_retry_after() -> None:
    assert by_name("pricing-429").knobs(0.0).retry_after == 1


@pytest.mark.parametrize(
    ("name", "review", "timeout"),
    [
        ("review-timeout", "wait", 5),
        ("review-rejected", "reject", None),
        ("happy", "approve", None),
    ],
)
def test_review_scenarios_set_what_the_reviewer_does(
    name: str, review: str, timeout: int | None
) -> None:
    scenario = by_name(name)

    assert (scenario.review, scenario.review_timeout_seconds) == (review, timeout)


def test_scenarios_without_a_vision_fault_leave_the_recognizer_alone(tmp_path: Path) -> None:
    assert by_name("happy").injector(tmp_path) is None
    assert by_name("pricing-outage").injector(tmp_path) is None


def test_throttling_fails_the_first_calls_of_each_photo_across_processes(tmp_path: Path) -> None:
    # GIVEN two recognizers as two worker processes would build them from one pickled injector
    injector = by_name("vision-throttled").injector(tmp_path)
    assert injector is not None
    inner = Counting()
    # Our own bytes, round-tripped as the worker service sends them.
    first, second = (pickle.loads(pickle.dumps(injector))(inner) for _ in range(2))  # noqa: S301

    # WHEN each process recognizes the same photo twice
    outcomes = []
    for recognizer in (first, second, first, second):
        try:
            recognizer.recognize(b"photo A")
            outcomes.append("ok")
        except TransientError:
            outcomes.append("throttled")

    # THEN only the photo's first two calls were throttled, whichever process made them
    assert outcomes == ["throttled", "throttled", "ok", "ok"]
    assert inner.calls == 2


def test_each_photo_is_throttled_on_its_own(tmp_path: Path) -> None:
    recognizer = FaultyRecognizer(Counting(), VisionFault(throttled_calls=1), tmp_path)

    with pytest.raises(TransientError):
        recognizer.recognize(b"photo A")
    with pytest.raises(TransientError):
        recognizer.recognize(b"photo B")
    recognizer.recognize(b"photo A")


def test_a_broken_model_fails_every_call_for_good(tmp_path: Path) -> None:
    injector = by_name("extract-failure").injector(tmp_path)
    assert injector is not None
    inner = Counting()
    recognizer = injector(inner)

    for _ in range(3):
        with pytest.raises(RecognitionError):
            recognizer.recognize(b"photo")
    assert inner.calls == 0


# --- the figures of a scenario run ---


def workflow(status: str, **values: object) -> WorkflowMetrics:
    return WorkflowMetrics.model_validate({"workflow_status": status, **values})


def test_figures_count_every_outcome_and_take_medians_and_the_mean_cost() -> None:
    workflows = [
        workflow("COMPLETED", active_seconds=2.0, billed_units=11, cost_total_usd=0.0006,
                 retries={"price-album": 2}, lambda_invocations=9),
        workflow("COMPLETED", active_seconds=4.0, billed_units=13, cost_total_usd=0.0008,
                 retries={"price-album": 4, "extract-albums": 1}, lambda_invocations=11),
        workflow("FAILED", active_seconds=1.0, billed_units=3, cost_total_usd=0.0001,
                 retries={}, lambda_invocations=2),
        workflow("REJECTED", active_seconds=3.0, billed_units=4, cost_total_usd=0.0002,
                 retries={}, lambda_invocations=3),
    ]  # fmt: skip

    figures = scenario_figures(workflows, lost=1, unfinished=2)

    assert (figures["completed"], figures["failed"], figures["rejected"]) == (2, 1, 1)
    assert (figures["lost"], figures["unfinished"]) == (1, 2)
    assert figures["active_p50_s"] == pytest.approx(2.5)
    assert figures["billed_units_p50"] == pytest.approx(7.5)
    assert figures["retries_p50"] == pytest.approx(1.0)  # retries 2, 5, 0, 0
    assert figures["lambda_invocations_p50"] == pytest.approx(6.0)
    assert figures["cost_per_workflow_usd"] == pytest.approx(0.000425)


def test_retries_are_unknown_when_the_metrics_do_not_record_them() -> None:
    assert retry_count(WorkflowMetrics(billed_units=11)) is None
    assert scenario_figures([workflow("COMPLETED", billed_units=11)], lost=0)["retries_p50"] is None


def test_failure_rows_show_each_figure_and_its_change_from_happy() -> None:
    scenarios: dict[str, Any] = {
        "happy": {
            "sf": {"completed": 2, "billed_units_p50": 11, "cost_per_workflow_usd": 0.0006},
            "ldf": {"completed": 2, "billed_units_p50": 13, "cost_per_workflow_usd": 0.0002},
        },
        "pricing-outage": {
            "sf": {"completed": 2, "billed_units_p50": 23, "cost_per_workflow_usd": 0.0009},
            "ldf": {"completed": 1, "lost": 1, "billed_units_p50": 25,
                    "cost_per_workflow_usd": None},
        },
    }  # fmt: skip

    rows = failure_rows(scenarios)

    assert [(r.scenario, r.pattern) for r in rows] == [
        ("happy", Pattern.STEP_FUNCTIONS),
        ("happy", Pattern.DURABLE),
        ("pricing-outage", Pattern.STEP_FUNCTIONS),
        ("pricing-outage", Pattern.DURABLE),
    ]
    assert rows[0].figures["billed_units_p50"] == (11.0, None)
    assert rows[2].figures["billed_units_p50"] == (23.0, 12.0)
    assert rows[2].figures["cost_per_workflow_usd"][1] == pytest.approx(0.0003)
    assert rows[3].figures["cost_per_workflow_usd"] == (None, None)
    assert rows[3].outcomes == "1 completed, 1 lost"
    assert extra_cost(scenarios, "pricing-outage", Pattern.STEP_FUNCTIONS) == pytest.approx(0.0003)
    assert extra_cost(scenarios, "pricing-outage", Pattern.DURABLE) is None
