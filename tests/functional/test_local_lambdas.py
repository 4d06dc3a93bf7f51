"""The local cloud's Lambdas are worker processes: scaling out, cold-start logs, isolated crashes.

Each test starts its own local cloud on free loopback ports (cold: no worker yet).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from albumreg.client.tracking import approve
from albumreg.client.uploads import upload_bytes
from albumreg.cloud.fake_discogs import Knobs
from albumreg.cloud.local_cloud import DURABLE_FUNCTION, CloudOptions, LocalCloud
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.domain.models import FINAL_STATUSES, WorkflowStatus
from handlers.domain.tenant import Pattern
from stack.asl import DEFINITION_PATH

pytestmark = pytest.mark.timeout(300)

PRICE_FUNCTION = "albumreg-local-sf-price-album"
T = TypeVar("T")


def wait_for(predicate: Callable[[], T | None], timeout: float = 120.0, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.1)


def start_cloud(tmp_path: Path, pricing: Knobs) -> LocalCloud:
    return LocalCloud(CloudOptions(port_base=0, pricing=pricing, env_file=tmp_path / "local.env"))


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    with start_cloud(tmp_path, Knobs(latency=0.5)) as running:
        yield running


def price_request(slot: int) -> dict[str, Any]:
    return {
        "pattern": "sf",
        "upload_id": "workers-test",
        "album": {
            "slot": slot,
            "title": "Abbey Road",
            "artist": "The Beatles",
            "year": 1969,
            "confidence": 0.9,
        },
    }


def test_six_concurrent_price_invocations_start_six_workers_on_a_cold_cloud(
    cloud: LocalCloud,
) -> None:
    assert cloud.lambdas is not None
    lambda_client = cloud.dependencies.session.client(
        "lambda", endpoint_url=cloud.target.endpoints["AWS_ENDPOINT_URL_S3"]
    )
    responses: list[dict[str, Any]] = []
    lock = threading.Lock()

    def invoke(slot: int) -> None:
        response = lambda_client.invoke(
            FunctionName=PRICE_FUNCTION, Payload=json.dumps(price_request(slot)).encode()
        )
        with lock:
            responses.append(response | {"Body": json.loads(response["Payload"].read())})

    # WHEN six price agents are invoked at once on a cloud that has run nothing yet
    threads = [threading.Thread(target=invoke, args=(slot,)) for slot in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    started_after_six = cloud.lambdas.environments_started().get(PRICE_FUNCTION)
    # AND one more after them
    invoke(1)

    # THEN six environments served them (each paid its init) and the seventh found one warm
    assert len(responses) == 7
    assert all("FunctionError" not in response for response in responses), responses
    assert {response["Body"]["slot"] for response in responses} == set(range(1, 7))
    assert started_after_six == 6
    assert cloud.lambdas.environments_started()[PRICE_FUNCTION] == 6
    reports = report_lines(cloud, PRICE_FUNCTION)
    assert len(reports) == 7
    assert sum("\tInit Duration: " in line for line in reports) == 6


def report_lines(cloud: LocalCloud, function_name: str) -> list[str]:
    """Every REPORT line in the function's log group, once the writer caught up."""
    logs = cloud.dependencies.client("logs")
    group = f"/aws/lambda/{function_name}"

    def lines() -> list[str] | None:
        found = [
            event["message"]
            for event in logs.filter_log_events(logGroupName=group)["events"]
            if event["message"].startswith("REPORT RequestId: ")
        ]
        return found if len(found) >= 7 else None

    return wait_for(lines, timeout=30, what="seven REPORT lines")


def kill_worker(prefix: str) -> None:
    """SIGKILL one live worker process whose name starts with ``lambda-<prefix>``."""
    children = wait_for(
        lambda: [c for c in multiprocessing.active_children() if c.name.startswith(prefix)],
        what=f"a {prefix} worker",
    )
    assert children[0].pid is not None
    os.kill(children[0].pid, signal.SIGKILL)


