"""The local runner's own contract: invoke routing, execution names, transition counting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from albumreg.cloud.sfn_runner import (
    MOTO_CONFIG,
    execution_name,
    routed_invokes,
)
from handlers.domain.errors import TransientError
from handlers.domain.events import parse_upload_event
from handlers.domain.timeline import state_transitions
from tests.conftest import s3_event

pytestmark = pytest.mark.pattern_sf

HERE = __name__


def echo_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"got": event, "function": context.function_name}


def throttled_handler(event: dict[str, Any], context: Any) -> None:
    raise TransientError("pricing API said 429")


@pytest.fixture
def lambda_client() -> Iterator[Any]:
    with mock_aws(config=MOTO_CONFIG):
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client = boto3.client("lambda", region_name="us-east-1")
        for name, handler in (
            ("echo", f"{HERE}.echo_handler"),
            ("throttled", f"{HERE}.throttled_handler"),
            ("elsewhere", "app.handler"),
        ):
            client.create_function(
                FunctionName=name,
                Runtime="python3.13",
                Role=role,
                Handler=handler,
                Code={"ZipFile": b"PK"},
            )
        yield client


def invoke(client: Any, name: str, payload: object) -> tuple[str | None, Any]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_routed_invoke_runs_the_functions_handler(lambda_client: Any) -> None:
    with routed_invokes(packages=("tests.",)):
        assert invoke(lambda_client, "echo", {"a": 1}) == (
            None,
            {"got": {"a": 1}, "function": "echo"},
        )


def test_routed_invoke_turns_an_exception_into_a_lambda_error(lambda_client: Any) -> None:
    with routed_invokes(packages=("tests.",)):
        error, document = invoke(lambda_client, "throttled", {})
    assert error == "Unhandled"
    assert (document["errorType"], document["errorMessage"]) == (
        "TransientError",
        "pricing API said 429",
    )


def test_routed_invoke_leaves_other_handlers_to_moto(lambda_client: Any) -> None:
    with routed_invokes(packages=("tests.",)):
        assert invoke(lambda_client, "elsewhere", {"a": 1}) == (None, {"a": 1})


def test_routed_invoke_refuses_an_unknown_function(lambda_client: Any) -> None:
    with routed_invokes(packages=("tests.",)), pytest.raises(ClientError) as raised:
        invoke(lambda_client, "missing", {})
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_routing_ends_with_the_block(lambda_client: Any) -> None:
    with routed_invokes(packages=("tests.",)):
        pass
    assert invoke(lambda_client, "echo", {"a": 1}) == (None, {"a": 1})


def test_execution_name_is_upload_id_and_suffix() -> None:
    event = s3_event("albumreg-uploads", "uploads/shelf.jpg")
    assert execution_name(event, "7") == f"{parse_upload_event(event).upload_id}-7"


def test_execution_name_of_an_unusable_event_is_stable_and_valid() -> None:
    first = execution_name({"detail": {}}, "1")
    assert first == execution_name({"detail": {}}, "1")
    assert first.startswith("unparsed-")
    assert first != execution_name({"detail": {"bucket": {}}}, "1")


def test_state_transitions_count_states_entered_and_retries() -> None:
    events = [
        {"type": "ExecutionStarted"},
        {"type": "TaskStateEntered"},
        {"type": "LambdaFunctionScheduled"},
        {"type": "LambdaFunctionFailed"},
        {"type": "LambdaFunctionScheduled"},
        {"type": "LambdaFunctionSucceeded"},
        {"type": "TaskStateExited"},
        {"type": "ChoiceStateEntered"},
        {"type": "TaskStateEntered"},
        {"type": "TaskScheduled"},
        {"type": "SucceedStateEntered"},
    ]
    assert state_transitions(events) == 4 + 1
