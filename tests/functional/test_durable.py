"""The durable workflow under the testing SDK's in-process runner, beside moto's DynamoDB and S3."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.lambda_service import InvocationStatus, OperationStatus

from handlers import durable
from handlers.domain.errors import InvalidImageError, RecognitionError, TransientError
from handlers.domain.events import parse_upload_event
from handlers.domain.models import ReviewDecision, ReviewState, WorkflowStatus
from handlers.domain.names import (
    RECORD_FAILURE,
    RECORD_REJECTION,
    RECORD_TIMEOUT,
    Step,
    price_agent_name,
)
from handlers.domain.policy import (
    ALBUMS_PER_IMAGE,
    EXTRACT_RETRY,
    PRICE_RETRY,
    REVIEW_REQUEST_RETRY,
    STORE_RETRY,
    RetryPolicy,
)
from handlers.domain.tenant import Pattern
from handlers.wiring import dependencies
from tests.conftest import six_albums
from tests.fakes import ScriptedPricing
from tests.functional.conftest import TABLE, Workbench, swapped
from tests.functional.durable_harness import (
    DurableHarness,
    billed_operations,
    durable_runner,
    payload,
)

pytestmark = pytest.mark.pattern_ldf

LDF = Pattern.DURABLE
CORRECT_SLOT_3 = ReviewDecision.model_validate(
    {"action": "approve", "corrections": [{"slot": 3, "year": 1976}], "reviewer": "ana"}
)

HAPPY_PATH_OPERATIONS = (
    1  # the execution start
    + 1  # extract-albums
    + 3  # review-years: its context, the callback, the submitter step
    + 1  # price-albums (flat map: no context per iteration)
    + ALBUMS_PER_IMAGE  # one step per price agent
    + 1  # store-results
)


@pytest.fixture
def harness(workbench: Workbench):
    with durable_runner(durable.handler) as runner:
        yield DurableHarness(runner, workbench.deps)


def upload_id_of(event: dict[str, Any]) -> str:
    return parse_upload_event(event).upload_id


def table_items(dynamodb) -> list[str]:
    return sorted(
        json.dumps(item, sort_keys=True) for item in dynamodb.scan(TableName=TABLE)["Items"]
    )


def test_durable_happy_path_applies_corrected_year(harness: DurableHarness, workbench: Workbench):
    event = workbench.upload()
    upload_id = upload_id_of(event)

    arn = harness.start(event)
    callback_id = harness.wait_for_review(arn)
    review = workbench.repo.get_review(LDF, upload_id)
    assert review is not None
    assert review.token == callback_id
    assert review.state is ReviewState.OPEN
    harness.decide(upload_id, CORRECT_SLOT_3)
    result = harness.finish(arn)

    assert result.status is InvocationStatus.SUCCEEDED
    assert payload(result) == {
        "upload_id": upload_id,
        "status": "COMPLETED",
        "review": "APPROVED",
        "priced": 6,
        "unpriced": 0,
    }
    record = workbench.repo.get_upload(LDF, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    assert record.summary.execution_id == arn
    assert (record.albums[2].year, record.albums[2].extracted_year) == (1976, 1977)
    assert all(album.price == Decimal("20.00") for album in record.albums)
    assert record.review is not None
    assert (record.review.state, record.review.token) == (ReviewState.APPROVED, callback_id)
    assert record.metrics is not None and record.metrics.execution_id == arn
    assert workbench.metrics.emitted[-1] == (
        LDF,
        {
            "WorkflowsCompleted": 1.0,
            "AlbumsPriced": 6.0,
            "AlbumsUnpriced": 0.0,
            "ReviewTimedOut": 0.0,
        },
    )


def test_durable_happy_path_operation_count(harness: DurableHarness, workbench: Workbench):
    event = workbench.upload()
    arn = harness.start(event)
    harness.wait_for_review(arn)
    harness.decide(upload_id_of(event), CORRECT_SLOT_3)
    result = harness.finish(arn)

    names = {operation.name for operation in result.get_all_operations()}
    assert {Step.EXTRACT, Step.REVIEW, Step.PRICE, Step.STORE} <= names
    assert {price_agent_name(slot) for slot in range(1, ALBUMS_PER_IMAGE + 1)} <= names
    assert billed_operations(result) == HAPPY_PATH_OPERATIONS == 13


def test_durable_review_timeout_continues_with_extracted_albums(workbench: Workbench):
    event = workbench.upload()
    upload_id = upload_id_of(event)
    with (
        swapped(workbench, settings={"review_timeout_seconds": 2}) as deps,
        durable_runner(durable.handler) as runner,
    ):
        harness = DurableHarness(runner, deps)
        result = harness.finish(harness.start(event))

    assert result.status is InvocationStatus.SUCCEEDED
    assert payload(result)["review"] == "TIMED_OUT"
    assert result.get_step(RECORD_TIMEOUT).status is OperationStatus.SUCCEEDED
    record = workbench.repo.get_upload(LDF, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    assert [album.year for album in record.albums] == [album.year for album in six_albums()]
    assert record.review is not None
    assert record.review.state is ReviewState.TIMED_OUT
    assert (record.review.expires_at - record.review.requested_at).total_seconds() == 2
    assert workbench.metrics.emitted[-1][1]["ReviewTimedOut"] == 1.0


def test_durable_rejected_review_ends_rejected(workbench: Workbench):
    pricing = ScriptedPricing()
    event = workbench.upload()
    upload_id = upload_id_of(event)

    with (
        swapped(workbench, pricing=pricing) as deps,
        durable_runner(durable.handler) as runner,
    ):
        harness = DurableHarness(runner, deps)
        arn = harness.start(event)
        harness.wait_for_review(arn)
        harness.decide(upload_id, ReviewDecision(action="reject", comment="wrong shelf"))
        result = harness.finish(arn)

    assert result.status is InvocationStatus.SUCCEEDED
    assert payload(result) == {"upload_id": upload_id, "status": "REJECTED", "review": "REJECTED"}
    assert result.get_step(RECORD_REJECTION).status is OperationStatus.SUCCEEDED
    assert pricing.calls == {}
    record = workbench.repo.get_upload(LDF, upload_id)
    assert record is not None
    assert (record.summary.status, record.summary.cause) == (WorkflowStatus.REJECTED, "wrong shelf")
    assert record.review is not None
    assert record.review.state is ReviewState.REJECTED


def test_durable_failing_price_agent_becomes_error_estimate(workbench: Workbench):
    pricing = ScriptedPricing("12.50", failing={4: TransientError("pricing API unavailable")})
    event = workbench.upload()
    upload_id = upload_id_of(event)
    with (
        swapped(workbench, pricing=pricing) as deps,
        durable_runner(durable.handler) as runner,
    ):
        harness = DurableHarness(runner, deps)
        arn = harness.start(event)
        harness.wait_for_review(arn)
        harness.decide(upload_id, CORRECT_SLOT_3)
        result = harness.finish(arn)

    assert result.status is InvocationStatus.SUCCEEDED
    assert payload(result)["priced"] == 5
    assert payload(result)["unpriced"] == 1
    agent = result.get_context(Step.PRICE).get_step(price_agent_name(4))
    assert (agent.status, agent.attempt) == (OperationStatus.FAILED, PRICE_RETRY.max_attempts)
    assert pricing.calls == {1: 1, 2: 1, 3: 1, 4: PRICE_RETRY.max_attempts, 5: 1, 6: 1}
    record = workbench.repo.get_upload(LDF, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    prices = {album.slot: (album.price, album.price_error) for album in record.albums}
    assert prices[4] == (None, "TransientError")
    assert all(prices[slot] == (Decimal("12.50"), None) for slot in (1, 2, 3, 5, 6))
    assert billed_operations(result) == HAPPY_PATH_OPERATIONS + PRICE_RETRY.retries


def test_durable_extract_failing_persistently_stores_failed(
    harness: DurableHarness, workbench: Workbench
):
    workbench.recognizer.error = TransientError("vision model throttled")
    event = workbench.upload()
    upload_id = upload_id_of(event)

    result = harness.finish(harness.start(event))

    assert result.status is InvocationStatus.FAILED
    assert result.error is not None
    assert result.error.message == "vision model throttled"
    assert workbench.recognizer.calls == EXTRACT_RETRY.max_attempts
    assert result.get_step(Step.EXTRACT).attempt == EXTRACT_RETRY.max_attempts
    assert result.get_step(RECORD_FAILURE).status is OperationStatus.SUCCEEDED
    record = workbench.repo.get_upload(LDF, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.FAILED
    assert (record.summary.error, record.summary.cause) == (
        "TransientError",
        "vision model throttled",
    )
    assert workbench.metrics.emitted == [(LDF, {"WorkflowsFailed": 1.0})]


def test_durable_permanent_extract_error_is_not_retried(
    harness: DurableHarness, workbench: Workbench
):
    workbench.recognizer.error = RecognitionError("the model answered nothing usable")
    event = workbench.upload()

    result = harness.finish(harness.start(event))

    assert result.status is InvocationStatus.FAILED
    assert workbench.recognizer.calls == 1
    record = workbench.repo.get_upload(LDF, upload_id_of(event))
    assert record is not None
    assert (record.summary.status, record.summary.error) == (
        WorkflowStatus.FAILED,
        "RecognitionError",
    )


def test_durable_unreadable_image_ends_rejected_without_retry(
    harness: DurableHarness, workbench: Workbench
):
    workbench.recognizer.error = InvalidImageError("not an image")
    event = workbench.upload()
    upload_id = upload_id_of(event)

    result = harness.finish(harness.start(event))

    assert result.status is InvocationStatus.SUCCEEDED
    assert payload(result) == {
        "upload_id": upload_id,
        "status": "REJECTED",
        "error": "InvalidImageError",
    }
    assert workbench.recognizer.calls == 1
    record = workbench.repo.get_upload(LDF, upload_id)
    assert record is not None
    assert (record.summary.status, record.summary.cause) == (
        WorkflowStatus.REJECTED,
        "not an image",
    )


def test_durable_malformed_event_ends_rejected_writing_nothing(
    harness: DurableHarness, workbench: Workbench, dynamodb
):
    before = table_items(dynamodb)

    result = harness.finish(harness.start({"detail-type": "Object Created", "detail": {}}))

    assert result.status is InvocationStatus.SUCCEEDED
    assert payload(result) == {
        "upload_id": None,
        "status": "REJECTED",
        "error": "InvalidUploadError",
    }
    assert table_items(dynamodb) == before
    assert workbench.recognizer.calls == 0


def test_durable_step_side_effects_run_once_across_resumes(workbench: Workbench):
    pricing = ScriptedPricing()
    event = workbench.upload()
    upload_id = upload_id_of(event)
    with (
        swapped(workbench, pricing=pricing) as deps,
        durable_runner(durable.handler) as runner,
    ):
        harness = DurableHarness(runner, deps)
        arn = harness.start(event)
        harness.wait_for_review(arn)
        harness.decide(upload_id, CORRECT_SLOT_3)
        harness.finish(arn)
        history = runner.get_execution_history(arn).events

    invocations = [entry for entry in history if entry.event_type == "InvocationCompleted"]
    # GIVEN the handler ran from the top at least twice (before and after the review)
    assert len(invocations) >= 2
    # THEN the steps that ran before the pause did not run again on the resume
    assert workbench.recognizer.calls == 1
    assert pricing.calls == {slot: 1 for slot in range(1, ALBUMS_PER_IMAGE + 1)}


def test_durable_reordered_operations_are_caught(workbench: Workbench):
    # GIVEN an execution paused at the review under the released code
    deployed = {"version": durable.handler}

    @durable_execution
    def review_first(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
        upload = parse_upload_event(event)
        deps = dependencies()
        context.wait_for_callback(
            durable.review_submitter(upload.upload_id, six_albums(), 60, deps), name=Step.REVIEW
        )
        arn = context.execution_context.durable_execution_arn
        return context.step(durable.extract_step(upload, arn, deps), name=Step.EXTRACT)

    def lambda_function(event: Any, lambda_context: Any) -> Any:
        return deployed["version"](event, lambda_context)

    event = workbench.upload()
    with durable_runner(lambda_function) as runner:
        harness = DurableHarness(runner, workbench.deps)
        arn = harness.start(event)
        callback_id = harness.wait_for_review(arn)

        # WHEN a version that swaps the first two operations resumes it
        deployed["version"] = review_first
        runner.send_callback_success(callback_id, b"{}")
        result = harness.finish(arn)

    # THEN the SDK refuses to replay the history, and nothing ran a second time
    assert result.status is InvocationStatus.FAILED
    assert result.error is not None
    assert (result.error.type or "").endswith("NonDeterministicExecutionError")
    assert workbench.recognizer.calls == 1
    record = workbench.repo.get_upload(LDF, upload_id_of(event))
    assert record is not None
    assert record.summary.status is WorkflowStatus.PENDING_REVIEW


def test_durable_duplicate_event_writes_nothing(
    harness: DurableHarness, workbench: Workbench, dynamodb
):
    event = workbench.upload()
    first = harness.start(event, name="first")
    harness.wait_for_review(first)
    before = table_items(dynamodb)

    second = harness.finish(harness.start(event, name="second"))

    assert second.status is InvocationStatus.SUCCEEDED
    assert payload(second) == {"upload_id": upload_id_of(event), "status": durable.DUPLICATE}
    assert table_items(dynamodb) == before
    assert workbench.recognizer.calls == 1


@pytest.mark.parametrize("policy", [EXTRACT_RETRY, REVIEW_REQUEST_RETRY, PRICE_RETRY, STORE_RETRY])
def test_durable_retry_strategy_follows_the_policy(policy: RetryPolicy):
    strategy = durable.retry_strategy(policy)
    error = TransientError("throttled")

    delays = [strategy(error, attempt).delay_seconds for attempt in range(1, policy.max_attempts)]

    assert delays == [int(policy.delay_before(retry)) for retry in range(1, policy.max_attempts)]
    assert not strategy(error, policy.max_attempts).should_retry
    assert not strategy(RecognitionError("permanent"), 1).should_retry
