"""Reliability end to end against ``albumreg local`` as its own process: bad uploads through the
real trigger path and image checks, forged review tokens sent to the real callback APIs, the
review gateway and the CLI, and the same put delivered twice. The in-process cases are in
``tests/functional/reliability/``.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.adapters.review_inbox import OrchestratorReviewInbox
from handlers.domain.errors import ReviewExpiredError
from handlers.domain.events import upload_id_for
from handlers.domain.models import ReviewResult, ReviewState, WorkflowStatus
from handlers.domain.tenant import Pattern
from tests.e2e.conftest import RunningCloud, run_cli
from tests.functional.reliability.sockets import listening_addresses

pytestmark = pytest.mark.e2e

SAMPLE = SAMPLE_PHOTO.read_bytes()
BAD_UPLOADS = {
    "uploads/notes.jpg": (b"Kind of Blue, Miles Davis, 1959\n", "not a JPEG, PNG or WebP"),
    "uploads/empty.jpg": (b"", "empty (0 bytes)"),
    "uploads/torn.jpg": (SAMPLE[: len(SAMPLE) // 3], "corrupt or truncated"),
    "uploads/../secrets/shelf.jpg": (SAMPLE, "relative path segment"),
}


def put(cloud: RunningCloud, key: str, body: bytes) -> str:
    response = cloud.s3.put_object(Bucket=cloud.target.bucket, Key=key, Body=body)
    return upload_id_for(cloud.target.bucket, key, response["ETag"].strip('"'))


def test_bad_uploads_are_rejected_by_both_patterns_with_the_reason(start_cloud) -> None:
    cloud = start_cloud()
    # albumreg local, started with its defaults, listens on loopback only (as the kernel sees it)
    ports = {int(url.rsplit(":", 1)[1]) for url in cloud.target.endpoints.values()}
    assert len(ports) == 2, "moto and the durable control plane"
    assert all(listening_addresses(port) == {"127.0.0.1"} for port in ports)
    uploads = {put(cloud, key, body): reason for key, (body, reason) in BAD_UPLOADS.items()}

    for upload_id, reason in uploads.items():
        records = cloud.wait_final(upload_id, timeout=90)
        for pattern, record in records.items():
            assert record.summary.status is WorkflowStatus.REJECTED, (pattern, upload_id)
            assert reason in (record.summary.cause or ""), (pattern, record.summary.cause)
            assert (record.albums, record.review) == ([], None)
    for pattern in Pattern:
        listed = {s.upload_id for s in cloud.repo.list_uploads(pattern, WorkflowStatus.REJECTED)}
        assert set(uploads) <= listed
    shown = run_cli(cloud.env_file, "uploads", "list", "--status", "REJECTED", "--json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert {(row["upload_id"], row["pattern"]) for row in rows} >= {
        (upload_id, pattern.value) for upload_id in uploads for pattern in Pattern
    }
    assert all(row["error"] and row["cause"] for row in rows)
    executions = cloud.sfn.list_executions(stateMachineArn=cloud.target.state_machine_arn)
    assert {e["status"] for e in executions["executions"]} == {"SUCCEEDED"}
    for execution in executions["executions"]:
        history = cloud.sfn.get_execution_history(executionArn=execution["executionArn"])
        scheduled = [e for e in history["events"] if e["type"] == "LambdaFunctionScheduled"]
        assert len(scheduled) == 1, "a refused upload is never retried"


def test_forged_review_tokens_are_refused_and_the_real_review_still_works(start_cloud) -> None:
    cloud = start_cloud()
    upload_id = put(cloud, "uploads/shelf.jpg", SAMPLE)
    reviews = cloud.wait_for(
        lambda: (
            [r for p in Pattern if (r := cloud.repo.get_review(p, upload_id))]
            if all(cloud.repo.get_review(p, upload_id) for p in Pattern)
            else None
        ),
        what="both reviews open",
    )
    result = ReviewResult(
        outcome=ReviewState.APPROVED, albums=reviews[0].albums, decided_at=reviews[0].requested_at
    )

    # WHEN made-up tokens go straight to each orchestrator's API
    with pytest.raises(ClientError) as sf_refused:
        cloud.sfn.send_task_success(taskToken="made-up-task-token", output=result.model_dump_json())
    with pytest.raises(ClientError) as ldf_refused:
        cloud.lambda_client.send_durable_execution_callback_success(
            CallbackId="bWFkZS11cA==", Result=result.model_dump_json().encode()
        )
    # AND through the review gateway the CLI and the dashboard use
    inbox = OrchestratorReviewInbox(cloud.sfn, cloud.lambda_client)
    for pattern in Pattern:
        with pytest.raises(ReviewExpiredError, match="no longer waits"):
            inbox.complete(pattern, "made-up-token", result)
    # AND through the CLI, for an upload that does not exist
    unknown = run_cli(cloud.env_file, "review", "approve", "0" * 24)

    # THEN each is refused by name, and the genuine review completes both workflows
    assert sf_refused.value.response["Error"]["Code"] == "InvalidToken"
    assert ldf_refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert unknown.returncode == 2
    assert "no review for upload" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    approved = run_cli(cloud.env_file, "review", "approve", upload_id, "--year", "1=1960")
    assert approved.returncode == 0, approved.stderr
    for record in cloud.wait_final(upload_id).values():
        assert record.summary.status is WorkflowStatus.COMPLETED
        assert record.albums[0].year == 1960


def test_duplicate_put_gives_one_set_of_records_and_one_review(start_cloud) -> None:
    cloud = start_cloud()
    first = put(cloud, "uploads/shelf.jpg", SAMPLE)
    second = put(cloud, "uploads/shelf.jpg", SAMPLE)
    assert first == second

    def sf_waiting_and_duplicate():
        found = cloud.sfn.list_executions(stateMachineArn=cloud.target.state_machine_arn)
        statuses = sorted(e["status"] for e in found["executions"])
        return found["executions"] if statuses == ["RUNNING", "SUCCEEDED"] else None

    def durable_waiting_and_duplicate():
        runs = cloud.lambda_client.list_durable_executions_by_function(
            FunctionName=cloud.target.durable_function
        )["DurableExecutions"]
        return runs if sorted(r["Status"] for r in runs) == ["RUNNING", "SUCCEEDED"] else None

    executions = cloud.wait_for(sf_waiting_and_duplicate, what="a waiting and a duplicate run")
    cloud.wait_for(durable_waiting_and_duplicate, what="a waiting and a duplicate durable run")
    cloud.wait_for(
        lambda: all(cloud.repo.get_review(p, first) for p in Pattern), what="reviews open"
    )
    for pattern in Pattern:
        assert len(cloud.repo.list_open_reviews(pattern)) == 1
    record = cloud.records(first)[Pattern.STEP_FUNCTIONS]
    assert record is not None
    waiting = next(e for e in executions if e["status"] == "RUNNING")
    assert record.summary.execution_id == waiting["executionArn"]
