"""How the local cloud runs its functions: the worker service, its logs, the durable function.

``lambda_service`` starts the service with Lambda-format logs going to the cloud's CloudWatch
Logs (moto) and the offline recognizer (with the benchmark's knobs) installed in every worker;
``durable_function`` describes the durable function as the stack deploys it (handler, settings
as environment, timeout, memory, the alias executions run under); ``worker_environment`` is what
the runtime adds to every worker's environment locally (endpoints and the local credentials,
which Lambda would provide as the execution role's).
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import boto3

from albumreg.cloud.lambdas.logs import CloudWatchLogsWriter
from albumreg.cloud.lambdas.recognition import RecognizerKnobs, install
from albumreg.cloud.lambdas.service import FunctionSpec, LambdaService, ServiceSettings
from handlers.config import Settings
from stack import timeouts

DURABLE_HANDLER = "handlers.durable.handler"
DURABLE_ALIAS = "live"
"""The alias durable executions run under (durable functions need a qualified ARN)."""
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


@contextmanager
def lambda_service(
    settings: ServiceSettings, knobs: RecognizerKnobs, *, logs_endpoint: str, region: str
) -> Iterator[LambdaService]:
    """The worker service for one local cloud; every worker is stopped when the block ends.

    Args:
        settings: the service's bounds.
        knobs: the benchmark's recognizer decoration (inactive by default).
        logs_endpoint: CloudWatch Logs (moto) for the functions' log lines.
        region: the cloud's Region.
    """
    session = boto3.session.Session(
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    writer = CloudWatchLogsWriter(session.client("logs", endpoint_url=logs_endpoint))
    with tempfile.TemporaryDirectory(prefix="albumreg-lambdas-") as scratch:
        setup = functools.partial(install, knobs, Path(scratch))
        service = LambdaService(settings, setup=setup, log_writer=writer)
        try:
            yield service
        finally:
            service.close()


def durable_function(name: str, settings: Settings, region: str) -> FunctionSpec:
    """The durable function as the stack deploys it, invoked through its alias."""
    return FunctionSpec(
        name=name,
        handler=DURABLE_HANDLER,
        environment=settings.to_env(),
        qualifier=DURABLE_ALIAS,
        timeout_seconds=timeouts.durable_timeout(settings.pricing_agent),
        memory_mb=settings.lambda_memory_mb,
        region=region,
    )


def worker_environment(endpoints: Mapping[str, str]) -> dict[str, str]:
    """What every local worker gets besides its function's variables."""
    return dict(endpoints) | LOCAL_CREDENTIALS
