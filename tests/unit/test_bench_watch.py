"""The bench's watch: late-but-moving vs stuck workflows, cold-start figures, a reviewer at pace."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from albumreg.tools.bench_watch import (
    PATIENCE_SECONDS,
    STALL_SECONDS,
    Patience,
    Reviewer,
    cold_start_figures,
)
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics

SF = Pattern.STEP_FUNCTIONS


def test_patience_waits_until_the_deadline_whatever_the_status() -> None:
    patience = Patience(deadline=100.0)

    assert patience.judge(SF, "RECEIVED", run_progressed=0.0, now=50.0) == "waiting"
    assert patience.judge(SF, "RECEIVED", run_progressed=0.0, now=100.0) == "waiting"


def test_patience_calls_a_late_workflow_lost_once_nothing_has_moved_for_the_stall_time() -> None:
    patience = Patience(deadline=100.0)
    patience.judge(SF, "PRICING", run_progressed=0.0, now=90.0)

    assert patience.judge(SF, "PRICING", 0.0, now=90.0 + STALL_SECONDS - 1) == "waiting"
    assert patience.judge(SF, "PRICING", 0.0, now=90.0 + STALL_SECONDS + 1) == "lost"


def test_patience_keeps_waiting_while_the_run_progresses_then_calls_it_unfinished() -> None:
    patience = Patience(deadline=100.0)
    patience.judge(SF, "PRICING", run_progressed=0.0, now=90.0)
    late = 100.0 + PATIENCE_SECONDS

    # the workflow itself is queued, but others finish all the time
    assert patience.judge(SF, "PRICING", run_progressed=late - 1, now=late - 0.5) == "waiting"
    assert patience.judge(SF, "PRICING", run_progressed=late, now=late + 1) == "unfinished"


def test_patience_counts_a_status_change_as_progress() -> None:
    patience = Patience(deadline=100.0)
    patience.judge(SF, "PENDING_REVIEW", run_progressed=0.0, now=10.0)
    moved_at = 10.0 + STALL_SECONDS

    assert patience.judge(SF, "PRICING", run_progressed=0.0, now=moved_at) == "waiting"
    assert patience.judge(SF, "PRICING", 0.0, now=moved_at + STALL_SECONDS - 1) == "waiting"


def workflow(started: str, active: float, **metrics: Any) -> WorkflowMetrics:
    values = {"started_at": started, "active_seconds": active, **metrics}
    return WorkflowMetrics.model_validate(values)


def test_cold_start_figures_put_the_first_workflow_beside_the_rest() -> None:
    source = "local worker processes"
    completed = [
        workflow("2026-01-01T00:00:02", 4.0, cold_starts=1, init_durations_s=[0.2]),
        workflow("2026-01-01T00:00:01", 9.0, cold_starts=7, init_durations_s=[0.5] * 7),
        workflow("2026-01-01T00:00:03", 5.0, cold_starts=0, init_durations_s=[]),
    ]
    completed = [item.model_copy(update={"cold_start_source": source}) for item in completed]

    figures = cold_start_figures(completed)

    assert figures["cold_starts"] == 8
    assert figures["first_cold_starts"] == 7
    assert figures["first_init_s"] == pytest.approx(3.5)
    assert figures["rest_cold_starts"] == 1
    assert figures["rest_active_p50_s"] == pytest.approx(4.5)
    assert figures["init_p50_s"] == pytest.approx(0.5)
    assert figures["cold_start_source"] == source


def test_cold_start_figures_are_none_when_no_workflow_measured_them() -> None:
    figures = cold_start_figures([workflow("2026-01-01T00:00:01", 3.0)])

    assert figures["cold_starts"] is None
    assert figures["init_p50_s"] is None
    assert figures["first_cold_starts"] is None
    assert figures["rest_active_p50_s"] is None


class OpenReviews:
    """A repository whose open reviews are the given upload ids, for every pattern."""

    def __init__(self, upload_ids: list[str]) -> None:
        self.upload_ids = upload_ids

    def list_open_reviews(self, pattern: Pattern, limit: int = 50) -> list[Any]:
        return [SimpleNamespace(upload_id=upload_id) for upload_id in self.upload_ids[:limit]]


def test_reviewer_decides_each_claimed_review_once_and_several_at_a_time() -> None:
    uploads = [f"u{n}" for n in range(6)]
    claimed: set[tuple[Pattern, str]] = set()
    decided: list[tuple[Pattern, str]] = []
    running = 0
    most = 0
    lock = threading.Lock()

    def claim(pattern: Pattern, upload_id: str) -> bool:
        with lock:
            if (pattern, upload_id) in claimed:
                return False
            claimed.add((pattern, upload_id))
            return True

    def decide(pattern: Pattern, upload_id: str) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.3)
        with lock:
            running -= 1
            decided.append((pattern, upload_id))

    with Reviewer(OpenReviews(uploads), [SF], claim, decide, limit=50):  # type: ignore[arg-type]
        deadline = time.monotonic() + 10
        while len(decided) < len(uploads) and time.monotonic() < deadline:
            time.sleep(0.05)

    assert sorted(decided) == sorted((SF, upload_id) for upload_id in uploads)
    assert most > 1
