"""The local cloud's data folder on in-process moto: snapshot, restore, interrupt, lock."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from albumreg.cloud.persistence import INTERRUPTED_ERROR, DataFolder, DataFolderError
from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.adapters.table_schema import create_table_request
from handlers.domain.models import ReviewState, WorkflowStatus
from handlers.domain.tenant import Pattern
from tests.conftest import T0, make_extraction, make_upload

TABLE = "albumreg-data"
BUCKET = "albumreg-data-uploads"


def _provision(session: boto3.session.Session) -> DynamoDbAlbumRepository:
    dynamodb = session.client("dynamodb")
    dynamodb.create_table(**create_table_request(TABLE))
    session.client("s3").create_bucket(Bucket=BUCKET)
    return DynamoDbAlbumRepository(dynamodb, TABLE)


def _restore(folder: DataFolder, session: boto3.session.Session) -> Any:
    return folder.restore(session, table=TABLE, bucket=BUCKET, durable_function="durable")


@pytest.fixture
def no_durable_plane(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """moto has no durable executions API: record the stop request instead."""
    stopped: list[str] = []
    monkeypatch.setattr(
        DataFolder,
        "_stop_durable_executions",
        staticmethod(lambda client, function, saved_at: stopped.append(function)),
    )
    return stopped


def test_state_survives_a_restart_and_unfinished_work_is_interrupted(
    tmp_path: Path, no_durable_plane: list[str]
) -> None:
    done, waiting = make_upload(key="uploads/done.jpg"), make_upload(key="uploads/waiting.jpg")
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        scans: list[str] = []
        session.events.register("before-call.dynamodb.Scan", lambda **_: scans.append("scan"))
        repo = _provision(session)
        with DataFolder(tmp_path, interval_seconds=0.1) as folder:
            assert _restore(folder, session).items == 0
            # GIVEN one finished upload and one waiting for review, a photo and a datapoint
            repo.claim_upload(Pattern.DURABLE, done, "exec-done", T0)
            repo.mark_status(Pattern.DURABLE, done.upload_id, WorkflowStatus.COMPLETED, T0)
            repo.claim_upload(Pattern.STEP_FUNCTIONS, waiting, "exec-waiting", T0)
            extraction = make_extraction()
            repo.save_extraction(Pattern.STEP_FUNCTIONS, waiting.upload_id, extraction, T0)
            repo.open_review(
                Pattern.STEP_FUNCTIONS, waiting.upload_id, "t", extraction.albums, T0, T0
            )
            session.client("s3").put_object(
                Bucket=BUCKET, Key="uploads/done.jpg", Body=b"photo", ContentType="image/jpeg"
            )
            session.client("cloudwatch").put_metric_data(
                Namespace="albumreg",
                MetricData=[{"MetricName": "ActiveSeconds", "Value": 4.5, "Timestamp": T0}],
            )
            # THEN the periodic snapshot has them before any stop (a crash loses seconds only)
            saved = tmp_path / "dynamodb" / f"{TABLE}.json"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and '"REVIEW"' not in saved.read_text():
                time.sleep(0.05)
            assert saved.read_text().count("META") == 2
            # AND while nothing is written, the table is not scanned again
            folder.save()
            scanned = len(scans)
            time.sleep(0.3)
            folder.save()
            assert len(scans) == scanned
            repo.mark_status(Pattern.DURABLE, done.upload_id, WorkflowStatus.COMPLETED, T0)
            folder.save()
            assert len(scans) == scanned + 1
        before = session.client("dynamodb").scan(TableName=TABLE)["Items"]

    no_durable_plane.clear()

    # WHEN a new cloud starts on the folder
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        repo = _provision(session)
        with DataFolder(tmp_path) as folder:
            restored = _restore(folder, session)
            # THEN everything is back
            assert (restored.items, restored.objects, restored.datapoints) == (len(before), 1, 1)
            photo = session.client("s3").get_object(Bucket=BUCKET, Key="uploads/done.jpg")
            assert photo["Body"].read() == b"photo"
            assert photo["ContentType"] == "image/jpeg"
            stats = session.client("cloudwatch").get_metric_statistics(
                Namespace="albumreg",
                MetricName="ActiveSeconds",
                StartTime=datetime(2020, 1, 1, tzinfo=UTC),
                EndTime=datetime(2100, 1, 1, tzinfo=UTC),
                Period=60,
                Statistics=["Sum"],
            )
            assert [p["Sum"] for p in stats["Datapoints"]] == [4.5]
            done_summary = repo.get_summary(Pattern.DURABLE, done.upload_id)
            assert done_summary is not None
            assert done_summary.status is WorkflowStatus.COMPLETED
            # AND the upload that waited for review is interrupted, with its reason
            assert [(i.pattern, i.upload_id) for i in restored.interrupted] == [
                (Pattern.STEP_FUNCTIONS, waiting.upload_id)
            ]
            failed = repo.list_uploads(Pattern.STEP_FUNCTIONS, WorkflowStatus.FAILED)
            assert [s.upload_id for s in failed] == [waiting.upload_id]
            assert failed[0].error == INTERRUPTED_ERROR
            assert failed[0].cause is not None
            assert "PENDING_REVIEW" in failed[0].cause
            assert "last saved" in failed[0].cause
            review = repo.get_review(Pattern.STEP_FUNCTIONS, waiting.upload_id)
            assert review is not None
            assert review.state is ReviewState.TIMED_OUT
            assert repo.list_open_reviews(Pattern.STEP_FUNCTIONS) == []
            assert no_durable_plane == ["durable"]


def test_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    with DataFolder(tmp_path), pytest.raises(DataFolderError, match="in use"):
        DataFolder(tmp_path).__enter__()
    with DataFolder(tmp_path):  # released on exit
        pass


def test_fresh_empties_our_folder_and_refuses_a_foreign_one(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    (ours / "dynamodb").mkdir(parents=True)
    (ours / "dynamodb" / "t.json").write_text("[]")
    (ours / "albumreg-data.json").write_text(json.dumps({"format": 1}))
    with DataFolder(ours, fresh=True):
        assert not (ours / "dynamodb").exists()

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    for fresh in (False, True):
        with pytest.raises(DataFolderError, match="not an albumreg data folder"):
            DataFolder(foreign, fresh=fresh).__enter__()
    assert (foreign / "notes.txt").read_text() == "mine"
