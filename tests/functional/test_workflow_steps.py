"""The four business steps over moto's DynamoDB, called the way an orchestrator calls them."""

from __future__ import annotations

import pytest

from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.domain.errors import DuplicateUploadError, InvalidImageError, InvalidUploadError
from handlers.domain.models import (
    PriceRequest,
    ReviewDecision,
    ReviewState,
    StoreRequest,
    WorkflowStatus,
)
from handlers.domain.tenant import Pattern
from handlers.domain.workflow import (
    decide_review,
    extract_albums,
    price_album,
    record_failure,
    record_rejection,
    record_review_timeout,
    request_review,
    store_results,
)
from tests.conftest import FixedClock, make_extraction, make_upload
from tests.fakes import FakeImages, RecordingMetrics, ScriptedPricing, ScriptedRecognizer

SF = Pattern.STEP_FUNCTIONS


def extract(repo, clock, upload=None, recognizer=None, images=None, execution="exec-1"):
    upload = upload or make_upload()
    images = images or FakeImages({(upload.bucket, upload.key): b"jpeg"})
    recognizer = recognizer or ScriptedRecognizer(make_extraction(unrecognized=(6,)))
    return extract_albums(
        SF, upload, execution, images=images, recognizer=recognizer, repo=repo, clock=clock
    )


def test_happy_path_ends_completed_with_corrected_year(
    repo: DynamoDbAlbumRepository, clock: FixedClock
) -> None:
    extracted = extract(repo, clock)
    upload_id = extracted.upload.upload_id
    request_review(SF, upload_id, "tok", extracted.albums, 60, repo=repo, clock=clock)
    review = repo.get_review(SF, upload_id)
    assert review is not None
    assert (review.expires_at - review.requested_at).total_seconds() == 60

    clock.advance(30)
    decision = ReviewDecision.model_validate(
        {"action": "approve", "corrections": [{"slot": 3, "year": 1976}]}
    )
    result = decide_review(review, decision, clock=clock)
    estimates = [
        price_album(
            PriceRequest(pattern=SF, upload_id=upload_id, album=album), pricing=ScriptedPricing()
        )
        for album in result.albums
    ]
    metrics = RecordingMetrics()
    summary = store_results(
        StoreRequest(
            pattern=SF,
            upload_id=upload_id,
            execution_id="exec-1",
            review=result,
            estimates=estimates,
        ),
        repo=repo,
        metrics=metrics,
        clock=clock,
    )

    assert summary == {
        "upload_id": upload_id,
        "status": "COMPLETED",
        "review": "APPROVED",
        "priced": 5,
        "unpriced": 1,
    }
    record = repo.get_upload(SF, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    assert record.albums[2].year == 1976
    assert record.albums[2].extracted_year == 1977
    assert record.albums[5].price_error == "album not recognized; nothing to price"
    assert metrics.emitted[0][1]["AlbumsPriced"] == 5.0


def test_duplicate_event_pays_no_second_model_call(
    repo: DynamoDbAlbumRepository, clock: FixedClock
) -> None:
    recognizer = ScriptedRecognizer(make_extraction())
    extract(repo, clock, recognizer=recognizer, execution="exec-1")
    with pytest.raises(DuplicateUploadError):
        extract(repo, clock, recognizer=recognizer, execution="exec-2")
    assert recognizer.calls == 1


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (make_upload(key="uploads/../x.jpg"), InvalidUploadError),
        (make_upload(size=50 * 1024 * 1024), InvalidImageError),
    ],
)
def test_bad_upload_is_recorded_rejected_without_model_call(
    repo: DynamoDbAlbumRepository, clock: FixedClock, upload, error
) -> None:
    recognizer = ScriptedRecognizer(make_extraction())
    with pytest.raises(error):
        extract(repo, clock, upload=upload, recognizer=recognizer)
    assert recognizer.calls == 0
    record = repo.get_upload(SF, upload.upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.REJECTED
    assert record.summary.error == error.__name__


def test_unreadable_image_is_rejected(repo: DynamoDbAlbumRepository, clock: FixedClock) -> None:
    recognizer = ScriptedRecognizer(make_extraction(), error=InvalidImageError("not an image"))
    upload = make_upload()
    with pytest.raises(InvalidImageError):
        extract(repo, clock, upload=upload, recognizer=recognizer)
    record = repo.get_upload(SF, upload.upload_id)
    assert record is not None
    assert record.summary.cause == "not an image"


def test_review_timeout_goes_on_with_extracted_albums(
    repo: DynamoDbAlbumRepository, clock: FixedClock
) -> None:
    extracted = extract(repo, clock)
    upload_id = extracted.upload.upload_id
    request_review(SF, upload_id, "tok", extracted.albums, 5, repo=repo, clock=clock)
    result = record_review_timeout(SF, upload_id, extracted.albums, repo=repo, clock=clock)
    assert result.outcome is ReviewState.TIMED_OUT
    assert result.albums == extracted.albums
    review = repo.get_review(SF, upload_id)
    assert review is not None
    assert review.state is ReviewState.TIMED_OUT


def test_review_timeout_after_a_late_human_close_still_returns(
    repo: DynamoDbAlbumRepository, clock: FixedClock
) -> None:
    extracted = extract(repo, clock)
    upload_id = extracted.upload.upload_id
    request_review(SF, upload_id, "tok", extracted.albums, 5, repo=repo, clock=clock)
    repo.resolve_review(SF, upload_id, ReviewState.APPROVED, clock.now())
    result = record_review_timeout(SF, upload_id, extracted.albums, repo=repo, clock=clock)
    assert result.outcome is ReviewState.TIMED_OUT


def test_rejection_is_recorded(repo: DynamoDbAlbumRepository, clock: FixedClock) -> None:
    extracted = extract(repo, clock)
    upload_id = extracted.upload.upload_id
    request_review(SF, upload_id, "tok", extracted.albums, 60, repo=repo, clock=clock)
    review = repo.get_review(SF, upload_id)
    assert review is not None
    result = decide_review(review, ReviewDecision(action="reject", comment="blurry"), clock=clock)
    record_rejection(SF, upload_id, result, repo=repo, clock=clock)
    record = repo.get_upload(SF, upload_id)
    assert record is not None
    assert (record.summary.status, record.summary.cause) == (WorkflowStatus.REJECTED, "blurry")


def test_failure_is_recorded_and_counted(repo: DynamoDbAlbumRepository, clock: FixedClock) -> None:
    extracted = extract(repo, clock)
    metrics = RecordingMetrics()
    record_failure(
        SF,
        extracted.upload.upload_id,
        "RecognitionError",
        "model said nothing",
        repo=repo,
        metrics=metrics,
        clock=clock,
    )
    record = repo.get_upload(SF, extracted.upload.upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.FAILED
    assert metrics.emitted == [(SF, {"WorkflowsFailed": 1.0})]


def test_failure_before_any_record_only_counts(
    repo: DynamoDbAlbumRepository, clock: FixedClock
) -> None:
    metrics = RecordingMetrics()
    record_failure(SF, "0" * 24, "X", "y", repo=repo, metrics=metrics, clock=clock)
    record_failure(SF, None, "X", "y", repo=repo, metrics=metrics, clock=clock)
    assert len(metrics.emitted) == 2
