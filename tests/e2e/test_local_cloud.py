"""The whole product on the local cloud, driven from outside as a person would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.domain.events import upload_id_for
from handlers.domain.models import ReviewState, WorkflowStatus
from handlers.domain.tenant import Pattern
from tests.e2e.conftest import ROOT, run_cli

pytestmark = pytest.mark.e2e
SAMPLE = SAMPLE_PHOTO.read_bytes()
EXPECTED_YEARS = [1959, 1969, 1977, 1971, 1984, 1997]


def put_sample(cloud, key: str = "uploads/shelf.jpg") -> str:
    response = cloud.s3.put_object(Bucket=cloud.target.bucket, Key=key, Body=SAMPLE)
    return upload_id_for(cloud.target.bucket, key, response["ETag"].strip('"'))


def test_upload_review_by_cli_completes_both_with_corrected_year(start_cloud) -> None:
    cloud = start_cloud()
    upload_id = put_sample(cloud)
    cloud.wait_for(
        lambda: all(cloud.repo.get_review(p, upload_id) for p in Pattern), what="both reviews open"
    )
    listed = run_cli(cloud.env_file, "review", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {r["pattern"] for r in json.loads(listed.stdout)} == {"sf", "ldf"}

    approved = run_cli(cloud.env_file, "review", "approve", upload_id, "--year", "1=1960")
    assert approved.returncode == 0, approved.stderr
    assert "sf: approved" in approved.stdout
    assert "ldf: approved" in approved.stdout

    records = cloud.wait_final(upload_id)
    for pattern, record in records.items():
        assert record.summary.status is WorkflowStatus.COMPLETED, pattern
        assert [a.year for a in record.albums] == [1960, *EXPECTED_YEARS[1:]]
        assert record.albums[0].extracted_year == 1959
        assert all(a.price is not None for a in record.albums)

    again = run_cli(cloud.env_file, "review", "approve", upload_id)
    assert again.returncode == 2
    assert "already APPROVED" in again.stderr


def test_review_timeout_goes_on_with_extracted_years(start_cloud) -> None:
    cloud = start_cloud(review_timeout=3)
    upload_id = put_sample(cloud)
    records = cloud.wait_final(upload_id, timeout=60)
    for record in records.values():
        assert record.summary.status is WorkflowStatus.COMPLETED
        assert record.review is not None
        assert record.review.state is ReviewState.TIMED_OUT
        assert [a.year for a in record.albums] == EXPECTED_YEARS


def test_duplicate_put_gives_one_set_of_records_and_one_review(start_cloud) -> None:
    cloud = start_cloud()
    first = put_sample(cloud)
    second = put_sample(cloud)
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


def test_demo_auto_approve_json_completes_both(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path / "demo.env",
        "demo",
        "--auto-approve",
        "--json",
        "--port-base",
        "0",
        "--env-file",
        str(tmp_path / "demo.env"),
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    for pattern in ("sf", "ldf"):
        part = document[pattern]
        assert part["status"] == "COMPLETED"
        assert part["execution_id"]
        assert [a["year"] for a in part["albums"]] == EXPECTED_YEARS
        assert all(a["price"] > 0 and a["currency"] == "USD" for a in part["albums"])
        assert part["timings"]["steps"]["extract-albums"] > 0
    assert document["sf"]["timings"]["billed_units"] == 11
    assert document["ldf"]["timings"]["billed_units"] == 13
    assert not (ROOT / ".albumreg" / "demo.env").exists()
