"""The Step Functions side executed for real: the ASL file runs in moto's interpreter and every
task runs the real handler in-process, over moto's DynamoDB and S3 with a fake model and API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handlers.domain.errors import RecognitionError, TransientError
from handlers.domain.events import parse_upload_event
from handlers.domain.models import ReviewDecision, ReviewState, WorkflowStatus
from handlers.domain.policy import EXTRACT_RETRY, PRICE_RETRY
from handlers.domain.tenant import Pattern
from tests.conftest import CATALOG_SIX, make_extraction
from tests.fakes import ScriptedPricing, ScriptedRecognizer
from tests.functional.conftest import Workbench, swapped
from tests.functional.sfn_harness import (
    SfnHarness,
    WriteCounter,
    deployed_state_machine,
    state_machine_account,
)

pytestmark = pytest.mark.pattern_sf

SF = Pattern.STEP_FUNCTIONS
HAPPY_PATH = [
    "extract-albums",
    "review-years",
    "review-outcome",
    "price-albums",
    *["price-album"] * 6,
    "store-results",
]
MAX_HAPPY_TRANSITIONS = 12
MAX_HAPPY_WRITES = 4


@pytest.fixture
def aws() -> Iterator[None]:
    """Overrides the plain moto account: this one executes state machines."""
    with state_machine_account():
        yield


@pytest.fixture
def harness(workbench: Workbench) -> Iterator[SfnHarness]:
    with deployed_state_machine(workbench) as harness:
        yield harness


def approve_with_corrected_year(harness: SfnHarness, event: dict[str, object]) -> None:
    review = harness.wait_for_review(event)
    decision = ReviewDecision.model_validate(
        {"action": "approve", "corrections": [{"slot": 3, "year": 1976}], "reviewer": "ana"}
    )
    harness.decide(review, decision)


def test_sfn_happy_path_completes_with_corrected_year(harness: SfnHarness, dynamodb) -> None:
    # GIVEN an upload and a counter on every DynamoDB write the handlers make
    event = harness.bench.upload()
    upload_id = parse_upload_event(event).upload_id
    writes = WriteCounter()
    dynamodb.meta.events.register("before-call.dynamodb.*", writes)

    # WHEN the execution runs and a person approves with one corrected year
    execution_arn = harness.start(event)
    approve_with_corrected_year(harness, event)
    described = harness.finish(execution_arn)

    # THEN the upload is COMPLETED under sf# with the corrected year and six prices
    assert described["status"] == "SUCCEEDED"
    record = harness.bench.repo.get_upload(SF, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    assert record.summary.execution_id == execution_arn
    assert [album.year for album in record.albums] == [1959, 1969, 1976, 1971, 1984, 1997]
    assert record.albums[2].extracted_year == CATALOG_SIX[2][2]
    assert all(album.price is not None for album in record.albums)
    assert record.review is not None
    assert record.review.state is ReviewState.APPROVED
    assert record.metrics is not None and record.metrics.execution_id == execution_arn
    assert harness.states_entered(execution_arn) == HAPPY_PATH

    transitions = harness.transitions(execution_arn)
    print(f"\nhappy path: {transitions} billed transitions, {writes.total} DynamoDB writes")
    assert transitions <= MAX_HAPPY_TRANSITIONS
    assert writes.total <= MAX_HAPPY_WRITES, writes.requests


def test_sfn_review_waits_as_long_as_configured(harness: SfnHarness) -> None:
    event = harness.bench.upload()
    execution_arn = harness.start(event)
    review = harness.wait_for_review(event)
    assert (review.expires_at - review.requested_at).total_seconds() == (
        harness.bench.deps.settings.review_timeout_seconds
    )
    harness.decide(review, ReviewDecision(action="approve"))
    assert harness.finish(execution_arn)["status"] == "SUCCEEDED"


def test_sfn_review_timeout_continues_with_extracted_albums(harness: SfnHarness) -> None:
    timeout = 2
    event = harness.bench.upload()
    with swapped(harness.bench, settings={"review_timeout_seconds": timeout}):
        execution_arn = harness.start(event)
        described = harness.finish(execution_arn, timeout=timeout + 15)

    assert described["status"] == "SUCCEEDED"
    record = harness.bench.repo.get_upload(SF, parse_upload_event(event).upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    assert record.review is not None
    assert record.review.state is ReviewState.TIMED_OUT
    assert [album.year for album in record.albums] == [year for _, _, year in CATALOG_SIX]
    history = harness.history(execution_arn)
    entered = {
        event["stateEnteredEventDetails"]["name"]: event["timestamp"]
        for event in history
        if event["type"].endswith("StateEntered")
    }
    waited = entered["record-review-timeout"] - entered["review-years"]
    assert timeout <= waited.total_seconds() < timeout + 5
    assert "review-outcome" not in entered


def test_sfn_rejected_review_ends_rejected_without_pricing(harness: SfnHarness) -> None:
    pricing = ScriptedPricing()
    event = harness.bench.upload()
    with swapped(harness.bench, pricing=pricing):
        execution_arn = harness.start(event)
        review = harness.wait_for_review(event)
        harness.decide(review, ReviewDecision(action="reject", comment="blurry photo"))
        described = harness.finish(execution_arn)

    assert described["status"] == "SUCCEEDED"
    record = harness.bench.repo.get_upload(SF, parse_upload_event(event).upload_id)
    assert record is not None
    assert (record.summary.status, record.summary.cause) == (
        WorkflowStatus.REJECTED,
        "blurry photo",
    )
    assert harness.states_entered(execution_arn)[-1] == "record-rejection"
    assert sum(pricing.calls.values()) == 0


def test_sfn_price_agent_failing_persistently_yields_error_estimate(harness: SfnHarness) -> None:
    pricing = ScriptedPricing(failing={4: TransientError("pricing API answered 503")})
    event = harness.bench.upload()
    with swapped(harness.bench, pricing=pricing):
        execution_arn = harness.start(event)
        approve_with_corrected_year(harness, event)
        described = harness.finish(execution_arn)

    assert described["status"] == "SUCCEEDED"
    record = harness.bench.repo.get_upload(SF, parse_upload_event(event).upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    priced = {album.slot: album.price for album in record.albums}
    assert [slot for slot, price in priced.items() if price is None] == [4]
    assert record.albums[3].price_error == "TransientError"
    assert pricing.calls[4] == PRICE_RETRY.max_attempts
    assert all(pricing.calls[slot] == 1 for slot in (1, 2, 3, 5, 6))
    entered = harness.states_entered(execution_arn)
    assert "price-album-failed" in entered
    # each retry is billed like a state entered
    assert harness.transitions(execution_arn) == len(entered) + PRICE_RETRY.retries


def test_sfn_extract_failing_persistently_stores_failed_with_cause(
    harness: SfnHarness,
) -> None:
    recognizer = ScriptedRecognizer(make_extraction(), error=TransientError("vision throttled"))
    event = harness.bench.upload()
    with swapped(harness.bench, recognizer=recognizer):
        execution_arn = harness.start(event)
        described = harness.finish(execution_arn)

    assert (described["status"], described["error"]) == ("FAILED", "TransientError")
    assert described["cause"] == "vision throttled"
    assert recognizer.calls == EXTRACT_RETRY.max_attempts
    record = harness.bench.repo.get_upload(SF, parse_upload_event(event).upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.FAILED
    assert (record.summary.error, record.summary.cause) == ("TransientError", "vision throttled")
    assert harness.states_entered(execution_arn)[-2:] == ["record-failure", "workflow-failed"]


def test_sfn_non_retryable_extract_error_is_not_retried(harness: SfnHarness) -> None:
    recognizer = ScriptedRecognizer(make_extraction(), error=RecognitionError("no answer"))
    event = harness.bench.upload()
    with swapped(harness.bench, recognizer=recognizer):
        described = harness.finish(harness.start(event))

    assert (described["status"], described["error"]) == ("FAILED", "RecognitionError")
    assert recognizer.calls == 1


def test_sfn_review_failed_from_outside_without_cause_stores_failed(harness: SfnHarness) -> None:
    event = harness.bench.upload()
    execution_arn = harness.start(event)
    review = harness.wait_for_review(event)
    harness.sfn.send_task_failure(taskToken=review.token, error="ReviewWithdrawn")
    described = harness.finish(execution_arn)

    assert (described["status"], described["error"]) == ("FAILED", "ReviewWithdrawn")
    record = harness.bench.repo.get_upload(SF, parse_upload_event(event).upload_id)
    assert record is not None
    assert (record.summary.status, record.summary.error) == (
        WorkflowStatus.FAILED,
        "ReviewWithdrawn",
    )


def test_sfn_duplicate_event_ends_without_writing(harness: SfnHarness, dynamodb) -> None:
    event = harness.bench.upload()
    first = harness.start(event, suffix="first")
    harness.wait_for_review(event)
    writes = WriteCounter()
    dynamodb.meta.events.register("before-call.dynamodb.*", writes)

    second = harness.start(event, suffix="second")
    described = harness.finish(second)

    assert described["status"] == "SUCCEEDED"
    assert harness.states_entered(second) == ["extract-albums", "duplicate-upload"]
    # the refused conditional claim is the only write request: no item changed
    assert writes.requests == {"PutItem": 1}
    assert harness.bench.recognizer.calls == 1
    record = harness.bench.repo.get_upload(SF, parse_upload_event(event).upload_id)
    assert record is not None
    assert record.summary.execution_id == first


def test_sfn_invalid_upload_is_recorded_rejected_and_succeeds(harness: SfnHarness) -> None:
    event = harness.bench.upload(key="uploads/notes.txt")
    described = harness.finish(harness.start(event))

    assert described["status"] == "SUCCEEDED"
    assert harness.states_entered(described["executionArn"]) == [
        "extract-albums",
        "upload-rejected",
    ]
    record = harness.bench.repo.get_upload(SF, parse_upload_event(event).upload_id)
    assert record is not None
    assert (record.summary.status, record.summary.error) == (
        WorkflowStatus.REJECTED,
        "InvalidUploadError",
    )
    assert harness.bench.recognizer.calls == 0
