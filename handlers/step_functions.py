"""The Lambda task handlers the Step Functions state machine invokes, one per task state.

Each parses its input, tags its log lines with the workflow (``correlate``), calls the shared
domain step with adapters from ``dependencies()`` and returns JSON; the ASL decides everything
else (retries, timeouts, branching). An exception's class name is the error name the ASL's Retry
and Catch match. ``lambda_handler`` adds Powertools (JSON logs, EMF). Imports no orchestrator SDK.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from handlers.adapters.powertools import correlate
from handlers.domain import workflow
from handlers.domain.errors import InvalidUploadError
from handlers.domain.events import parse_upload_event
from handlers.domain.models import (
    PriceRequest,
    ReviewResult,
    SixAlbums,
    StoreRequest,
    Strict,
)
from handlers.domain.names import RECORD_FAILURE, RECORD_REJECTION, RECORD_TIMEOUT, Step
from handlers.domain.tenant import Pattern
from handlers.wiring import dependencies, lambda_handler

SF = Pattern.STEP_FUNCTIONS


class ExtractInput(Strict):
    """The execution input (the S3 event) and the execution that claims the upload."""

    event: dict[str, Any]
    execution_id: str


class ReviewRequestInput(Strict):
    """What the review task sends: where to store the token, and for how long it is valid."""

    upload_id: str
    token: str
    execution_id: str
    albums: SixAlbums
    timeout_seconds: int


class ReviewTimeoutInput(Strict):
    """The upload whose review timed out and the extracted albums to go on with."""

    upload_id: str
    execution_id: str
    albums: SixAlbums


class RejectionInput(Strict):
    """The upload and the person's rejection."""

    upload_id: str
    execution_id: str
    review: ReviewResult


class CaughtError(BaseModel):
    """What a Catch puts in the state: the error name and, usually, a cause."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


class FailedState(BaseModel):
    """The whole state at the moment of failure: the S3 event at its root, the error caught."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    failure: CaughtError


@lambda_handler(SF)
def extract_albums(event: dict[str, Any], context: object) -> dict[str, Any]:
    """``extract-albums``: an ``ExtractResult``, plus the review timeout the ASL waits for.

    The timeout travels in the output because the ASL may only hold ARN placeholders; the review
    task reads it with ``TimeoutSecondsPath``, so one setting drives both the wait and the
    expiry stored for the dashboard.
    """
    request = ExtractInput.model_validate(event)
    upload = parse_upload_event(request.event)
    correlate(upload.upload_id, SF, request.execution_id, step=Step.EXTRACT)
    deps = dependencies()
    result = workflow.extract_albums(
        SF,
        upload,
        request.execution_id,
        images=deps.images,
        recognizer=deps.recognizer,
        repo=deps.repo,
        clock=deps.clock,
        max_bytes=deps.settings.max_image_bytes,
        prefix=deps.settings.upload_prefix,
    )
    timeout = deps.settings.review_timeout_seconds
    return result.model_dump(mode="json") | {"review_timeout_seconds": timeout}


@lambda_handler(SF)
def request_review(event: dict[str, Any], context: object) -> None:
    """``review-years``: store the task token; the state machine then waits for a person."""
    request = ReviewRequestInput.model_validate(event)
    correlate(request.upload_id, SF, request.execution_id, step=Step.REVIEW)
    deps = dependencies()
    workflow.request_review(
        SF,
        request.upload_id,
        request.token,
        request.albums,
        request.timeout_seconds,
        repo=deps.repo,
        clock=deps.clock,
    )


@lambda_handler(SF)
def record_review_timeout(event: dict[str, Any], context: object) -> dict[str, Any]:
    """``record-review-timeout``: a ``ReviewResult`` (TIMED_OUT) with the extracted albums."""
    request = ReviewTimeoutInput.model_validate(event)
    correlate(request.upload_id, SF, request.execution_id, step=RECORD_TIMEOUT)
    deps = dependencies()
    result = workflow.record_review_timeout(
        SF, request.upload_id, request.albums, repo=deps.repo, clock=deps.clock
    )
    return result.model_dump(mode="json")


@lambda_handler(SF)
def record_rejection(event: dict[str, Any], context: object) -> None:
    """``record-rejection``: the upload ends ``REJECTED`` with the reviewer's comment."""
    request = RejectionInput.model_validate(event)
    correlate(request.upload_id, SF, request.execution_id, step=RECORD_REJECTION)
    deps = dependencies()
    workflow.record_rejection(
        SF, request.upload_id, request.review, repo=deps.repo, clock=deps.clock
    )


@lambda_handler(SF)
def price_album(event: dict[str, Any], context: object) -> dict[str, Any]:
    """``price-album``: one Map iteration, a ``PriceRequest`` in and a ``PriceEstimate`` out."""
    request = PriceRequest.model_validate(event)
    correlate(request.upload_id, SF, step=Step.PRICE)
    estimate = workflow.price_album(request, pricing=dependencies().pricing)
    return estimate.model_dump(mode="json")


@lambda_handler(SF)
def store_results(event: dict[str, Any], context: object) -> dict[str, object]:
    """``store-results``: a ``StoreRequest`` in, the summary (the execution's output) out."""
    request = StoreRequest.model_validate(event)
    correlate(request.upload_id, SF, request.execution_id, step=Step.STORE)
    deps = dependencies()
    return workflow.store_results(request, repo=deps.repo, metrics=deps.metrics, clock=deps.clock)


@lambda_handler(SF)
def record_failure(event: dict[str, Any], context: object) -> dict[str, str]:
    """``record-failure``: store ``FAILED``; return the error with a cause a person can read.

    The return value replaces the caught error in the state, so the Fail state that follows
    always finds a cause (Step Functions leaves it out when, e.g., a task failure sent none).
    """
    failure = FailedState.model_validate(event).failure
    message = _error_message(failure.cause)
    upload_id = _upload_id(event)
    correlate(upload_id, SF, step=RECORD_FAILURE)
    deps = dependencies()
    workflow.record_failure(
        SF,
        upload_id,
        failure.error,
        message,
        repo=deps.repo,
        metrics=deps.metrics,
        clock=deps.clock,
    )
    return {"Error": failure.error, "Cause": message}


def _upload_id(event: dict[str, Any]) -> str | None:
    """The upload the failed execution worked on; None when its event named no valid object."""
    try:
        return parse_upload_event(event).upload_id
    except InvalidUploadError:
        return None


def _error_message(cause: str | None) -> str:
    """The ``errorMessage`` of a Lambda error cause (JSON), or the cause as Step Functions gave it.

    A failed Lambda task's cause is the runtime's error document; the person reading the record
    wants the message the domain raised, the same text the durable side stores.
    """
    if not cause:
        return ""
    try:
        document = json.loads(cause)
    except ValueError:
        return cause
    message = document.get("errorMessage") if isinstance(document, dict) else None
    return message if isinstance(message, str) else cause
