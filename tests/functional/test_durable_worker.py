"""The durable plane invoking its handler in a worker process, which checkpoints over HTTP.

The worker shares no memory with the plane: the only way its step result can reach the
execution's history is the plane's checkpoint API on 127.0.0.1, as on Lambda.
"""

from __future__ import annotations

import json
import os
import time

import boto3
import pytest

from albumreg.cloud.durable_plane import DurablePlane
from albumreg.cloud.lambdas.durable import WorkerInvoker
from albumreg.cloud.lambdas.service import FunctionSpec, LambdaService

pytestmark = [pytest.mark.pattern_ldf, pytest.mark.timeout(120)]


def test_durable_handler_in_a_worker_checkpoints_to_the_plane_over_http() -> None:
    function = FunctionSpec(
        name="greeter",
        handler="tests.functional.lambda_fixtures.durable_where",
        qualifier="live",
        timeout_seconds=30,
    )
    with (
        LambdaService() as service,
        DurablePlane(WorkerInvoker(service, function), "greeter") as plane,
    ):
        service.configure(
            {
                "AWS_ENDPOINT_URL_LAMBDA": plane.url,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
            }
        )
        arn = plane.start_execution("run-1", {"greeting": "hello"}, timeout_seconds=60)
        client = boto3.client(
            "lambda",
            endpoint_url=plane.url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        deadline = time.monotonic() + 60
        while (status := client.get_durable_execution(DurableExecutionArn=arn)["Status"]) in {
            "RUNNING",
            "PENDING",
        }:
            assert time.monotonic() < deadline, "the execution did not finish"
            time.sleep(0.1)
        execution = client.get_durable_execution(DurableExecutionArn=arn)
        events = client.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        started = service.environments_started()

    assert status == "SUCCEEDED"
    output = json.loads(execution["Result"])
    assert output["greeting"] == "hello"
    assert output["pid"] != os.getpid()
    steps = [e for e in events if e.get("Name") == "where" and e["EventType"] == "StepSucceeded"]
    assert len(steps) == 1
    assert started == {"greeter": 1}
