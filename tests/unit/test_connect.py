"""``connect``: one way to reach a running system, with errors that say what to do."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from albumreg.client.connect import connect
from albumreg.client.target import Target, TargetError
from handlers.adapters.metrics_collector import MetricsCollector

AWS = Target(
    bucket="prod-bucket",
    table_name="prod-table",
    state_machine_arn="arn:aws:states:eu-west-1:123456789012:stateMachine:albumreg",
    durable_function="albumreg-durable",
    region="eu-west-1",
)

ENVIRONMENT = (
    "ALBUMREG_ENV_FILE",
    "ALBUMREG_BUCKET",
    "TABLE_NAME",
    "ALBUMREG_STATE_MACHINE_ARN",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No env file, no target variables, no Pulumi; whatever connect exports is undone."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ENVIRONMENT:
        monkeypatch.setenv(name, "before")
        monkeypatch.delenv(name)


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _local(port: int) -> Target:
    endpoint = f"http://127.0.0.1:{port}"
    return Target(
        bucket="b",
        table_name="t",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        durable_function="albumreg-durable",
        region="us-east-1",
        endpoints={"AWS_ENDPOINT_URL_S3": endpoint, "AWS_ENDPOINT_URL_LAMBDA": endpoint},
    )


class RecordingSession:
    """A boto3 session stand-in that records which clients were made, and when."""

    region_name = "eu-west-1"

    def __init__(self, function_configuration: dict[str, Any] | Exception) -> None:
        self.made: list[str] = []
        self.configuration_reads = 0
        self._configuration = function_configuration

    def client(self, service: str, **_: Any) -> Any:
        self.made.append(service)
        session = self

        class Client:
            def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803
                session.configuration_reads += 1
                if isinstance(session._configuration, Exception):
                    raise session._configuration
                return session._configuration

        return Client()


def test_nothing_running_says_how_to_start_the_local_cloud() -> None:
    with pytest.raises(TargetError, match="`albumreg local`") as raised:
        connect()
    assert "pulumi up" in str(raised.value)


def test_a_missing_env_file_says_how_to_start_the_local_cloud(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="`albumreg local`"):
        connect(tmp_path / "absent.env")


def test_a_local_cloud_that_stopped_says_how_to_start_it(tmp_path: Path) -> None:
    env_file = tmp_path / "local.env"
    env_file.write_text(_local(_unused_port()).as_env_lines())
    with pytest.raises(TargetError, match=r"not answering.*`albumreg local`"):
        connect(env_file)


def test_local_target_endpoints_and_credentials_are_applied(tmp_path: Path) -> None:
    target = _local(_unused_port())
    env_file = tmp_path / "local.env"
    env_file.write_text(target.as_env_lines())
    connection = connect(env_file, probe=False)
    assert connection.target.endpoints == target.endpoints
    assert os.environ["AWS_ENDPOINT_URL_S3"] == target.endpoints["AWS_ENDPOINT_URL_S3"]
    assert os.environ["AWS_ACCESS_KEY_ID"] == "local"
    assert connection.deps.settings.table_name == "t"
    assert connection.client("s3").meta.endpoint_url == target.endpoints["AWS_ENDPOINT_URL_S3"]


def test_clients_are_made_in_the_target_region_by_default() -> None:
    connection = connect(target=AWS)
    assert connection.client("dynamodb").meta.region_name == "eu-west-1"
    assert isinstance(connection.deps.session, boto3.session.Session)


def test_collector_is_built_on_first_use_from_the_deployed_function() -> None:
    session = RecordingSession({"MemorySize": 2048, "Architectures": ["x86_64"]})
    connection = connect(target=AWS, session=session)  # type: ignore[arg-type]
    assert (session.made, session.configuration_reads) == ([], 0)
    collector = connection.collector
    assert isinstance(collector, MetricsCollector)
    assert connection.collector is collector
    assert session.configuration_reads == 1
    assert {"dynamodb", "stepfunctions", "lambda", "cloudwatch"} <= set(session.made)


def test_local_collector_needs_no_deployed_function(tmp_path: Path) -> None:
    session = RecordingSession(AssertionError("the local cloud's settings are the target's"))
    connection = connect(target=_local(_unused_port()), session=session, probe=False)  # type: ignore[arg-type]
    assert isinstance(connection.collector, MetricsCollector)
    assert session.configuration_reads == 0


def test_unreadable_deployed_function_says_how_to_check_credentials() -> None:
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetFunctionConfiguration"
    )
    connection = connect(target=AWS, session=RecordingSession(denied))  # type: ignore[arg-type]
    with pytest.raises(TargetError, match="albumreg doctor --aws"):
        _ = connection.collector
