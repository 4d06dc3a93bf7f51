"""Pydantic models: the JSON shapes both orchestrations exchange, validated at every boundary.

Model output, S3 events and human input all arrive here before anything else sees them, so
the limits (slots, years, lengths, unknown fields) are enforced once.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from handlers.domain.policy import ALBUMS_PER_IMAGE
from handlers.domain.tenant import Pattern

TEXT_MAX_LENGTH = 200
"""Longest title or artist accepted from a model or a person."""

FIRST_YEAR = 1900
"""Earliest plausible release year; the latest is next year (pre-orders)."""


def latest_year() -> int:
    """Latest plausible release year: next year, so announced pre-orders still validate."""
    return datetime.now(UTC).year + 1


def _printable(value: str) -> str:
    """Reject control characters (newlines, NUL, escapes) that would corrupt logs and tables."""
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _plausible_year(value: int) -> int:
    if not FIRST_YEAR <= value <= latest_year():
        raise ValueError(f"year must be between {FIRST_YEAR} and {latest_year()}")
    return value


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX_LENGTH),
    AfterValidator(_printable),
]
Year = Annotated[int, Field(strict=False), AfterValidator(_plausible_year)]
Slot = Annotated[int, Field(ge=1, le=ALBUMS_PER_IMAGE)]
Confidence = Annotated[float, Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    """Base for every model: immutable and rejecting unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Record(BaseModel):
    """Base of read models: immutable; unknown stored attributes are ignored, not fatal."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Album(Strict):
    """One cover as extracted, and later as confirmed by a person."""

    slot: Slot
    title: Text | None = None
    artist: Text | None = None
    year: Year | None = None
    confidence: Confidence = 0.0
    unrecognized: bool = False
    note: Text | None = None

    @model_validator(mode="after")
    def _recognized_albums_are_named(self) -> Self:
        if not self.unrecognized and (self.title is None or self.artist is None):
            raise ValueError("a recognized album needs a title and an artist")
        return self


def unrecognized_album(slot: int, note: str) -> Album:
    """A slot the recognizer could not read: flagged for the reviewer, never guessed."""
    return Album(slot=slot, unrecognized=True, confidence=0.0, note=note)


def _six_slots(albums: list[Album]) -> list[Album]:
    slots = sorted(album.slot for album in albums)
    if slots != list(range(1, ALBUMS_PER_IMAGE + 1)):
        raise ValueError(f"expected one album for each slot 1..{ALBUMS_PER_IMAGE}, got {slots}")
    return sorted(albums, key=lambda album: album.slot)


SixAlbums = Annotated[list[Album], AfterValidator(_six_slots)]


class TokenUsage(Strict):
    """Model tokens spent, for the cost model."""

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class Extraction(Strict):
    """What a recognizer returns for one image: exactly six slots, unreadable ones flagged."""

    albums: SixAlbums
    engine: Text
    usage: TokenUsage = TokenUsage()
    notes: list[Text] = Field(default_factory=list, max_length=20)


class Upload(Strict):
    """One S3 object that started the workflow."""

    upload_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]
    bucket: Annotated[str, StringConstraints(min_length=3, max_length=63)]
    key: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    size: int = Field(ge=0)
    content_type: str | None = None
    etag: str | None = None
    version_id: str | None = None
    received_at: datetime

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class WorkflowStatus(StrEnum):
    """Lifecycle of one upload within one pattern."""

    RECEIVED = "RECEIVED"
    PENDING_REVIEW = "PENDING_REVIEW"
    PRICING = "PRICING"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


FINAL_STATUSES = frozenset(
    {WorkflowStatus.COMPLETED, WorkflowStatus.REJECTED, WorkflowStatus.FAILED}
)


class ReviewState(StrEnum):
    """Lifecycle of the human step."""

    OPEN = "OPEN"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    TIMED_OUT = "TIMED_OUT"


class AlbumCorrection(Strict):
    """A person's change to one slot; fields left out keep the extracted value."""

    slot: Slot
    year: Year | None = None
    title: Text | None = None
    artist: Text | None = None


class ReviewDecision(Strict):
    """What a reviewer submits: approve (with corrections) or reject."""

    action: Literal["approve", "reject"]
    corrections: list[AlbumCorrection] = Field(default_factory=list, max_length=ALBUMS_PER_IMAGE)
    reviewer: Text | None = None
    comment: Text | None = None

    @field_validator("corrections")
    @classmethod
    def _one_correction_per_slot(cls, value: list[AlbumCorrection]) -> list[AlbumCorrection]:
        slots = [correction.slot for correction in value]
        if len(slots) != len(set(slots)):
            raise ValueError("at most one correction per slot")
        return value

    @model_validator(mode="after")
    def _reject_without_corrections(self) -> Self:
        if self.action == "reject" and self.corrections:
            raise ValueError("a rejection carries no corrections")
        return self


class ReviewResult(Strict):
    """What the paused workflow receives: the outcome and the six albums to go on with."""

    outcome: ReviewState
    albums: SixAlbums
    reviewer: Text | None = None
    comment: Text | None = None
    decided_at: datetime

    @field_validator("outcome")
    @classmethod
    def _final(cls, value: ReviewState) -> ReviewState:
        if value is ReviewState.OPEN:
            raise ValueError("a review result cannot be OPEN")
        return value


Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class PriceEstimate(Strict):
    """One agent's answer for one album. An empty amount always comes with an error."""

    slot: Slot
    amount: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None
    currency: Currency = "USD"
    confidence: Confidence = 0.0
    source: Annotated[str, StringConstraints(max_length=64)] = "none"
    release_id: int | None = None
    error: Annotated[str, StringConstraints(max_length=500)] | None = None
    requests: int = Field(default=0, ge=0)
    retries: int = Field(default=0, ge=0)
    duration_ms: int = Field(default=0, ge=0)
    usage: TokenUsage = TokenUsage()

    @model_validator(mode="after")
    def _amount_or_error(self) -> Self:
        if self.amount is None and not self.error:
            raise ValueError("an estimate without an amount must say why in error")
        return self


def failed_estimate(slot: int, error: str) -> PriceEstimate:
    """The estimate an orchestrator records when an agent failed after its retries."""
    return PriceEstimate(slot=slot, amount=None, confidence=0.0, source="none", error=error[:500])


class PriceRequest(Strict):
    """Input of one price agent, the same JSON from a Map iteration or a durable branch."""

    pattern: Pattern
    upload_id: str
    album: Album


class StoreRequest(Strict):
    """Input of the final step: everything the workflow learned."""

    pattern: Pattern
    upload_id: str
    execution_id: str
    review: ReviewResult
    estimates: list[PriceEstimate] = Field(max_length=ALBUMS_PER_IMAGE)


class ExtractResult(Strict):
    """Output of the extract step, input of the review step."""

    upload: Upload
    albums: SixAlbums
    engine: Text
    usage: TokenUsage = TokenUsage()
