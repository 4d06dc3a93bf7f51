"""Status-change events on the local cloud, delivered to the collector Lambda as on AWS.

On AWS, Step Functions and Lambda publish ``Step Functions Execution Status Change`` and
``Durable Execution Status Change`` to the default EventBridge bus; two rules send this stack's
terminal ones to the collector function. Locally neither emulator publishes them, so:

- a watcher thread polls both orchestrators (moto's ``ListExecutions``, the durable plane's
  ``ListDurableExecutionsByFunction``) and, once per execution that left RUNNING, publishes the
  event AWS would, with the same fields, through moto's EventBridge (``PutEvents``);
- two rules with the stack's patterns (``handlers.domain.status_change``) match them; as for
  uploads, their target is an SQS queue (moto cannot deliver to Lambda targets) drained by an
  ``EventRouter`` that invokes the collector function through moto's Lambda API, so it runs in
  a worker process like every other function.

Emulated: the watcher (AWS pushes these events), and the queue between rule and function.
Cold starts are read from the workers' Lambda-format logs in moto's CloudWatch Logs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from albumreg.cloud.durable_plane import ACCOUNT_ID
from albumreg.cloud.lambdas.logs import log_group
from albumreg.cloud.poller import Poller
from albumreg.cloud.router import EventRouter
from albumreg.cloud.sfn_runner import placeholder_zip
from handlers.adapters.cold_starts import LOG_GROUPS_VARIABLE, SOURCE_VARIABLE, WAIT_VARIABLE
from handlers.collector import TIMEOUT_SECONDS
from handlers.config import Settings
from handlers.domain.status_change import (
    DURABLE_DETAIL_TYPE,
    DURABLE_SOURCE,
    STEP_FUNCTIONS_DETAIL_TYPE,
    STEP_FUNCTIONS_SOURCE,
    durable_status_pattern,
    step_functions_status_pattern,
)
from handlers.domain.tenant import Pattern
from stack.asl import TASK_FUNCTIONS

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_stepfunctions import SFNClient


COLLECTOR_FUNCTION = "albumreg-local-collector"
COLLECTOR_HANDLER = "handlers.collector.handler"
COLLECTOR_MEMORY_MB = 256
STATUS_QUEUE = "albumreg-local-status-events"
RULES = {
    Pattern.STEP_FUNCTIONS: "albumreg-local-sf-status",
    Pattern.DURABLE: "albumreg-local-ldf-status",
}
LOCAL_COLD_START_SOURCE = (
    "local worker processes (init of our code in a fresh process; AWS adds sandbox provisioning)"
)
POLL_SECONDS = 0.5
LOCAL_REPORT_WAIT_SECONDS = 5
_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass(frozen=True)
class Watched:
    """What the local cloud runs, as the collector and its rules need it.

    Attributes:
        region: the cloud's Region.
        state_machine_arn: the Step Functions workflow.
        durable_function: name of the durable function.
        task_prefix: the task functions are ``<task_prefix>-<task>`` (``sfn_runner.deploy``).
    """

    region: str
    state_machine_arn: str
    durable_function: str
    task_prefix: str

    @property
    def task_functions(self) -> list[str]:
        """Names of the state machine's task functions."""
        return [f"{self.task_prefix}-{task.name}" for task in TASK_FUNCTIONS]

    @property
    def durable_function_arn(self) -> str:
        """Unqualified, as the durable rule's prefix wants it."""
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.durable_function}"

    def log_groups(self) -> dict[str, list[str]]:
        """Each pattern's function log groups, as ``COLD_START_LOG_GROUPS`` holds them."""
        return {
            Pattern.STEP_FUNCTIONS.value: [log_group(name) for name in self.task_functions],
            Pattern.DURABLE.value: [log_group(self.durable_function)],
        }


def collector_environment(settings: Settings, watched: Watched) -> dict[str, str]:
    """The collector's variables: the shared settings plus where cold starts are read.

    The workers ship their log lines from a background thread, as Lambda delivers logs
    asynchronously, so a REPORT line may lag its invocation by a moment: worth a short wait.
    """
    return settings.to_env() | {
        LOG_GROUPS_VARIABLE: json.dumps(watched.log_groups()),
        SOURCE_VARIABLE: LOCAL_COLD_START_SOURCE,
        WAIT_VARIABLE: str(LOCAL_REPORT_WAIT_SECONDS),
    }


def step_functions_entry(described: Mapping[str, Any]) -> dict[str, Any]:
    """A ``PutEvents`` entry with the ``Step Functions Execution Status Change`` AWS sends.

    The detail holds what ``DescribeExecution`` returns, as in AWS's event; EventBridge adds
    the envelope (id, time, account, Region).
    """
    return {
        "Source": STEP_FUNCTIONS_SOURCE,
        "DetailType": STEP_FUNCTIONS_DETAIL_TYPE,
        "Resources": [str(described["executionArn"])],
        "Detail": json.dumps(
            {
                "executionArn": described["executionArn"],
                "stateMachineArn": described["stateMachineArn"],
                "name": described.get("name"),
                "status": described["status"],
                "startDate": _epoch_ms(described.get("startDate")),
                "stopDate": _epoch_ms(described.get("stopDate")),
                "input": described.get("input"),
                "inputDetails": {"included": "input" in described},
                "output": described.get("output"),
                "outputDetails": {"included": True} if "output" in described else None,
            }
        ),
    }