def final_status(cloud: LocalCloud, pattern: Pattern, upload_id: str) -> WorkflowStatus:
    def status() -> WorkflowStatus | None:
        record = cloud.dependencies.repo.get_upload(pattern, upload_id)
        status = record.summary.status if record else None
        return status if status in FINAL_STATUSES else None

    return wait_for(status, what=f"{pattern.value} final status")


def approve_when_open(cloud: LocalCloud, pattern: Pattern, upload_id: str) -> None:
    deps = cloud.dependencies
    wait_for(
        lambda: any(r.upload_id == upload_id for r in deps.repo.list_open_reviews(pattern)),
        what=f"{pattern.value} review",
    )
    assert approve(pattern, upload_id, deps, "workers-test") is None


def price_retries_unknown() -> bool:
    """Whether the definition's price-album Retry names ``Lambda.Unknown``."""
    text = DEFINITION_PATH.read_text(encoding="utf-8")
    definition = json.loads(text)
    processor = definition["States"]["price-albums"]["ItemProcessor"]["States"]["price-album"]
    return any("Lambda.Unknown" in rule["ErrorEquals"] for rule in processor.get("Retry", []))


def test_a_worker_killed_mid_invocation_fails_only_that_task_and_the_workflows_complete(
    tmp_path: Path,
) -> None:
    # GIVEN a cloud whose pricing API answers slowly, so agents are caught mid-request
    with start_cloud(tmp_path, Knobs(latency=3.0)) as cloud:
        assert cloud.lambdas is not None and cloud.pricing is not None
        pricing = cloud.pricing
        deps = cloud.dependencies
        upload = upload_bytes(
            deps.client("s3"), cloud.target.bucket, SAMPLE_PHOTO.read_bytes(), "uploads/kill.jpg"
        )

        # WHEN a Step Functions price worker is killed while its agent waits for the API
        approve_when_open(cloud, Pattern.STEP_FUNCTIONS, upload.upload_id)
        wait_for(lambda: pricing.stats()["requests"] > 0, what="pricing requests")
        kill_worker(f"lambda-{PRICE_FUNCTION}-")
        sf_status = final_status(cloud, Pattern.STEP_FUNCTIONS, upload.upload_id)

        # AND the durable function's worker is killed in the middle of its six agents
        pricing.reset_stats()
        durable_before = cloud.lambdas.environments_started()[DURABLE_FUNCTION]
        approve_when_open(cloud, Pattern.DURABLE, upload.upload_id)
        wait_for(lambda: pricing.stats()["requests"] > 0, what="durable pricing requests")
        kill_worker(f"lambda-{DURABLE_FUNCTION}-")
        ldf_status = final_status(cloud, Pattern.DURABLE, upload.upload_id)
        durable_after = cloud.lambdas.environments_started()[DURABLE_FUNCTION]

        sfn = deps.client("stepfunctions")
        execution = sfn.list_executions(stateMachineArn=cloud.state_machine_arn)["executions"][0]
        events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]

    # THEN only the killed task failed, as Lambda.Unknown, and both workflows completed
    assert sf_status == WorkflowStatus.COMPLETED
    failed = [
        e["lambdaFunctionFailedEventDetails"] for e in events if e["type"] == "LambdaFunctionFailed"
    ]
    assert [f["error"] for f in failed] == ["Lambda.Unknown"]
    assert "Runtime exited with error: signal: killed" in failed[0]["cause"]
    price_tasks = [
        e
        for e in events
        if e["type"] == "LambdaFunctionScheduled"
        and PRICE_FUNCTION in e["lambdaFunctionScheduledEventDetails"]["resource"]
    ]
    assert len(price_tasks) == 6 + (1 if price_retries_unknown() else 0)
    # the durable plane retried the invocation in a new environment, which replayed
    assert ldf_status == WorkflowStatus.COMPLETED
    assert durable_after > durable_before
