"""The dashboard's pure data shaping: review states, stored metrics, timelines, differences."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from albumreg.client.target import Target
from albumreg.dashboard.data.albums import AlbumPair, album_pairs
from albumreg.dashboard.data.comparison import (
    ExecutionMetrics,
    Outcomes,
    stored_metrics,
    summarize,
    timeline_bars,
    timeline_metrics,
)
from albumreg.dashboard.data.reviews import review_status
from albumreg.dashboard.data.upload import places
from handlers.domain.models import ReviewState, WorkflowStatus
from handlers.domain.records import ReviewRecord, StoredAlbum, UploadRecord, UploadSummary
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import durable_timeline, step_functions_timeline
from handlers.domain.workflow_metrics import WorkflowMetrics
from tests.conftest import T0, six_albums

EVENTS = Path(__file__).parents[1] / "events"
SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE


def summary(pattern: Pattern = SF, status: WorkflowStatus = WorkflowStatus.COMPLETED):
    return UploadSummary(
        pattern=pattern,
        upload_id="a" * 24,
        bucket="b",
        key="uploads/x.jpg",
        status=status,
        received_at=T0,
        updated_at=T0,
        execution_id=f"{pattern.value}-exec",
    )


def review(state: ReviewState = ReviewState.OPEN, expires_in: float = 60) -> ReviewRecord:
    return ReviewRecord(
        pattern=SF,
        upload_id="a" * 24,
        token="t",
        state=state,
        albums=six_albums(),
        requested_at=T0,
        expires_at=T0 + timedelta(seconds=expires_in),
    )


def timelines():
    return {
        SF: step_functions_timeline(json.loads((EVENTS / "history_sf_happy.json").read_text())),
        LDF: durable_timeline(json.loads((EVENTS / "history_ldf_happy.json").read_text())),
    }


def test_open_review_before_its_deadline_is_approvable_with_time_left() -> None:
    status = review_status(review(expires_in=90), T0 + timedelta(seconds=30))

    assert status.approvable
    assert status.seconds_left == 60


@pytest.mark.parametrize(
    ("record", "label"),
    [
        (review(expires_in=30), "timed out"),
        (review(ReviewState.APPROVED), "approved"),
        (review(ReviewState.REJECTED), "rejected"),
        (review(ReviewState.TIMED_OUT), "timed out"),
        (None, "not waiting for review"),
    ],
)
def test_a_review_no_longer_waiting_is_not_approvable(record, label: str) -> None:
    status = review_status(record, T0 + timedelta(seconds=30))

    assert not status.approvable
    assert status.label == label


def test_stored_metrics_are_read_with_their_maps() -> None:
    # As DynamoDB returns them: every number a Decimal.
    metrics = WorkflowMetrics.model_validate(
        {
            "execution_id": "x",
            "active_seconds": Decimal("4.25"),
            "human_wait_seconds": Decimal("12"),
            "step_seconds": {"extract-albums": Decimal("3"), "price-albums": Decimal("1.25")},
            "billed_units": Decimal("11"),
            "parallel_efficiency": Decimal("0.9"),
            "cost": {"orchestration": Decimal("0.000275")},
        }
    )

    found = stored_metrics(summary(), metrics)

    assert found == ExecutionMetrics(
        pattern=SF,
        upload_id="a" * 24,
        execution_id="sf-exec",
        received_at=T0,
        source="stored",
        active_seconds=4.25,
        human_wait_seconds=12.0,
        step_seconds={"extract-albums": 3.0, "price-albums": 1.25},
        billed_units=11,
        parallel_efficiency=0.9,
        cost={"orchestration": 0.000275},
    )


def test_metrics_without_timings_are_not_stored_metrics() -> None:
    results = WorkflowMetrics(execution_id="x", albums_priced=6)
    assert stored_metrics(summary(), results) is None
    assert stored_metrics(summary(), None) is None


def test_timeline_metrics_come_from_the_history() -> None:
    found = timeline_metrics(summary(LDF), timelines()[LDF])

    assert found is not None
    assert found.source == "history"
    assert found.billed_units == 13
    assert found.step_seconds["extract-albums"] > 0
    assert found.active_seconds == pytest.approx(
        timelines()[LDF].total_seconds - found.human_wait_seconds
    )


def test_timeline_bars_share_one_origin_and_leave_control_states_out() -> None:
    bars = timeline_bars(timelines())

    rows = {bar.row for bar in bars}
    assert "review-outcome" not in rows  # a Step Functions Choice state: no work, no twin
    assert {"Extract albums", "Human review", "Price agents", "Store results"} <= rows
    assert sum(1 for bar in bars if bar.kind == "agent" and bar.pattern is SF) == 6
    assert sum(1 for bar in bars if bar.kind == "agent" and bar.pattern is LDF) == 6
    assert all(bar.end >= bar.start >= 0 for bar in bars)
    waits = [bar for bar in bars if bar.kind == "wait"]
    assert {bar.pattern for bar in waits} == {SF, LDF}
    by_row = sorted({(bar.order, bar.row) for bar in bars})
    assert [row for _, row in by_row][:3] == ["Extract albums", "Human review", "Price agents"]


def test_timeline_bars_of_nothing_are_empty() -> None:
    assert timeline_bars({}) == []


def record(pattern: Pattern, albums: list[StoredAlbum]) -> UploadRecord:
    return UploadRecord(summary=summary(pattern), albums=albums)


def album(slot: int, **changes) -> StoredAlbum:
    values = {"slot": slot, "title": "T", "artist": "A", "year": 1970, "price": Decimal("20")}
    return StoredAlbum.model_validate(values | changes)


def test_album_pairs_name_the_fields_that_differ() -> None:
    pairs = album_pairs(
        {
            SF: record(SF, [album(1), album(2, year=1971), album(3)]),
            LDF: record(LDF, [album(1), album(2), album(3, price=Decimal("21"), currency="EUR")]),
        }
    )

    assert [p.differences for p in pairs] == [
        frozenset(),
        frozenset({"year"}),
        frozenset({"price", "currency"}),
    ]


def test_album_pairs_mark_a_side_missing_as_different_everywhere() -> None:
    pairs = album_pairs({SF: record(SF, [album(1)]), LDF: None})

    assert pairs == [
        AlbumPair(1, {SF: album(1), LDF: None}, pairs[0].differences),
    ]
    assert "title" in pairs[0].differences
    assert "year" in pairs[0].differences


def test_success_rate_is_completed_over_completed_and_failed() -> None:
    assert Outcomes(SF, completed=3, failed=1).success_rate == 0.75
    assert Outcomes(SF, completed=0, failed=0).success_rate is None


def test_summarize_gives_medians_per_pattern() -> None:
    def measured(pattern: Pattern, active: float, units: int) -> ExecutionMetrics:
        return ExecutionMetrics(pattern, "u", None, T0, "stored", active, 0.0, {}, units, None)

    summaries = summarize([measured(SF, 1, 10), measured(SF, 3, 12), measured(SF, 100, 11)])

    assert summaries[0].median_active_seconds == 3
    assert summaries[0].median_billed_units == 11
    assert summaries[0].median_parallel_efficiency is None
    assert summaries[1].executions == 0
    assert summaries[1].median_active_seconds is None


def test_places_link_the_aws_console_only_on_aws() -> None:
    aws = Target("bkt", "tbl", "arn:aws:states:eu-west-1:1:stateMachine:sm", "fn", "eu-west-1")
    local = Target("bkt", "tbl", "arn:sm", "fn", "us-east-1", {"AWS_ENDPOINT_URL_S3": "http://x"})

    on_aws = {place.what: place for place in places(aws, "uploads/")}
    on_local = {place.what: place for place in places(local, "uploads/")}

    assert on_aws["Step Functions state machine"].link == (
        "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1"
        "#/statemachines/view/arn:aws:states:eu-west-1:1:stateMachine:sm"
    )
    assert on_aws["Uploads bucket"].name == "s3://bkt/uploads/"
    assert all(place.link is None for place in on_local.values())
    assert on_local["Local endpoint (S3)"].name == "http://x"
