"""Duplicates and replays against both orchestrators: one set of records, one review, one final
status per pattern, however often an event arrives and wherever a Lambda crashes after its
writes (Step Functions ``Retry``; the durable SDK's replay of a failed attempt).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from handlers.domain.models import ReviewDecision, ReviewState, WorkflowStatus
from handlers.domain.names import Step
from handlers.domain.policy import EXTRACT_RETRY, REVIEW_REQUEST_RETRY, STORE_RETRY
from handlers.domain.reviews import submit_review
from tests.functional.conftest import TABLE, Workbench, swapped
from tests.functional.reliability.patterns import (
    COMPLETED,
    DUPLICATE,
    ONE_SET_OF_RECORDS,
    CheckedRecognizer,
    DurableOrchestration,
    Orchestration,
    SfOrchestration,
    item_keys,
    jpeg,
    upload_id_of,
    wait_for_review,
)

APPROVE_1960 = ReviewDecision.model_validate(
    {"action": "approve", "corrections": [{"slot": 1, "year": 1960}], "reviewer": "ana"}
)


@pytest.fixture
def recognizer(workbench: Workbench) -> Iterator[CheckedRecognizer]:
    """A counted model behind the real image checks, installed for every handler."""
    counted = CheckedRecognizer()
    with swapped(workbench, recognizer=counted):
        yield counted


def approve(orchestration: Orchestration, bench: Workbench, upload_id: str) -> None:
    submit_review(
        orchestration.pattern,
        upload_id,
        APPROVE_1960,
        repo=bench.repo,
        inbox=orchestration.inbox(),
        clock=bench.deps.clock,
    )


def assert_one_completed_upload(
    orchestration: Orchestration, bench: Workbench, dynamodb: Any, upload_id: str, winner: str
) -> None:
    """One set of items, the reviewed year applied once, owned by the winning execution."""
    assert item_keys(dynamodb, TABLE, orchestration.pattern, upload_id) == ONE_SET_OF_RECORDS
    record = bench.repo.get_upload(orchestration.pattern, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    assert record.summary.execution_id == winner
    assert record.review is not None
    assert record.review.state is ReviewState.APPROVED
    assert record.albums[0].year == 1960
    assert [summary.upload_id for summary in _listed(bench, orchestration)].count(upload_id) == 1


def _listed(bench: Workbench, orchestration: Orchestration):
    return [
        summary
        for status in WorkflowStatus
        for summary in bench.repo.list_uploads(orchestration.pattern, status)
    ]


def test_same_event_delivered_twice_gives_one_set_of_records(
    orchestration: Orchestration, workbench: Workbench, recognizer: CheckedRecognizer, dynamodb
) -> None:
    # GIVEN one execution waiting at the review
    event = workbench.upload("uploads/shelf.jpg", jpeg())
    upload_id = upload_id_of(event)
    first = orchestration.start(event, "first")
    review = wait_for_review(workbench.repo, orchestration.pattern, upload_id)

    # WHEN the same event is delivered again
    second = orchestration.start(event, "second")
    duplicate = orchestration.finish(second)

    # THEN the second execution ends as a duplicate without a model call or a write
    assert orchestration.outcome(second, duplicate) == DUPLICATE
    assert recognizer.model_calls == 1
    assert workbench.repo.get_review(orchestration.pattern, upload_id) == review
    approve(orchestration, workbench, upload_id)
    assert orchestration.outcome(first, orchestration.finish(first)) == COMPLETED
    assert_one_completed_upload(orchestration, workbench, dynamodb, upload_id, first)


def test_same_event_delivered_after_completion_changes_nothing(
    orchestration: Orchestration, workbench: Workbench, recognizer: CheckedRecognizer
) -> None:
    event = workbench.upload("uploads/shelf.jpg", jpeg())
    upload_id = upload_id_of(event)
    first = orchestration.start(event, "first")
    wait_for_review(workbench.repo, orchestration.pattern, upload_id)
    approve(orchestration, workbench, upload_id)
    orchestration.finish(first)
    before = workbench.repo.get_upload(orchestration.pattern, upload_id)

    late = orchestration.start(event, "late")

    assert orchestration.outcome(late, orchestration.finish(late)) == DUPLICATE
    assert workbench.repo.get_upload(orchestration.pattern, upload_id) == before
    assert recognizer.model_calls == 1


def test_same_event_delivered_concurrently_one_execution_wins(
    orchestration: Orchestration, workbench: Workbench, recognizer: CheckedRecognizer, dynamodb
) -> None:
    # GIVEN the same event delivered twice at the same moment
    event = workbench.upload("uploads/shelf.jpg", jpeg())
    upload_id = upload_id_of(event)
    start = threading.Barrier(2)
    handles: list[str] = []

    def deliver(name: str) -> None:
        start.wait()
        handles.append(orchestration.start(event, name))

    threads = [threading.Thread(target=deliver, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(handles) == 2

    # WHEN the winner's review is approved
    review = wait_for_review(workbench.repo, orchestration.pattern, upload_id)
    approve(orchestration, workbench, upload_id)
    outcomes = {
        handle: orchestration.outcome(handle, orchestration.finish(handle)) for handle in handles
    }

    # THEN one completed, the other ended as a duplicate, and one set of records exists
    assert sorted(outcomes.values()) == sorted([COMPLETED, DUPLICATE])
    winner = next(handle for handle, outcome in outcomes.items() if outcome == COMPLETED)
    assert recognizer.model_calls == 1
    assert review.token
    assert_one_completed_upload(orchestration, workbench, dynamodb, upload_id, winner)


class CrashOnce:
    """Wraps a domain step: the first call does its work, then the Lambda "crashes"."""

    def __init__(self, error: Callable[[str], Exception]) -> None:
        self.error = error
        self.calls = 0
        self.finished = 0
        self._lock = threading.Lock()

    def __call__(self, step: Callable[..., Any]) -> Callable[..., Any]:
        def crashing(*args: Any, **kwargs: Any) -> Any:
            result = step(*args, **kwargs)
            with self._lock:
                self.calls += 1
                first = self.calls == 1
                self.finished += 1
            if first:
                raise self.error("the function's runtime died after the step's writes")
            return result

        return crashing

    def wait_for_retry(self, timeout: float = 10.0) -> None:
        """Until the retried call has done its work (a retried review stores a new token)."""
        deadline = time.monotonic() + timeout
        while self.finished < 2:
            assert time.monotonic() < deadline, "the crashed step was not retried"
            time.sleep(0.02)


CRASH_POLICIES = {
    Step.EXTRACT: EXTRACT_RETRY,
    Step.REVIEW: REVIEW_REQUEST_RETRY,
    Step.STORE: STORE_RETRY,
}


@pytest.mark.parametrize("step", [Step.EXTRACT, Step.REVIEW, Step.STORE], ids=str)
def test_crash_after_side_effect_is_retried_to_one_set_of_records(
    step: Step,
    orchestration: Orchestration,
    workbench: Workbench,
    recognizer: CheckedRecognizer,
    monkeypatch: pytest.MonkeyPatch,
    dynamodb,
) -> None:
    # GIVEN a step whose first run does its writes and then dies before reporting success
    crash = CrashOnce(orchestration.crash_error)
    orchestration.patch_step(monkeypatch, step, crash)
    event = workbench.upload("uploads/shelf.jpg", jpeg())
    upload_id = upload_id_of(event)

    # WHEN the workflow runs, and its review is approved once the retry settled
    handle = orchestration.start(event)
    wait_for_review(workbench.repo, orchestration.pattern, upload_id)
    if step is Step.REVIEW:
        crash.wait_for_retry()
    approve(orchestration, workbench, upload_id)
    ending = orchestration.finish(handle)

    # THEN the step ran twice, as the retry policy allows, and everything stored once
    assert orchestration.outcome(handle, ending) == COMPLETED
    assert crash.calls == 2
    assert_one_completed_upload(orchestration, workbench, dynamodb, upload_id, handle)
    assert recognizer.model_calls == (2 if step is Step.EXTRACT else 1)
    if isinstance(orchestration, SfOrchestration):
        assert orchestration.task_attempts(handle, step) == 2
        assert orchestration.delays.requested == [CRASH_POLICIES[step].delay_before(1)]
    elif step is not Step.REVIEW:
        assert isinstance(orchestration, DurableOrchestration)
        assert orchestration.step_attempts(handle, step) == 2
