"""The local durable control plane: executions run in-process, callbacks arrive over HTTP."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig

from albumreg.cloud.durable_plane import DurablePlane

pytestmark = pytest.mark.pattern_ldf

CALLBACK_IDS: list[str] = []


def _remember(callback_id: str, context: Any) -> None:
    CALLBACK_IDS.append(callback_id)


@durable_execution
def greeter(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    name = context.wait_for_callback(
        _remember,
        name="ask-name",
        config=WaitForCallbackConfig(timeout=Duration.from_seconds(30)),
    )
    return {"greeting": f"{event['salutation']}, {name}"}


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_durable_plane_resumes_on_callback_sent_over_http() -> None:
    CALLBACK_IDS.clear()
    with DurablePlane(greeter, "greeter") as plane:
        arn = plane.start_execution("run-1", {"salutation": "Hello"}, timeout_seconds=60)
        wait_for(lambda: bool(CALLBACK_IDS))
        client = boto3.client("lambda", endpoint_url=plane.url, region_name="us-east-1")
        client.send_durable_execution_callback_success(CallbackId=CALLBACK_IDS[0], Result=b"Ada")

        def finished() -> bool:
            status = client.get_durable_execution(DurableExecutionArn=arn)["Status"]
            return status == "SUCCEEDED"

        wait_for(finished)
        execution = client.get_durable_execution(DurableExecutionArn=arn)
        assert execution["Result"] == '{"greeting": "Hello, Ada"}'
        assert plane.url.startswith("http://127.0.0.1:")
