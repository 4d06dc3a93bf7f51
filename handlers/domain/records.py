"""Read models: what the repository returns to the dashboard, the CLI and the parity tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from handlers.domain.models import Album, Record, ReviewState, WorkflowStatus
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics


class StoredAlbum(Record):
    """One album as stored: the extraction, the reviewed values and the price."""

    slot: int
    title: str | None = None
    artist: str | None = None
    year: int | None = None
    extracted_year: int | None = None
    confidence: float = 0.0
    unrecognized: bool = False
    note: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    price_confidence: float | None = None
    price_source: str | None = None
    release_id: int | None = None
    price_error: str | None = None


class UploadSummary(Record):
    """One row of a listing: enough to show and to open."""

    pattern: Pattern
    upload_id: str
    bucket: str
    key: str
    status: WorkflowStatus
    received_at: datetime
    updated_at: datetime
    execution_id: str | None = None
    error: str | None = None
    cause: str | None = None


class ReviewRecord(Record):
    """The human step of one upload: the token to resume with and the albums to show."""

    pattern: Pattern
    upload_id: str
    token: str
    state: ReviewState
    albums: list[Album]
    requested_at: datetime
    expires_at: datetime
    resolved_at: datetime | None = None


class UploadRecord(Record):
    """Everything stored for one upload within one pattern."""

    summary: UploadSummary
    albums: list[StoredAlbum] = Field(default_factory=list)
    review: ReviewRecord | None = None
    metrics: WorkflowMetrics | None = None
    """The METRICS item; None until the workflow stored its results or was collected."""
