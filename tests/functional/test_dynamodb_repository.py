"""The single-table repository on moto: isolation, once-only writes, ordering, round-trips."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.domain.errors import (
    DuplicateUploadError,
    ReviewAlreadyResolvedError,
    ReviewNotFoundError,
    UploadNotFoundError,
)
from handlers.domain.models import (
    PriceEstimate,
    ReviewResult,
    ReviewState,
    WorkflowStatus,
    failed_estimate,
)
from handlers.domain.tenant import Pattern
from tests.conftest import T0, make_extraction, make_upload, six_albums

SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE


def claim_and_extract(repo: DynamoDbAlbumRepository, pattern: Pattern, key: str = "uploads/a.jpg"):
    upload = make_upload(key=key)
    repo.claim_upload(pattern, upload, f"exec-{pattern.value}", T0)
    repo.save_extraction(pattern, upload.upload_id, make_extraction(), T0)
    return upload


def test_tenants_are_isolated(repo: DynamoDbAlbumRepository) -> None:
    upload = claim_and_extract(repo, SF)
    assert repo.get_upload(LDF, upload.upload_id) is None
    assert repo.list_uploads(LDF, WorkflowStatus.PENDING_REVIEW) == []
    listed = repo.list_uploads(SF, WorkflowStatus.PENDING_REVIEW)
    assert [summary.upload_id for summary in listed] == [upload.upload_id]
    assert all(summary.pattern is SF for summary in listed)


def test_same_upload_in_both_patterns_is_two_records(repo: DynamoDbAlbumRepository) -> None:
    upload = claim_and_extract(repo, SF)
    claim_and_extract(repo, LDF)
    sf, ldf = repo.get_upload(SF, upload.upload_id), repo.get_upload(LDF, upload.upload_id)
    assert sf is not None
    assert ldf is not None
    assert sf.summary.execution_id == "exec-sf"
    assert ldf.summary.execution_id == "exec-ldf"


def test_duplicate_claim_by_another_execution_refused(repo: DynamoDbAlbumRepository) -> None:
    upload = make_upload()
    repo.claim_upload(SF, upload, "exec-1", T0)
    with pytest.raises(DuplicateUploadError, match="already handled"):
        repo.claim_upload(SF, upload, "exec-2", T0)


def test_claim_retried_by_same_execution_allowed(repo: DynamoDbAlbumRepository) -> None:
    upload = make_upload()
    repo.claim_upload(SF, upload, "exec-1", T0)
    repo.claim_upload(SF, upload, "exec-1", T0)
    record = repo.get_upload(SF, upload.upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.RECEIVED


def test_extraction_stores_six_albums_pending_review(repo: DynamoDbAlbumRepository) -> None:
    upload = claim_and_extract(repo, LDF)
    record = repo.get_upload(LDF, upload.upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.PENDING_REVIEW
    assert [album.slot for album in record.albums] == [1, 2, 3, 4, 5, 6]
    assert record.albums[0].title == "Kind of Blue"
    assert record.albums[0].extracted_year == 1959


def test_pending_reviews_listed_newest_first(repo: DynamoDbAlbumRepository) -> None:
    ids = []
    for minute in range(3):
        upload = claim_and_extract(repo, SF, key=f"uploads/{minute}.jpg")
        at = T0 + timedelta(minutes=minute)
        repo.open_review(SF, upload.upload_id, f"tok-{minute}", six_albums(), at, at)
        ids.append(upload.upload_id)
    listed = repo.list_open_reviews(SF)
    assert [review.upload_id for review in listed] == list(reversed(ids))
    assert listed[0].token == "tok-2"
    assert repo.list_open_reviews(LDF) == []


def test_open_review_retried_takes_the_newest_token(repo: DynamoDbAlbumRepository) -> None:
    upload = claim_and_extract(repo, SF)
    repo.open_review(SF, upload.upload_id, "tok", six_albums(), T0, T0)
    repo.open_review(SF, upload.upload_id, "tok-retry", six_albums(), T0, T0)
    review = repo.get_review(SF, upload.upload_id)
    assert review is not None
    assert review.token == "tok-retry"


def test_open_review_never_reopens_a_closed_review(repo: DynamoDbAlbumRepository) -> None:
    upload = claim_and_extract(repo, SF)
    repo.open_review(SF, upload.upload_id, "tok", six_albums(), T0, T0)
    repo.resolve_review(SF, upload.upload_id, ReviewState.APPROVED, T0)
    with pytest.raises(ReviewAlreadyResolvedError, match="already closed"):
        repo.open_review(SF, upload.upload_id, "late", six_albums(), T0, T0)


def test_double_resolve_refused(repo: DynamoDbAlbumRepository) -> None:
    upload = claim_and_extract(repo, LDF)
    repo.open_review(LDF, upload.upload_id, "cb", six_albums(), T0, T0)
    resolved = repo.resolve_review(LDF, upload.upload_id, ReviewState.APPROVED, T0)
    assert resolved.state is ReviewState.APPROVED
    with pytest.raises(ReviewAlreadyResolvedError, match="already APPROVED"):
        repo.resolve_review(LDF, upload.upload_id, ReviewState.TIMED_OUT, T0)
    assert repo.list_open_reviews(LDF) == []


def test_resolve_missing_review_refused(repo: DynamoDbAlbumRepository) -> None:
    with pytest.raises(ReviewNotFoundError):
        repo.resolve_review(SF, "f" * 24, ReviewState.APPROVED, T0)


def test_six_albums_round_trip_with_decimal_prices(repo: DynamoDbAlbumRepository) -> None:
    upload = claim_and_extract(repo, SF)
    repo.open_review(SF, upload.upload_id, "tok", six_albums(), T0, T0)
    albums = six_albums()
    albums[1] = albums[1].model_copy(update={"year": 1970})
    review = ReviewResult(outcome=ReviewState.APPROVED, albums=albums, decided_at=T0)
    estimates = [
        PriceEstimate(slot=s, amount=Decimal(f"{s}9.99"), confidence=0.75, source="discogs")
        for s in range(1, 6)
    ] + [failed_estimate(6, "no match")]
    repo.store_results(SF, upload.upload_id, review, estimates, {"albums_priced": 5}, T0)

    record = repo.get_upload(SF, upload.upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    assert [album.price for album in record.albums] == [
        Decimal("19.99"),
        Decimal("29.99"),
        Decimal("39.99"),
        Decimal("49.99"),
        Decimal("59.99"),
        None,
    ]
    assert record.albums[1].year == 1970
    assert record.albums[1].extracted_year == 1969
    assert record.albums[5].price_error == "no match"
    assert record.review is not None
    assert record.review.state is ReviewState.APPROVED
    assert record.metrics["albums_priced"] == 5
    assert [s.upload_id for s in repo.list_uploads(SF, WorkflowStatus.COMPLETED)] == [
        upload.upload_id
    ]
    assert repo.list_uploads(SF, WorkflowStatus.PENDING_REVIEW) == []


def test_mark_status_keeps_reason(repo: DynamoDbAlbumRepository) -> None:
    upload = claim_and_extract(repo, SF)
    repo.mark_status(SF, upload.upload_id, WorkflowStatus.FAILED, T0, error="Boom", cause="x")
    record = repo.get_upload(SF, upload.upload_id)
    assert record is not None
    assert (record.summary.status, record.summary.error, record.summary.cause) == (
        WorkflowStatus.FAILED,
        "Boom",
        "x",
    )


def test_mark_status_of_unknown_upload_refused(repo: DynamoDbAlbumRepository) -> None:
    with pytest.raises(UploadNotFoundError):
        repo.mark_status(SF, "0" * 24, WorkflowStatus.FAILED, T0)


def test_consumed_capacity_is_metered(repo: DynamoDbAlbumRepository) -> None:
    claim_and_extract(repo, SF)
    assert repo.write_units > 0
