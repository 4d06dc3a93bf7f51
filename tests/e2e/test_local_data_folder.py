"""``albumreg local`` stopped and started again on the same data folder: nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from albumreg.cloud.persistence import INTERRUPTED_ERROR
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.adapters.dynamodb import upload_pk
from handlers.domain.events import upload_id_for
from handlers.domain.models import ReviewState, WorkflowStatus
from handlers.domain.tenant import Pattern
from tests.e2e.conftest import RunningCloud, run_cli

pytestmark = pytest.mark.e2e
SAMPLE = SAMPLE_PHOTO.read_bytes()


def put_sample(cloud: RunningCloud, key: str) -> str:
    response = cloud.s3.put_object(Bucket=cloud.target.bucket, Key=key, Body=SAMPLE)
    return upload_id_for(cloud.target.bucket, key, response["ETag"].strip('"'))


def listed(cloud: RunningCloud, status: WorkflowStatus) -> list[dict[str, object]]:
    result = run_cli(cloud.env_file, "uploads", "list", "--status", status.value, "--json")
    assert result.returncode == 0, result.stderr
    found: list[dict[str, object]] = json.loads(result.stdout)
    return found


def stored_items(cloud: RunningCloud, upload_id: str) -> dict[str, Any]:
    """Every item of one upload, both patterns, exactly as DynamoDB returns them."""
    dynamodb = cloud.session.client(
        "dynamodb", endpoint_url=cloud.target.endpoints["AWS_ENDPOINT_URL_DYNAMODB"]
    )
    items: dict[str, Any] = {}
    for pattern in Pattern:
        found = dynamodb.query(
            TableName=cloud.target.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": upload_pk(pattern, upload_id)}},
            ConsistentRead=True,
        )["Items"]
        items |= {f"{pattern.value} {item['sk']['S']}": item for item in found}
    return items


def wait_status(cloud: RunningCloud, upload_id: str, status: WorkflowStatus) -> None:
    def reached() -> bool:
        summaries = [cloud.repo.get_summary(p, upload_id) for p in Pattern]
        return all(s is not None and s.status is status for s in summaries)

    cloud.wait_for(reached, timeout=60, what=f"{upload_id} {status.value} in both patterns")


def metric_names(cloud: RunningCloud) -> set[tuple[str, str]]:
    cloudwatch = cloud.session.client(
        "cloudwatch", endpoint_url=cloud.target.endpoints["AWS_ENDPOINT_URL_CLOUDWATCH"]
    )
    pages = cloudwatch.get_paginator("list_metrics").paginate()
    return {(m["Namespace"], m["MetricName"]) for page in pages for m in page["Metrics"]}


def test_restart_keeps_uploads_albums_metrics_and_interrupts_the_waiting_review(
    start_cloud, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    # GIVEN one upload completed and another waiting for its review
    first = start_cloud(data_dir=data_dir)
    done = put_sample(first, "uploads/done.jpg")
    first.wait_for(
        lambda: all(first.repo.get_review(p, done) for p in Pattern), what="reviews of the first"
    )
    approved = run_cli(first.env_file, "review", "approve", done, "--year", "2=1970")
    assert approved.returncode == 0, approved.stderr
    wait_status(first, done, WorkflowStatus.COMPLETED)
    first.wait_for(
        lambda: all(f"{p.value} METRICS" in stored_items(first, done) for p in Pattern),
        what="metrics of the first",
    )
    waiting = put_sample(first, "uploads/waiting.jpg")
    first.wait_for(
        lambda: all(first.repo.get_review(p, waiting) for p in Pattern), what="second reviews"
    )
    completed_before = listed(first, WorkflowStatus.COMPLETED)
    items_before = stored_items(first, done)
    metrics_before = metric_names(first)
    durable_arn = items_before["ldf META"]["execution_id"]["S"]

    # WHEN it is stopped and started again on the same data folder
    first.stop()
    second = start_cloud(data_dir=data_dir)

    # THEN the CLI lists the same completed uploads, with the same albums, metrics and photo
    assert listed(second, WorkflowStatus.COMPLETED) == completed_before
    assert {(u["pattern"], u["upload_id"]) for u in completed_before} == {
        ("sf", done),
        ("ldf", done),
    }
    assert stored_items(second, done) == items_before  # META, the six albums, REVIEW, METRICS
    for pattern in Pattern:
        assert items_before[f"{pattern.value} ALBUM#2"]["year"] == {"N": "1970"}
    photo = second.s3.get_object(Bucket=second.target.bucket, Key="uploads/done.jpg")
    assert photo["Body"].read() == SAMPLE
    assert metric_names(second) == metrics_before
    assert metrics_before
    # the durable execution's history is still there for the dashboard's timeline
    history = second.lambda_client.get_durable_execution_history(DurableExecutionArn=durable_arn)
    assert history["Events"]

    # AND the workflow that waited for review is shown as interrupted, with its reason
    failed = {u["pattern"]: u for u in listed(second, WorkflowStatus.FAILED)}
    assert set(failed) == {"sf", "ldf"}
    for upload in failed.values():
        assert upload["upload_id"] == waiting
        assert upload["error"] == INTERRUPTED_ERROR
        assert "PENDING_REVIEW" in str(upload["cause"])
    for pattern in Pattern:
        review = second.repo.get_review(pattern, waiting)
        assert review is not None
        assert review.state is ReviewState.TIMED_OUT
    open_reviews = run_cli(second.env_file, "review", "list", "--json")
    assert json.loads(open_reviews.stdout) == []
    runs = second.lambda_client.list_durable_executions_by_function(
        FunctionName=second.target.durable_function
    )["DurableExecutions"]
    interrupted = second.repo.get_summary(Pattern.DURABLE, waiting)
    assert interrupted is not None
    interrupted_arn = interrupted.execution_id
    assert {run["DurableExecutionArn"]: run["Status"] for run in runs}[interrupted_arn] == "STOPPED"
    assert all(run["Status"] != "RUNNING" for run in runs)

    # AND `metrics collect` still reads the stored metrics, printed like the rest of the CLI
    collected = run_cli(second.env_file, "metrics", "collect")
    assert collected.returncode == 0, collected.stderr
    rows = [line.split() for line in collected.stdout.splitlines() if done in line]
    assert {row[0] for row in rows} == {"sf", "ldf"}
    for row in rows:
        assert row[3].endswith("s") and len(row[3]) <= 8  # 4.2s or 1m 05s, not 2.59700000084
        assert row[4].startswith("$0.")
    # the interrupted Step Functions run's history went with the restart: said, not a crash
    assert any(
        waiting in line and line.startswith("sf") and line.endswith("history gone")
        for line in collected.stdout.splitlines()
    )

    # AND the restarted cloud runs new uploads as before
    again = put_sample(second, "uploads/after-restart.jpg")
    second.wait_for(
        lambda: all(second.repo.get_review(p, again) for p in Pattern), what="reviews after restart"
    )
    assert run_cli(second.env_file, "review", "approve", again).returncode == 0
    wait_status(second, again, WorkflowStatus.COMPLETED)
    # AND the restart said what it found and what it closed
    printed = second.stop()
    assert f"data folder {data_dir}: restored " in printed
    assert "2 workflow(s) had not finished when the cloud stopped" in printed
