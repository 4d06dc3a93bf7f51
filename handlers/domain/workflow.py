"""The four business steps, as plain functions over the ports.

Both orchestrators call exactly these functions with the same adapters and the same JSON, so
the only difference between the two implementations is orchestration. Nothing here knows
about retries or waiting: those belong to the orchestrator and the policy module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import timedelta

from handlers.domain.errors import (
    InvalidImageError,
    InvalidUploadError,
    ReviewAlreadyResolvedError,
    UploadNotFoundError,
)
from handlers.domain.events import MAX_IMAGE_BYTES, UPLOAD_PREFIX, check_upload_key
from handlers.domain.models import (
    Album,
    ExtractResult,
    PriceEstimate,
    PriceRequest,
    ReviewDecision,
    ReviewResult,
    ReviewState,
    StoreRequest,
    Upload,
    WorkflowStatus,
    failed_estimate,
)
from handlers.domain.ports import (
    AlbumRepository,
    Clock,
    ImageStore,
    MetricsSink,
    PricingSource,
    Recognizer,
)
from handlers.domain.records import ReviewRecord
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics


def extract_albums(
    pattern: Pattern,
    upload: Upload,
    execution_id: str,
    *,
    images: ImageStore,
    recognizer: Recognizer,
    repo: AlbumRepository,
    clock: Clock,
    max_bytes: int = MAX_IMAGE_BYTES,
    prefix: str = UPLOAD_PREFIX,
) -> ExtractResult:
    """Step 1: claim the upload, read the six covers and store them for review.

    The claim comes first so a duplicate event never pays for a second model call. A bad
    upload is recorded as ``REJECTED`` here, then the error is raised again so the
    orchestrator ends the workflow without retrying it.

    Raises:
        DuplicateUploadError: another execution owns this upload.
        InvalidUploadError, InvalidImageError: the upload was rejected (and recorded so).
    """
    repo.claim_upload(pattern, upload, execution_id, clock.now())
    try:
        check_upload_key(upload.key, prefix)
        if upload.size > max_bytes:
            raise InvalidImageError(f"image is {upload.size} bytes; the limit is {max_bytes}")
        image = images.read(upload.bucket, upload.key, max_bytes)
        extraction = recognizer.recognize(image)
    except (InvalidUploadError, InvalidImageError) as exc:
        repo.mark_status(
            pattern,
            upload.upload_id,
            WorkflowStatus.REJECTED,
            clock.now(),
            error=type(exc).__name__,
            cause=str(exc),
        )
        raise
    repo.save_extraction(pattern, upload.upload_id, extraction, clock.now())
    return ExtractResult(
        upload=upload, albums=extraction.albums, engine=extraction.engine, usage=extraction.usage
    )


def request_review(
    pattern: Pattern,
    upload_id: str,
    token: str,
    albums: Sequence[Album],
    timeout_seconds: int,
    *,
    repo: AlbumRepository,
    clock: Clock,
) -> None:
    """Step 2a: store the orchestrator's token so a person can resume the workflow."""
    now = clock.now()
    repo.open_review(
        pattern, upload_id, token, albums, now, now + timedelta(seconds=timeout_seconds)
    )


def decide_review(review: ReviewRecord, decision: ReviewDecision, *, clock: Clock) -> ReviewResult:
    """Step 2b: apply a person's decision to the extracted albums (pure but for the clock).

    An unrecognized cover that the person names becomes a recognized album with full
    confidence: a human identification outranks the model's.
    """
    if decision.action == "reject":
        return ReviewResult(
            outcome=ReviewState.REJECTED,
            albums=list(review.albums),
            reviewer=decision.reviewer,
            comment=decision.comment,
            decided_at=clock.now(),
        )
    corrections = {correction.slot: correction for correction in decision.corrections}
    albums: list[Album] = []
    for album in review.albums:
        correction = corrections.get(album.slot)
        if correction is None:
            albums.append(album)
            continue
        changes = correction.model_dump(exclude={"slot"}, exclude_none=True)
        merged = album.model_dump() | changes
        if album.unrecognized and merged.get("title") and merged.get("artist"):
            merged |= {"unrecognized": False, "confidence": 1.0, "note": "named by reviewer"}
        albums.append(Album.model_validate(merged))
    return ReviewResult(
        outcome=ReviewState.APPROVED,
        albums=albums,
        reviewer=decision.reviewer,
        comment=decision.comment,
        decided_at=clock.now(),
    )


