"""The durable workflow: album registration as one Lambda durable function (tenant ``ldf``).

Reads top to bottom like the four steps and calls the same domain functions as the Step
Functions tasks. Imports no Step Functions code, no Pulumi, nothing from ``local`` or the UI.
"""

# Replay rules. The whole handler runs again from the top on every resume (after the review
# callback, after a step retry), and each completed operation hands back its stored result:
# - Every side effect, clock read and random value happens inside a step; the code between
#   operations only parses and branches on what the steps returned, so it takes the same path.
# - Operations keep their order, kind and name (from ``handlers.domain.names``) between
#   versions; a change while executions are in flight fails them as non-deterministic.
# - Steps return small JSON (``model_dump(mode="json")``), never image bytes; the same models
#   parse it back, so a replay sees exactly what the first run saw.
# - Failures are recorded by a step of their own, then raised again so the execution fails.

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from aws_durable_execution_sdk_python import (
    BatchResult,
    CallbackTimeoutError,
    DurableContext,
    StepContext,
    StepError,
    durable_execution,
    durable_step,
    durable_wait_for_callback,
)
from aws_durable_execution_sdk_python.config import (
    Duration,
    JitterStrategy,
    MapConfig,
    NestingType,
    StepConfig,
    WaitForCallbackConfig,
)
from aws_durable_execution_sdk_python.exceptions import UnrecoverableError
from aws_durable_execution_sdk_python.retries import (
    RetryDecision,
    RetryStrategyConfig,
    create_retry_strategy,
)
from aws_durable_execution_sdk_python.types import WaitForCallbackContext

from handlers.adapters.powertools import correlate, logger
from handlers.domain.errors import (
    DuplicateUploadError,
    InvalidImageError,
    InvalidUploadError,
    TransientError,
)
from handlers.domain.events import parse_upload_event
from handlers.domain.models import (
    Album,
    ExtractResult,
    PriceEstimate,
    PriceRequest,
    ReviewResult,
    ReviewState,
    StoreRequest,
    Upload,
    WorkflowStatus,
    failed_estimate,
)
from handlers.domain.names import (
    RECORD_FAILURE,
    RECORD_REJECTION,
    RECORD_TIMEOUT,
    Step,
    price_agent_name,
)
from handlers.domain.policy import (
    AGENT_CONCURRENCY,
    EXTRACT_RETRY,
    PRICE_RETRY,
    REVIEW_REQUEST_RETRY,
    STORE_RETRY,
    RetryPolicy,
)
from handlers.domain.tenant import Pattern
from handlers.domain.workflow import (
    extract_albums,
    price_album,
    record_failure,
    record_rejection,
    record_review_timeout,
    request_review,
    store_results,
)
from handlers.wiring import Dependencies, dependencies, lambda_handler

PATTERN = Pattern.DURABLE
DUPLICATE = "DUPLICATE"
"""Status returned (never stored) when another execution already owns the upload."""

_REFUSED_UPLOAD_ERRORS = frozenset({InvalidImageError.__name__, InvalidUploadError.__name__})


@durable_execution
@lambda_handler(PATTERN)
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    """Lambda entry point: the S3 "Object Created" event in, a small JSON summary out.

    Powertools sits inside ``@durable_execution`` and reads the Lambda context from the durable
    one; ``context.logger`` writes through the same Powertools logger and, unlike it, stays
    silent while the SDK replays operations that already ran.
    """
    context.set_logger(logger)
    return register_album(event, context, dependencies())


