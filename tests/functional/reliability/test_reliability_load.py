"""Load: 100 uploads at once on a local cloud in this process (handlers in its worker processes),
reviews approved through the gateway as they appear; every workflow of both patterns drains to a
final status, none lost, none failed. The photo is read once by the real OCR and replayed for
identical pixels. ``make test-slow``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from albumreg.client.uploads import upload_bytes
from albumreg.cloud.lambdas.recognition import RecognizerKnobs
from albumreg.cloud.local_cloud import CloudOptions, LocalCloud
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.adapters.dynamodb import upload_pk
from handlers.adapters.table_schema import PARTITION_KEY, SORT_KEY
from handlers.domain.errors import AlbumRegError
from handlers.domain.models import FINAL_STATUSES, ReviewDecision, WorkflowStatus
from handlers.domain.reviews import submit_review
from handlers.domain.tenant import Pattern
from handlers.wiring import Dependencies
from tests.functional.reliability.patterns import ONE_SET_OF_RECORDS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

UPLOADS = 100
DRAIN_TIMEOUT_SECONDS = 600
REVIEW_TIMEOUT_SECONDS = 900
"""Longer than the whole run: every review is answered by the reviewer thread, none times out."""
POLL_SECONDS = 0.5
APPROVE = ReviewDecision(action="approve", reviewer="load-test")


@dataclass
class Reviewer:
    """Approves every open review of both patterns through the gateway, as a person would."""

    deps: Dependencies
    approved: int = 0
    refused: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            for pattern in Pattern:
                for review in self.deps.repo.list_open_reviews(pattern, limit=200):
                    try:
                        submit_review(
                            pattern,
                            review.upload_id,
                            APPROVE,
                            repo=self.deps.repo,
                            inbox=self.deps.inbox,
                            clock=self.deps.clock,
                        )
                        self.approved += 1
                    except AlbumRegError as exc:
                        self.refused.append(f"{pattern.value} {review.upload_id}: {exc}")
            self.stop.wait(POLL_SECONDS)


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    options = CloudOptions(
        port_base=0,
        review_timeout_seconds=REVIEW_TIMEOUT_SECONDS,
        env_file=tmp_path / "local.env",
        recognition=RecognizerKnobs(replay=True),
    )
    with LocalCloud(options) as running:
        yield running


def final_uploads(deps: Dependencies, pattern: Pattern) -> dict[str, WorkflowStatus]:
    return {
        summary.upload_id: summary.status
        for status in FINAL_STATUSES
        for summary in deps.repo.list_uploads(pattern, status, limit=UPLOADS * 2)
    }


def test_hundred_uploads_at_once_all_drain_with_nothing_lost(cloud: LocalCloud, capsys) -> None:
    deps = cloud.dependencies
    photo = SAMPLE_PHOTO.read_bytes()
    s3 = deps.client("s3")
    reviewer = Reviewer(deps)
    reviewing = threading.Thread(target=reviewer.run, name="load-reviewer", daemon=True)
    reviewing.start()

    # WHEN 100 photos land in the bucket at once
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        uploads = list(
            pool.map(
                lambda n: upload_bytes(s3, cloud.target.bucket, photo, f"uploads/load-{n:03}.jpg"),
                range(UPLOADS),
            )
        )
    submitted = time.monotonic() - started
    expected = {upload.upload_id for upload in uploads}
    assert len(expected) == UPLOADS

    # THEN both patterns drain every workflow to a final status
    finished: dict[Pattern, dict[str, WorkflowStatus]] = {}
    while time.monotonic() - started < DRAIN_TIMEOUT_SECONDS:
        finished = {pattern: final_uploads(deps, pattern) for pattern in Pattern}
        if all(expected <= set(statuses) for statuses in finished.values()):
            break
        time.sleep(POLL_SECONDS)
    drained = time.monotonic() - started
    reviewer.stop.set()
    reviewing.join(timeout=10)
    with capsys.disabled():
        print(
            f"\nload: {UPLOADS} uploads submitted in {submitted:.1f} s; both patterns drained "
            f"{2 * UPLOADS} workflows in {drained:.1f} s ({reviewer.approved} reviews approved)"
        )

    for pattern in Pattern:
        statuses = finished[pattern]
        lost = expected - set(statuses)
        assert not lost, f"{pattern.value}: {len(lost)} workflows never reached a final status"
        assert {statuses[upload_id] for upload_id in expected} == {WorkflowStatus.COMPLETED}
    assert reviewer.approved == 2 * UPLOADS, reviewer.refused
    assert_no_failed_executions(cloud)
    assert_one_priced_set_of_records(deps, expected)


def assert_no_failed_executions(cloud: LocalCloud) -> None:
    sfn = cloud.dependencies.client("stepfunctions")
    sf = [
        execution["status"]
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=cloud.state_machine_arn
        )
        for execution in page["executions"]
    ]
    assert len(sf) >= UPLOADS
    assert set(sf) == {"SUCCEEDED"}
    durable = cloud.dependencies.client("lambda")
    runs = durable.list_durable_executions_by_function(
        FunctionName=cloud.target.durable_function, MaxItems=1000
    )["DurableExecutions"]
    assert len(runs) >= UPLOADS
    assert {run["Status"] for run in runs} == {"SUCCEEDED"}


def assert_one_priced_set_of_records(deps: Dependencies, expected: set[str]) -> None:
    """Every upload: exactly one set of items per pattern, all six albums priced."""
    dynamodb = deps.client("dynamodb")
    for pattern in Pattern:
        for upload_id in expected:
            items = dynamodb.query(
                TableName=deps.settings.table_name,
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
                ExpressionAttributeValues={":pk": {"S": upload_pk(pattern, upload_id)}},
                ConsistentRead=True,
            )["Items"]
            assert sorted(item[SORT_KEY]["S"] for item in items) == ONE_SET_OF_RECORDS
            albums = [item for item in items if item[SORT_KEY]["S"].startswith("ALBUM#")]
            assert all("price" in album and "price_error" not in album for album in albums)