def record_review_timeout(
    pattern: Pattern,
    upload_id: str,
    albums: Sequence[Album],
    *,
    repo: AlbumRepository,
    clock: Clock,
) -> ReviewResult:
    """Step 2c: nobody answered in time; go on with the extracted albums.

    A person may have closed the review in the same instant the orchestrator gave up; the
    orchestrator's timeout wins, and the final step records that outcome.
    """
    with contextlib.suppress(ReviewAlreadyResolvedError):
        repo.resolve_review(pattern, upload_id, ReviewState.TIMED_OUT, clock.now())
    return ReviewResult(outcome=ReviewState.TIMED_OUT, albums=list(albums), decided_at=clock.now())


def record_rejection(
    pattern: Pattern, upload_id: str, review: ReviewResult, *, repo: AlbumRepository, clock: Clock
) -> None:
    """Step 2d: the person rejected the extraction; the upload ends ``REJECTED``."""
    repo.mark_status(
        pattern,
        upload_id,
        WorkflowStatus.REJECTED,
        clock.now(),
        error="ReviewRejected",
        cause=review.comment or "rejected by the reviewer",
    )


def price_album(request: PriceRequest, *, pricing: PricingSource) -> PriceEstimate:
    """Step 3, one agent: price one album. An unreadable cover is not sent to the API."""
    album = request.album
    if album.unrecognized:
        return failed_estimate(album.slot, "album not recognized; nothing to price")
    estimate = pricing.estimate(album)
    if estimate.slot != album.slot:
        return estimate.model_copy(update={"slot": album.slot})
    return estimate


def store_results(
    request: StoreRequest, *, repo: AlbumRepository, metrics: MetricsSink, clock: Clock
) -> dict[str, object]:
    """Step 4: write the final albums with prices, mark ``COMPLETED`` and report numbers."""
    estimates = sorted(request.estimates, key=lambda estimate: estimate.slot)
    priced = sum(1 for estimate in estimates if estimate.amount is not None)
    summary: dict[str, object] = {
        "upload_id": request.upload_id,
        "status": WorkflowStatus.COMPLETED.value,
        "review": request.review.outcome.value,
        "priced": priced,
        "unpriced": len(estimates) - priced,
    }
    repo.store_results(
        request.pattern,
        request.upload_id,
        request.review,
        estimates,
        WorkflowMetrics(
            execution_id=request.execution_id,
            review_outcome=request.review.outcome,
            albums_priced=priced,
            pricing_requests=sum(estimate.requests for estimate in estimates),
            pricing_retries=sum(estimate.retries for estimate in estimates),
            # The LLM price agents' tokens, for the cost model (zero for the Discogs agent).
            agent_input_tokens=sum(estimate.usage.input_tokens for estimate in estimates),
            agent_output_tokens=sum(estimate.usage.output_tokens for estimate in estimates),
        ),
        clock.now(),
    )
    metrics.emit(
        request.pattern,
        {
            "WorkflowsCompleted": 1.0,
            "AlbumsPriced": float(priced),
            "AlbumsUnpriced": float(len(estimates) - priced),
            "ReviewTimedOut": 1.0 if request.review.outcome is ReviewState.TIMED_OUT else 0.0,
        },
    )
    return summary


def record_failure(
    pattern: Pattern,
    upload_id: str | None,
    error: str,
    cause: str,
    *,
    repo: AlbumRepository,
    metrics: MetricsSink,
    clock: Clock,
) -> None:
    """Catch-all: store ``FAILED`` with the error and its cause, when there is an upload."""
    metrics.emit(pattern, {"WorkflowsFailed": 1.0})
    if upload_id is None:
        return
    try:
        repo.mark_status(
            pattern, upload_id, WorkflowStatus.FAILED, clock.now(), error=error, cause=cause
        )
    except UploadNotFoundError:
        return
