"""Fixture data for the dashboard tests: uploads in every state, in an in-process moto account.

The dashboard reads the same table and bucket as in production (through the real repository
and boto3 clients, intercepted by moto); only the review inbox and the history reader are
injected, so a test sees exactly what the page sent and which histories it read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from albumreg.client.target import Target
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.config import Settings
from handlers.domain.models import PriceEstimate, ReviewResult, ReviewState, WorkflowStatus
from handlers.domain.ports import ReviewInbox
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import Timeline, durable_timeline, step_functions_timeline
from handlers.domain.workflow_metrics import WorkflowMetrics
from handlers.wiring import Dependencies
from tests.conftest import T0, FixedClock, make_extraction, make_upload, six_albums
from tests.fakes import RecordingInbox
from tests.functional.conftest import TABLE

EVENTS = Path(__file__).parents[1] / "events"
BUCKET = "albums-bucket"
NOW = T0 + timedelta(minutes=10)
SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE
HISTORY_ARNS = {
    SF: "arn:aws:states:us-east-1:123456789012:execution:sm:history",
    LDF: "ldf-history",
}


def token(pattern: Pattern, name: str) -> str:
    return f"{pattern.value}-token-{name}"


def recorded_timelines() -> dict[str, Timeline]:
    """Timelines of the real local runs recorded under tests/events, by execution id."""
    sf = json.loads((EVENTS / "history_sf_happy.json").read_text())
    ldf = json.loads((EVENTS / "history_ldf_happy.json").read_text())
    return {
        HISTORY_ARNS[SF]: step_functions_timeline(sf),
        HISTORY_ARNS[LDF]: durable_timeline(ldf),
    }


@dataclass
class HistoryReader:
    """A ``TimelineReader`` over recorded histories that remembers what it was asked."""

    timelines: dict[str, Timeline] = field(default_factory=recorded_timelines)
    reads: list[tuple[Pattern, str]] = field(default_factory=list)

    def __call__(self, pattern: Pattern, execution_arn: str) -> Timeline | None:
        self.reads.append((pattern, execution_arn))
        return self.timelines.get(execution_arn)


STORED_METRICS: dict[Pattern, WorkflowMetrics] = {
    SF: WorkflowMetrics(
        collected_at=T0,
        workflow_status=WorkflowStatus.COMPLETED,
        active_seconds=4.5,
        human_wait_seconds=30,
        step_seconds={"extract-albums": 3.1, "price-albums": 1.2},
        billed_units=11,
        parallel_efficiency=0.93,
        cost={"orchestration": Decimal("0.000275"), "vision": Decimal("0.0002")},
        cost_total_usd=Decimal("0.000475"),
        cost_orchestration_usd=Decimal("0.000275"),
        cost_shared_usd=Decimal("0.0002"),
    ),
    LDF: WorkflowMetrics(
        collected_at=T0,
        workflow_status=WorkflowStatus.COMPLETED,
        active_seconds=3.5,
        human_wait_seconds=31,
        step_seconds={"extract-albums": 2.9, "price-albums": 0.5},
        billed_units=13,
        parallel_efficiency=0.97,
    ),
}
"""What the collector recorded for the ``stored`` upload of each pattern."""


@dataclass
class World:
    """What the fixture stored, and the fakes the dashboard was given."""

    repo: DynamoDbAlbumRepository
    s3: Any
    clock: FixedClock
    inbox: ReviewInbox
    histories: HistoryReader
    uploads: dict[str, str]
    deps: Dependencies = field(init=False)

    def __post_init__(self) -> None:
        self.deps = Dependencies(
            Settings(table_name=TABLE, metrics_mode="off"),
            repo=self.repo,
            inbox=self.inbox,
            clock=self.clock,
        )

    @property
    def sent(self) -> list[tuple[Pattern, str, str]]:
        """What the recording inbox was asked to send (pattern, token, result JSON)."""
        assert isinstance(self.inbox, RecordingInbox)
        return self.inbox.completed

    def review_state(self, pattern: Pattern, name: str) -> ReviewState:
        """The stored state of one fixture upload's review."""
        review = self.repo.get_review(pattern, self.uploads[name])
        assert review is not None
        return review.state

    def backend(self) -> Any:
        from albumreg.dashboard.data.backend import Backend

        target = Target(
            bucket=BUCKET,
            table_name=TABLE,
            state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:albumreg",
            durable_function="albumreg-durable",
            region="us-east-1",
            source="test fixture",
        )
        return Backend(target, self.deps, self.histories)


def _pending(repo, name: str, patterns, requested, expires, unrecognized=(6,)) -> str:
    upload = make_upload(key=f"uploads/{name}.jpg", etag=name)
    extraction = make_extraction(unrecognized=unrecognized)
    for pattern in Pattern:
        repo.claim_upload(pattern, upload, f"{pattern.value}-exec-{name}", requested)
        repo.save_extraction(pattern, upload.upload_id, extraction, requested)
    for pattern in patterns:
        repo.open_review(
            pattern, upload.upload_id, token(pattern, name), extraction.albums, requested, expires
        )
    return upload.upload_id


def _completed(repo, name: str, execution_ids, metrics, year_two=None) -> str:
    upload = make_upload(key=f"uploads/{name}.jpg", etag=name)
    extraction = make_extraction()
    for pattern in Pattern:
        repo.claim_upload(pattern, upload, execution_ids[pattern], T0)
        repo.save_extraction(pattern, upload.upload_id, extraction, T0)
        repo.open_review(pattern, upload.upload_id, token(pattern, name), extraction.albums, T0, T0)
        albums = six_albums()
        if pattern is LDF and year_two is not None:
            albums[1] = albums[1].model_copy(update={"year": year_two})
        review = ReviewResult(outcome=ReviewState.APPROVED, albums=albums, decided_at=T0)
        estimates = [
            PriceEstimate(slot=slot, amount=Decimal("20.00"), confidence=0.8, source="fake")
            for slot in range(1, 7)
        ]
        results = WorkflowMetrics(execution_id=execution_ids[pattern])
        repo.store_results(pattern, upload.upload_id, review, estimates, results, T0)
        if pattern in metrics:
            repo.record_metrics(pattern, upload.upload_id, metrics[pattern])
    return upload.upload_id


def build_world(repo, s3, inbox: ReviewInbox | None = None) -> World:
    """Uploads in every state a page must draw, in the table and (one photo) in the bucket."""
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="uploads/pending.jpg", Body=SAMPLE_PHOTO.read_bytes())
    hour = timedelta(hours=1)
    uploads = {
        "pending": _pending(repo, "pending", Pattern, NOW - timedelta(minutes=2), NOW + hour),
        "half": _pending(repo, "half", Pattern, NOW - timedelta(minutes=5), NOW + hour),
        "late": _pending(repo, "late", [SF], NOW - hour, NOW - timedelta(minutes=1)),
        "stored": _completed(
            repo, "stored", {p: f"{p.value}-exec-stored" for p in Pattern}, STORED_METRICS, 1970
        ),
        "history": _completed(repo, "history", HISTORY_ARNS, {}),
    }
    repo.resolve_review(LDF, uploads["half"], ReviewState.APPROVED, NOW)
    failed = make_upload(key="uploads/failed.jpg", etag="failed")
    repo.claim_upload(SF, failed, "sf-exec-failed", T0)
    repo.mark_status(SF, failed.upload_id, WorkflowStatus.FAILED, T0, error="Boom", cause="test")
    uploads["failed"] = failed.upload_id
    return World(repo, s3, FixedClock(NOW), inbox or RecordingInbox(), HistoryReader(), uploads)