def durable_entry(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A ``PutEvents`` entry with the ``Durable Execution Status Change`` AWS sends."""
    detail: dict[str, Any] = {
        "durableExecutionArn": summary["DurableExecutionArn"],
        "durableExecutionName": summary.get("DurableExecutionName"),
        "functionArn": summary["FunctionArn"],
        "status": summary["Status"],
        "startTimestamp": _iso(summary.get("StartTimestamp")),
    }
    if summary.get("EndTimestamp") is not None:
        detail["endTimestamp"] = _iso(summary["EndTimestamp"])
    return {
        "Source": DURABLE_SOURCE,
        "DetailType": DURABLE_DETAIL_TYPE,
        "Resources": [],
        "Detail": json.dumps(detail),
    }


def _epoch_ms(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else None


def _iso(value: Any) -> str | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StatusWatcher:
    """Publishes each execution's status change once it leaves RUNNING, from a thread.

    Args:
        sfn: Step Functions (moto).
        durable: the durable plane's Lambda API.
        events: EventBridge (moto), where the events are put.
        watched: what to watch.
        poll_seconds: how often both orchestrators are listed.
    """

    def __init__(
        self,
        sfn: SFNClient,
        durable: LambdaClient,
        events: Any,
        watched: Watched,
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._sfn = sfn
        self._durable = durable
        self._events = events
        self._watched = watched
        self._published: set[str] = set()
        self._poller = Poller(
            "status-watcher", self.poll_once, interval=poll_seconds, retry_seconds=poll_seconds
        )
        self.published = 0

    def start(self) -> None:
        """Begin watching."""
        self._poller.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current poll."""
        self._poller.stop(timeout)

    def poll_once(self) -> int:
        """Publish every execution that ended since the last poll; returns how many."""
        ended = self._ended_step_functions() + self._ended_durable()
        for arn, entry in ended:
            response = self._events.put_events(Entries=[entry])
            if response.get("FailedEntryCount"):
                raise RuntimeError(f"PutEvents refused the event of {arn}: {response['Entries']}")
            self._published.add(arn)
        self.published += len(ended)
        return len(ended)

    def _ended_step_functions(self) -> list[tuple[str, dict[str, Any]]]:
        found = []
        paginator = self._sfn.get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=self._watched.state_machine_arn):
            for execution in page["executions"]:
                arn = execution["executionArn"]
                if execution["status"] == "RUNNING" or arn in self._published:
                    continue
                described = self._sfn.describe_execution(executionArn=arn)
                found.append((arn, step_functions_entry(described)))
        return found

    def _ended_durable(self) -> list[tuple[str, dict[str, Any]]]:
        found = []
        marker: str | None = None
        while True:
            request: dict[str, Any] = {"FunctionName": self._watched.durable_function}
            if marker:
                request["Marker"] = marker
            page = self._durable.list_durable_executions_by_function(**request)
            for summary in page.get("DurableExecutions", []):
                arn = summary["DurableExecutionArn"]
                if summary["Status"] == "RUNNING" or arn in self._published:
                    continue
                found.append((arn, durable_entry(summary)))
            marker = page.get("NextMarker")
            if not marker:
                return found


def provision(
    session: boto3.session.Session, moto_url: str, settings: Settings, watched: Watched
) -> str:
    """The collector function, the two rules and their queue, as the stack declares them.

    Returns:
        The queue's URL.
    """
    iam = session.client("iam", endpoint_url=moto_url)
    lambda_client = session.client("lambda", endpoint_url=moto_url)
    role = iam.create_role(RoleName=COLLECTOR_FUNCTION, AssumeRolePolicyDocument=_ROLE_POLICY)
    lambda_client.create_function(
        FunctionName=COLLECTOR_FUNCTION,
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler=COLLECTOR_HANDLER,
        Code={"ZipFile": placeholder_zip()},
        Environment={"Variables": collector_environment(settings, watched)},
        Timeout=TIMEOUT_SECONDS,
        MemorySize=COLLECTOR_MEMORY_MB,
    )
    sqs = session.client("sqs", endpoint_url=moto_url)
    queue_url = sqs.create_queue(QueueName=STATUS_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events = session.client("events", endpoint_url=moto_url)
    patterns = {
        Pattern.STEP_FUNCTIONS: step_functions_status_pattern(watched.state_machine_arn),
        Pattern.DURABLE: durable_status_pattern(watched.durable_function_arn),
    }
    for pattern, rule in RULES.items():
        events.put_rule(Name=rule, EventPattern=json.dumps(patterns[pattern]))
        events.put_targets(Rule=rule, Targets=[{"Id": "collector", "Arn": queue_arn}])
    return queue_url


class CollectorError(RuntimeError):
    """The collector function failed; the event stays on the queue and is delivered again."""


@contextmanager
def status_events(
    session: boto3.session.Session,
    moto_url: str,
    durable_url: str,
    settings: Settings,
    watched: Watched,
) -> Iterator[StatusWatcher]:
    """Provision the collector path, watch both orchestrators and deliver, until the block ends."""
    queue_url = provision(session, moto_url, settings, watched)
    moto_lambda = session.client("lambda", endpoint_url=moto_url)

    def invoke_collector(event: Mapping[str, Any], delivery_id: str) -> None:
        response = moto_lambda.invoke(
            FunctionName=COLLECTOR_FUNCTION, Payload=json.dumps(event).encode()
        )
        payload = response["Payload"].read().decode()
        if response.get("FunctionError"):
            raise CollectorError(f"collector failed on {delivery_id}: {payload[:500]}")

    watcher = StatusWatcher(
        session.client("stepfunctions", endpoint_url=moto_url),
        session.client("lambda", endpoint_url=durable_url),
        session.client("events", endpoint_url=moto_url),
        watched,
    )
    router = EventRouter(
        session.client("sqs", endpoint_url=moto_url),
        queue_url,
        [invoke_collector],
        name="status-router",
    )
    watcher.start()
    router.start()
    try:
        yield watcher
    finally:
        watcher.stop()
        router.stop()
