"""Every finished workflow records its own metrics on the local cloud, with no command.

``albumreg local`` runs in its own process; the test only uploads and decides the review, then
waits for each pattern's METRICS item: the status-change event of the ended execution reached
the collector function, which measured the workflow (completed on one side, rejected on the
other) and published to CloudWatch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.domain.events import upload_id_for
from handlers.domain.models import WorkflowStatus
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics
from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.e2e
SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE


def test_ended_workflows_get_their_metrics_item_without_any_command(start_cloud) -> None:
    # GIVEN an upload waiting for review in both patterns
    cloud = start_cloud()
    key = "uploads/self-recorded.jpg"
    etag = cloud.s3.put_object(Bucket=cloud.target.bucket, Key=key, Body=SAMPLE_PHOTO.read_bytes())[
        "ETag"
    ]
    upload_id = upload_id_for(cloud.target.bucket, key, etag.strip('"'))
    cloud.wait_for(
        lambda: all(cloud.repo.get_review(p, upload_id) for p in Pattern),
        timeout=120,
        what="both reviews open",
    )

    # WHEN a person approves one side and rejects the other (no metrics command anywhere)
    approved = run_cli(cloud.env_file, "review", "approve", upload_id, "--pattern", "sf")
    assert approved.returncode == 0, approved.stderr
    rejected = run_cli(cloud.env_file, "review", "reject", upload_id, "--pattern", "ldf")
    assert rejected.returncode == 0, rejected.stderr

    # THEN both METRICS items appear, written by the collector function
    def collected() -> dict[Pattern, WorkflowMetrics]:
        found = {p: cloud.repo.get_metrics(p, [upload_id]).get(upload_id) for p in Pattern}
        ready = {p: item for p, item in found.items() if item is not None and item.collected}
        return ready if len(ready) == len(found) else {}

    metrics = cloud.wait_for(collected, timeout=120, what="both METRICS items")
    assert metrics[SF].workflow_status is WorkflowStatus.COMPLETED
    assert metrics[LDF].workflow_status is WorkflowStatus.REJECTED
    for pattern in Pattern:
        item = metrics[pattern]
        assert (item.cost_total_usd or 0) > 0
        assert (item.cost_orchestration_usd or 0) > 0
        assert item.execution_status == "SUCCEEDED"
        # The workers write Lambda-format logs, so cold starts are measured from them.
        assert (item.cold_start_source or "").startswith("local worker processes")
        assert (item.cold_starts or 0) >= 1
        assert len(item.init_durations_s) == item.cold_starts

    # AND the collector published the workflow's figures to each pattern's namespace
    cloudwatch = cloud.session.client(
        "cloudwatch", endpoint_url=cloud.target.endpoints["AWS_ENDPOINT_URL_CLOUDWATCH"]
    )
    now = datetime.now(UTC)
    for pattern in Pattern:
        points = cloudwatch.get_metric_statistics(
            Namespace=pattern.metric_namespace,
            MetricName="CostPerWorkflow",
            Dimensions=[{"Name": "Service", "Value": "album-registration"}],
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(minutes=5),
            Period=3600,
            Statistics=["SampleCount"],
        )["Datapoints"]
        assert sum(p["SampleCount"] for p in points) == 1