def register_album(
    event: dict[str, Any], context: DurableContext, deps: Dependencies
) -> dict[str, Any]:
    """The workflow: extract -> human review -> six price agents -> store.

    Args:
        event: the EventBridge S3 event; parsing it is pure, so it may run outside a step.
        context: the durable context of this execution.
        deps: the adapters every step uses; tests and the local cloud pass their own.

    Returns:
        Plain JSON: the upload id, its final status and, when completed, the counts.
    """
    try:
        upload = parse_upload_event(event)
    except InvalidUploadError:
        # The event names no object, so there is nothing to record: end as the ASL's
        # upload-rejected state does, rather than fail an execution nobody can retry usefully.
        return {
            "upload_id": None,
            "status": WorkflowStatus.REJECTED,
            "error": InvalidUploadError.__name__,
        }
    upload_id = upload.upload_id
    execution_id = context.execution_context.durable_execution_arn
    correlate(upload_id, PATTERN, execution_id, step="register-album")
    try:
        extracted = ExtractResult.model_validate(
            context.step(
                extract_step(upload, execution_id, deps),
                name=Step.EXTRACT,
                config=_retrying(EXTRACT_RETRY),
            )
        )
        review = _review(context, extracted, deps)
        context.logger.info("review closed", extra={"outcome": review.outcome.value})
        if review.outcome is ReviewState.REJECTED:
            context.step(
                rejection_step(upload_id, review, deps),
                name=RECORD_REJECTION,
                config=_retrying(STORE_RETRY),
            )
            return {
                "upload_id": upload_id,
                "status": WorkflowStatus.REJECTED,
                "review": review.outcome,
            }
        estimates = _price(context, upload_id, review.albums, deps)
        request = StoreRequest(
            pattern=PATTERN,
            upload_id=upload_id,
            execution_id=execution_id,
            review=review,
            estimates=estimates,
        )
        summary: dict[str, Any] = context.step(
            store_step(request, deps), name=Step.STORE, config=_retrying(STORE_RETRY)
        )
        context.logger.info("workflow completed", extra={"status": summary.get("status")})
        return summary
    except StepError as error:
        # Only extract-albums refuses an upload; it already stored REJECTED for a bad one.
        name = _error_name(error)
        if name == DuplicateUploadError.__name__:
            return {"upload_id": upload_id, "status": DUPLICATE}
        if name in _REFUSED_UPLOAD_ERRORS:
            return {"upload_id": upload_id, "status": WorkflowStatus.REJECTED, "error": name}
        _record_failure(context, upload_id, error, deps)
        raise
    except UnrecoverableError:
        # Non-determinism and checkpoint faults belong to the SDK: another step now would only
        # add to a history that no longer matches the code.
        raise
    except Exception as error:
        _record_failure(context, upload_id, error, deps)
        raise


def _review(context: DurableContext, extracted: ExtractResult, deps: Dependencies) -> ReviewResult:
    """Pause until a person decides, or go on with the extracted albums after the timeout.

    The callback result is the ``ReviewResult`` JSON the review gateway sends, byte for byte
    what the Step Functions side receives through ``SendTaskSuccess``.
    """
    timeout = deps.settings.review_timeout_seconds
    upload_id = extracted.upload.upload_id
    try:
        raw = context.wait_for_callback(
            review_submitter(upload_id, extracted.albums, timeout, deps),
            name=Step.REVIEW,
            config=WaitForCallbackConfig(
                timeout=Duration.from_seconds(timeout),
                retry_strategy=retry_strategy(REVIEW_REQUEST_RETRY),
            ),
        )
    except CallbackTimeoutError:
        timed_out = context.step(
            timeout_step(upload_id, extracted.albums, deps),
            name=RECORD_TIMEOUT,
            config=_retrying(STORE_RETRY),
        )
        return ReviewResult.model_validate(timed_out)
    return ReviewResult.model_validate_json(raw)


def _price(
    context: DurableContext, upload_id: str, albums: Sequence[Album], deps: Dependencies
) -> list[PriceEstimate]:
    """Six agents at once, each on its own; one failing never fails the others."""
    requests = [PriceRequest(pattern=PATTERN, upload_id=upload_id, album=a) for a in albums]
    batch: BatchResult[dict[str, Any]] = context.map(
        requests,
        partial(price_agent, deps=deps),
        name=Step.PRICE,
        # FLAT: an iteration is a single step, so a context per iteration would only add six
        # billed operations and a level to the timeline.
        config=MapConfig(max_concurrency=AGENT_CONCURRENCY, nesting_type=NestingType.FLAT),
    )
    # The map never raises: a branch can only fail here for a reason that is not the agent's
    # (an SDK fault), which fails the workflow as the ASL's Catch on the Map does.
    batch.throw_if_error()
    return [PriceEstimate.model_validate(estimate) for estimate in batch.get_results()]


def price_agent(
    context: DurableContext,
    request: PriceRequest,
    index: int,
    requests: Sequence[PriceRequest],
    *,
    deps: Dependencies,
) -> dict[str, Any]:
    """One map iteration: one named step that retries on its own, or an error estimate.

    The failure is caught inside the iteration, like the ASL's Catch on the price task, because
    the SDK keeps only the wrapper's class name (``StepError``) once a failure leaves a branch,
    and the error estimate must name the domain error as the Step Functions side does.
    """
    try:
        estimate: dict[str, Any] = context.step(
            price_step(request, deps),
            name=price_agent_name(request.album.slot),
            config=_retrying(PRICE_RETRY),
        )
    except StepError as error:
        return failed_estimate(request.album.slot, _error_name(error)).model_dump(mode="json")
    return estimate


