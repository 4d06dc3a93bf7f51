"""Ports: what the business steps need from the outside world, as Protocols.

Adapters in ``handlers/adapters`` implement them; tests implement them with small fakes. The
steps never learn which orchestrator, cloud or emulator sits behind a port.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from handlers.domain.models import (
    Album,
    Extraction,
    PriceEstimate,
    ReviewResult,
    ReviewState,
    Upload,
    WorkflowStatus,
)
from handlers.domain.records import ReviewRecord, UploadRecord, UploadSummary
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics


class Clock(Protocol):
    """Time, injected so tests and replays control it."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class ImageStore(Protocol):
    """Where uploaded images live (S3)."""

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """Return the object's bytes; raise ``InvalidImageError`` when larger than max_bytes."""
        ...


class Recognizer(Protocol):
    """Reads six album covers from one image."""

    def recognize(self, image: bytes) -> Extraction:
        """Six albums, unreadable slots flagged; ``InvalidImageError`` before any model call."""
        ...


class PricingSource(Protocol):
    """One price agent: estimates the value of one album on its own."""

    def estimate(self, album: Album) -> PriceEstimate:
        """Return an estimate; failures come back as an estimate with ``error`` set."""
        ...


class AlbumRepository(Protocol):
    """The single-table store of uploads, albums, reviews and metrics, one pattern at a time."""

    def claim_upload(
        self, pattern: Pattern, upload: Upload, execution_id: str, now: datetime
    ) -> None:
        """Record the upload once; ``DuplicateUploadError`` if another execution holds it."""
        ...

    def save_extraction(
        self, pattern: Pattern, upload_id: str, extraction: Extraction, now: datetime
    ) -> None:
        """Write the six extracted albums and move the upload to ``PENDING_REVIEW``."""
        ...

    def open_review(
        self,
        pattern: Pattern,
        upload_id: str,
        token: str,
        albums: Sequence[Album],
        requested_at: datetime,
        expires_at: datetime,
    ) -> None:
        """Store the orchestrator's token so a person can complete the review later."""
        ...

    def get_review(self, pattern: Pattern, upload_id: str) -> ReviewRecord | None:
        """The review of one upload, open or not."""
        ...

    def resolve_review(
        self, pattern: Pattern, upload_id: str, state: ReviewState, now: datetime
    ) -> ReviewRecord:
        """Close an open review once; a second close raises ``ReviewAlreadyResolvedError``."""
        ...

    def store_results(
        self,
        pattern: Pattern,
        upload_id: str,
        review: ReviewResult,
        estimates: Sequence[PriceEstimate],
        metrics: WorkflowMetrics,
        now: datetime,
    ) -> None:
        """Write final albums with prices, the results' metrics and ``COMPLETED`` at once."""
        ...

    def record_metrics(
        self, pattern: Pattern, upload_id: str, metrics: WorkflowMetrics, *, force: bool = False
    ) -> WorkflowMetrics | None:
        """Add a finished workflow's measurements once (first collector wins unless ``force``).

        Returns the item as stored, or None when another collector had written first.
        """
        ...

    def mark_status(
        self,
        pattern: Pattern,
        upload_id: str,
        status: WorkflowStatus,
        now: datetime,
        *,
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        """Move an upload to a terminal status such as ``REJECTED`` or ``FAILED``."""
        ...

    def get_upload(self, pattern: Pattern, upload_id: str) -> UploadRecord | None:
        """Everything stored for one upload, or None."""
        ...

    def list_uploads(
        self, pattern: Pattern, status: WorkflowStatus, limit: int = 50
    ) -> list[UploadSummary]:
        """Uploads of one pattern in one status, newest first (a Query on the status index)."""
        ...

    def list_open_reviews(self, pattern: Pattern, limit: int = 50) -> list[ReviewRecord]:
        """Reviews waiting for a person, newest first."""
        ...

    # --- dashboard reads ---
    def get_summary(self, pattern: Pattern, upload_id: str) -> UploadSummary | None:
        """The upload's own item (where its photo is, its status), without albums or review."""
        ...

    def get_metrics(
        self, pattern: Pattern, upload_ids: Sequence[str]
    ) -> dict[str, WorkflowMetrics]:
        """The METRICS items of many uploads, by upload id; uploads without one are left out."""
        ...


class MetricsSink(Protocol):
    """Where a finished workflow reports its numbers (CloudWatch, one namespace per pattern)."""

    def emit(self, pattern: Pattern, values: Mapping[str, float]) -> None:
        """Publish one data point per name."""
        ...


class ReviewInbox(Protocol):
    """Completes a paused workflow: a task token (sf) or a callback id (ldf)."""

    def complete(self, pattern: Pattern, token: str, result: ReviewResult) -> None:
        """Resume the workflow; ``ReviewExpiredError`` if it no longer waits."""
        ...
