"""Step timings read from recorded histories of real local runs (tests/events/history_*)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handlers.domain.names import Step
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import durable_timeline, state_transitions, step_functions_timeline

EVENTS = Path(__file__).parents[1] / "events"


def load(name: str) -> list[dict[str, Any]]:
    return json.loads((EVENTS / name).read_text())


def test_step_functions_happy_path_timeline() -> None:
    timeline = step_functions_timeline(load("history_sf_happy.json"))
    assert timeline.pattern is Pattern.STEP_FUNCTIONS
    assert timeline.status == "SUCCEEDED"
    assert [span.name for span in timeline.steps] == [
        "extract-albums",
        "review-years",
        "review-outcome",
        "price-albums",
        "store-results",
    ]
    assert len(timeline.agents) == 6
    assert timeline.billed_units == 11
    # review-years: entered 11:16:14.393, exited 11:16:16.012
    assert timeline.human_wait_seconds == pytest.approx(1.619)
    # execution 11:16:12.633 -> 11:16:16.626 = 3.993 s, minus the 1.619 s wait
    assert timeline.active_seconds == pytest.approx(3.993 - 1.619)
    # slowest agent: iteration 2, entered 16.030 (event 24), exited 16.434 (event 51) = 0.404 s;
    # price phase: 16.013 -> 16.448 = 0.435 s
    assert timeline.parallel_efficiency == pytest.approx(0.404 / 0.435)


def test_durable_happy_path_timeline() -> None:
    timeline = durable_timeline(load("history_ldf_happy.json"))
    assert timeline.pattern is Pattern.DURABLE
    assert timeline.status == "SUCCEEDED"
    assert [span.name for span in timeline.steps] == [
        Step.EXTRACT,
        Step.REVIEW,
        Step.PRICE,
        Step.STORE,
    ]
    assert sorted(span.name for span in timeline.agents) == [
        f"price-album-{i}" for i in range(1, 7)
    ]
    assert timeline.billed_units == 13
    # review-years context: 11:16:15.465690 -> 11:16:16.350006
    assert timeline.human_wait_seconds == pytest.approx(0.884316)
    assert timeline.step_seconds()[Step.EXTRACT] == pytest.approx(2.556045)


def test_unfinished_execution_has_open_steps() -> None:
    events = load("history_sf_happy.json")[:9]
    timeline = step_functions_timeline(events)
    assert timeline.status == "RUNNING"
    assert timeline.total_seconds is None
    review = timeline.step(Step.REVIEW)
    assert review is not None
    assert review.end is None


def test_state_transitions_count_retries() -> None:
    entered = {"type": "TaskStateEntered"}
    attempt = {"type": "LambdaFunctionScheduled"}
    assert state_transitions([entered, attempt]) == 1
    assert state_transitions([entered, attempt, attempt, attempt]) == 3
