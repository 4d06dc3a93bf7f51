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
from handlers.domain.workflow_metrics import CostItem, StoredUsage, WorkflowMetrics
from tests.conftest import T0, make_extraction, make_upload, six_albums
from tests.functional.conftest import TABLE

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
    results = WorkflowMetrics(albums_priced=5, review_outcome=ReviewState.APPROVED)
    repo.store_results(SF, upload.upload_id, review, estimates, results, T0)

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
    assert record.metrics is not None and record.metrics.albums_priced == 5
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


def _measured(seconds: float) -> WorkflowMetrics:
    """A collector's measurements, every kind of field filled (nested ones too)."""
    return WorkflowMetrics(
        collected_at=T0 + timedelta(minutes=5),
        execution_status="SUCCEEDED",
        workflow_status=WorkflowStatus.COMPLETED,
        started_at=T0,
        ended_at=T0 + timedelta(seconds=seconds),
        total_seconds=seconds,
        active_seconds=seconds - 1.5,
        human_wait_seconds=1.5,
        step_seconds={"extract-albums": 2.25, "price-albums": 0.75},
        parallel_efficiency=0.875,
        billed_units=11,
        billed_unit="state transitions",
        retries={"price-album": 2},
        retry_billed_units=2,
        invocation_timing="recorded",
        usage=StoredUsage(state_transitions=11, lambda_gb_seconds=Decimal("1.234567891")),
        cost={"orchestration": Decimal("0.000275000000")},
        cost_total_usd=Decimal("0.000312345678"),
        cost_items={
            "state transitions": CostItem(
                component="orchestration",
                quantity=Decimal(11),
                unit="transition",
                usd=Decimal("0.000275000000"),
            )
        },
        rates_as_of=T0.date(),
        region="us-east-1",
        init_durations_s=[0.125],
        cold_start_source="not measured",
    )


def test_metrics_round_trip_through_the_table(repo: DynamoDbAlbumRepository) -> None:
    # GIVEN a workflow that stored its results, then its collector's measurements
    upload = claim_and_extract(repo, SF)
    repo.open_review(SF, upload.upload_id, "tok", six_albums(), T0, T0)
    review = ReviewResult(outcome=ReviewState.APPROVED, albums=six_albums(), decided_at=T0)
    results = WorkflowMetrics(execution_id="exec-sf", albums_priced=6, pricing_requests=7)
    repo.store_results(SF, upload.upload_id, review, [], results, T0)
    measured = _measured(12.5)

    # WHEN the measurements are recorded and read back both ways
    stored = repo.record_metrics(SF, upload.upload_id, measured)
    record = repo.get_upload(SF, upload.upload_id)
    batch = repo.get_metrics(SF, [upload.upload_id])

    # THEN every value comes back as it went in (USD exactly), beside the results
    expected = measured.model_copy(
        update={"execution_id": "exec-sf", "albums_priced": 6, "pricing_requests": 7}
    )
    assert stored == expected
    assert record is not None and record.metrics == expected
    assert batch == {upload.upload_id: expected}
    breakdown = expected.breakdown(SF)
    assert breakdown is not None and breakdown.total == Decimal("0.000275000000")


def test_first_collector_wins_unless_forced(repo: DynamoDbAlbumRepository) -> None:
    # GIVEN a workflow whose measurements one collector recorded
    upload = claim_and_extract(repo, LDF)
    first = repo.record_metrics(LDF, upload.upload_id, _measured(10.0))

    # WHEN a second collector records others, then a forced recomputation does
    second = repo.record_metrics(LDF, upload.upload_id, _measured(20.0))
    after_second = repo.get_metrics(LDF, [upload.upload_id])[upload.upload_id]
    forced = repo.record_metrics(LDF, upload.upload_id, _measured(30.0), force=True)

    # THEN the second is refused and the first's values stay, until forced
    assert first is not None and first.total_seconds == 10.0
    assert second is None
    assert after_second.total_seconds == 10.0
    assert forced is not None and forced.total_seconds == 30.0


def test_metrics_stored_by_an_earlier_version_still_load(
    repo: DynamoDbAlbumRepository, dynamodb
) -> None:
    # GIVEN a METRICS item written before the rates vocabulary: ``prices_as_of``, and a key
    # this version does not know
    upload = claim_and_extract(repo, SF)
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"sf#UPLOAD#{upload.upload_id}"},
            "sk": {"S": "METRICS"},
            "prices_as_of": {"S": "2025-06-01"},
            "region": {"S": "us-east-1"},
            "cost_total_usd": {"N": "0.000123"},
            "retired_key": {"S": "ignored"},
        },
    )

    # WHEN it is read
    metrics = repo.get_metrics(SF, [upload.upload_id])[upload.upload_id]

    # THEN the old name reads as ``rates_as_of`` and the unknown key is ignored
    assert metrics.rates_as_of is not None and metrics.rates_as_of.isoformat() == "2025-06-01"
    assert metrics.cost_total_usd == Decimal("0.000123")
    breakdown = metrics.breakdown(SF)
    assert breakdown is not None and breakdown.rates_as_of == metrics.rates_as_of
