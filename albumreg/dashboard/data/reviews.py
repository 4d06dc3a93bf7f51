"""The Reviews page's data: open reviews grouped by upload, each card's albums and photo.

A review is listed by a Query on the status index (never a Scan); the thumbnail goes through
the same image checks as the workflows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from albumreg.dashboard.data.backend import Backend
from albumreg.dashboard.data.upload import preview
from handlers.domain.errors import AlbumRegError
from handlers.domain.models import ReviewState
from handlers.domain.records import ReviewRecord
from handlers.domain.tenant import PATTERNS, Pattern


@dataclass(frozen=True)
class ReviewGroup:
    """The open reviews of one upload: one per pattern still waiting for a person."""

    upload_id: str
    requested_at: datetime
    reviews: dict[Pattern, ReviewRecord]


def open_review_groups(backend: Backend, limit: int) -> list[ReviewGroup]:
    """Open reviews of both patterns grouped by upload, newest first (two Queries)."""
    by_upload: dict[str, dict[Pattern, ReviewRecord]] = {}
    for pattern in PATTERNS:
        for review in backend.deps.repo.list_open_reviews(pattern, limit=limit):
            by_upload.setdefault(review.upload_id, {})[pattern] = review
    groups = [
        ReviewGroup(upload_id, max(r.requested_at for r in reviews.values()), reviews)
        for upload_id, reviews in by_upload.items()
    ]
    return sorted(groups, key=lambda group: group.requested_at, reverse=True)


@dataclass(frozen=True)
class ReviewCard:
    """One upload as the reviewer sees it: where its photo is, and each pattern's review."""

    upload_id: str
    bucket: str | None
    key: str | None
    reviews: dict[Pattern, ReviewRecord | None]


def review_card(backend: Backend, group: ReviewGroup) -> ReviewCard:
    """Complete a group with the reviews no longer open, and the photo's location.

    GetItem only (one for the upload, one per side not in the open list): a card costs the
    same however large the table grows.
    """
    repo = backend.deps.repo
    reviews: dict[Pattern, ReviewRecord | None] = {
        pattern: group.reviews.get(pattern) or repo.get_review(pattern, group.upload_id)
        for pattern in PATTERNS
    }
    summary = repo.get_summary(next(iter(group.reviews)), group.upload_id)
    return ReviewCard(
        group.upload_id,
        summary.bucket if summary else None,
        summary.key if summary else None,
        reviews,
    )


@dataclass(frozen=True)
class ReviewStatus:
    """Whether a person can still decide one pattern's review, and how to say so."""

    label: str
    approvable: bool
    seconds_left: float | None = None


def review_status(review: ReviewRecord | None, now: datetime) -> ReviewStatus:
    """OPEN and before its deadline is approvable; anything else says why not."""
    if review is None:
        return ReviewStatus("not waiting for review", approvable=False)
    if review.state is ReviewState.OPEN:
        left = (review.expires_at - now).total_seconds()
        if left <= 0:
            return ReviewStatus("timed out", approvable=False, seconds_left=0.0)
        return ReviewStatus("open", approvable=True, seconds_left=left)
    names = {
        ReviewState.APPROVED: "approved",
        ReviewState.REJECTED: "rejected",
        ReviewState.TIMED_OUT: "timed out",
    }
    return ReviewStatus(names.get(review.state, review.state.value.lower()), approvable=False)


def thumbnail(backend: Backend, bucket: str, key: str) -> bytes | None:
    """A small JPEG of the uploaded photo, or None when it cannot be read."""
    try:
        photo = backend.deps.images.read(bucket, key, backend.deps.settings.max_image_bytes)
    except (AlbumRegError, ClientError, BotoCoreError):
        return None
    return preview(photo)