def _record_failure(
    context: DurableContext, upload_id: str, error: Exception, deps: Dependencies
) -> None:
    context.step(
        failure_step(upload_id, _error_name(error), _error_cause(error), deps),
        name=RECORD_FAILURE,
        config=_retrying(STORE_RETRY),
    )


# Steps: each one calls a single domain function and returns JSON.


@durable_step
def extract_step(
    step: StepContext, upload: Upload, execution_id: str, deps: Dependencies
) -> dict[str, Any]:
    """Claim the upload, read the covers, store them for review."""
    result = extract_albums(
        PATTERN,
        upload,
        execution_id,
        images=deps.images,
        recognizer=deps.recognizer,
        repo=deps.repo,
        clock=deps.clock,
        max_bytes=deps.settings.max_image_bytes,
        prefix=deps.settings.upload_prefix,
    )
    return result.model_dump(mode="json")


@durable_wait_for_callback
def review_submitter(
    callback_id: str,
    callback: WaitForCallbackContext,
    upload_id: str,
    albums: Sequence[Album],
    timeout_seconds: int,
    deps: Dependencies,
) -> None:
    """Store the SDK's callback id in the REVIEW item: the gateway resumes us with it."""
    request_review(
        PATTERN, upload_id, callback_id, albums, timeout_seconds, repo=deps.repo, clock=deps.clock
    )


@durable_step
def timeout_step(
    step: StepContext, upload_id: str, albums: Sequence[Album], deps: Dependencies
) -> dict[str, Any]:
    """Close the review as timed out; the albums go on as extracted."""
    result = record_review_timeout(PATTERN, upload_id, albums, repo=deps.repo, clock=deps.clock)
    return result.model_dump(mode="json")


@durable_step
def rejection_step(
    step: StepContext, upload_id: str, review: ReviewResult, deps: Dependencies
) -> None:
    """Mark the upload ``REJECTED`` with the reviewer's comment."""
    record_rejection(PATTERN, upload_id, review, repo=deps.repo, clock=deps.clock)


@durable_step
def price_step(step: StepContext, request: PriceRequest, deps: Dependencies) -> dict[str, Any]:
    """Price one album."""
    return price_album(request, pricing=deps.pricing).model_dump(mode="json")


@durable_step
def store_step(step: StepContext, request: StoreRequest, deps: Dependencies) -> dict[str, Any]:
    """Write final albums, prices and metrics; the summary is the handler's answer."""
    return store_results(request, repo=deps.repo, metrics=deps.metrics, clock=deps.clock)


@durable_step
def failure_step(
    step: StepContext, upload_id: str, error: str, cause: str, deps: Dependencies
) -> None:
    """Mark the upload ``FAILED`` with the error a person will read, and count it."""
    record_failure(
        PATTERN, upload_id, error, cause, repo=deps.repo, metrics=deps.metrics, clock=deps.clock
    )


# Policy: the retry numbers of handlers.domain.policy, as the SDK expresses them.


def retry_strategy(policy: RetryPolicy) -> Callable[[Exception, int], RetryDecision]:
    """The SDK strategy for ``policy``: only ``TransientError`` is retried, as in the ASL.

    No jitter, so delays equal the ASL's ``IntervalSeconds * BackoffRate^n``.
    """
    return create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=policy.max_attempts,
            initial_delay=Duration.from_seconds(policy.interval_seconds),
            max_delay=Duration.from_seconds(policy.max_delay_seconds),
            backoff_rate=policy.backoff_rate,
            jitter_strategy=JitterStrategy.NONE,
            retryable_error_types=[TransientError],
        )
    )


def _retrying(policy: RetryPolicy) -> StepConfig:
    return StepConfig(retry_strategy=retry_strategy(policy))


def _error_name(error: Exception) -> str:
    """The class name a failure had inside its step: the ``Error`` Step Functions would see."""
    if isinstance(error, StepError):
        return _short_name(error.error_type)
    return type(error).__name__


def _short_name(error_type: str) -> str:
    """``handlers.domain.errors.TransientError`` -> ``TransientError``.

    The SDK records an error's fully qualified class name; the domain and the ASL use the bare one.
    """
    return error_type.rsplit(".", 1)[-1]


def _error_cause(error: Exception) -> str:
    if isinstance(error, StepError):
        return error.message or _error_name(error)
    return str(error) or _error_name(error)
