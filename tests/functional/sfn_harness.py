"""Drives the real ASL through moto's interpreter for the Step Functions functional tests.

The harness plays the parts outside the state machine: the S3 event that starts it, the person
who completes the review with ``SendTaskSuccess``, and the counters a test asserts on. Every test
that runs the state machine gets it the same way: ``state_machine_account`` as its moto account,
``deployed_state_machine`` for the deployment (the reliability suite adds its moto fixes around).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from albumreg.cloud.moto_fixes import serialized_dynamodb
from albumreg.cloud.sfn_runner import (
    MOTO_CONFIG,
    Deployment,
    deploy,
    history,
    routed_invokes,
    start,
    wait_for_execution,
)
from handlers.domain.events import parse_upload_event
from handlers.domain.models import ReviewDecision, ReviewResult
from handlers.domain.records import ReviewRecord
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import state_transitions
from handlers.domain.workflow import decide_review
from tests.functional.conftest import Workbench

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

# Not collected by pytest; albumreg/tools/repository_metrics.py reads it to count this helper
# as the pattern's test code.
pytestmark = pytest.mark.pattern_sf

SF = Pattern.STEP_FUNCTIONS
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)


@dataclass
class WriteCounter:
    """Counts DynamoDB write requests made through one client (botocore's event hooks)."""

    requests: Counter[str] = field(default_factory=Counter)

    def __call__(self, model: object, **_: object) -> None:
        name = str(getattr(model, "name", ""))
        if name in WRITE_OPERATIONS:
            self.requests[name] += 1

    @property
    def total(self) -> int:
        return sum(self.requests.values())


@dataclass
class SfnHarness:
    """One deployed state machine over the workbench's moto account and fakes."""

    bench: Workbench
    sfn: SFNClient
    deployment: Deployment

    def start(self, event: dict[str, Any], suffix: str = "1") -> str:
        return start(self.sfn, self.deployment.state_machine_arn, event, suffix)

    def finish(self, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
        return dict(wait_for_execution(self.sfn, execution_arn, timeout))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        return [dict(event) for event in history(self.sfn, execution_arn)]

    def transitions(self, execution_arn: str) -> int:
        return state_transitions(self.history(execution_arn))

    def states_entered(self, execution_arn: str) -> list[str]:
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history(execution_arn)
            if event["type"].endswith("StateEntered")
        ]

    def wait_for_review(self, event: dict[str, Any], timeout: float = 10.0) -> ReviewRecord:
        """The OPEN review the execution stored, as a dashboard would list it."""
        upload_id = parse_upload_event(event).upload_id
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            review = self.bench.repo.get_review(SF, upload_id)
            if review is not None:
                return review
            time.sleep(0.02)
        raise TimeoutError(f"no review stored for {upload_id} within {timeout} s")

    def decide(self, review: ReviewRecord, decision: ReviewDecision) -> ReviewResult:
        """Complete the paused execution from outside it, as the review gateway will."""
        result = decide_review(review, decision, clock=self.bench.deps.clock)
        self.sfn.send_task_success(taskToken=review.token, output=result.model_dump_json())
        return result


@contextmanager
def state_machine_account() -> Iterator[None]:
    """A moto account whose Step Functions executes state machines (moto's ASL interpreter).

    Its DynamoDB takes one request at a time (``albumreg.cloud.moto_fixes``), as in the local
    cloud: the tasks' handlers write from many threads, and a transaction's table copy would
    race another write.
    """
    with mock_aws(config=MOTO_CONFIG), serialized_dynamodb():
        yield


@contextmanager
def deployed_state_machine(bench: Workbench) -> Iterator[SfnHarness]:
    """The real ASL deployed to the workbench's moto account, every task running the real
    handler in this process (``routed_invokes``).

    Every execution still running at the end is stopped: it would outlive moto and call real
    endpoints.
    """
    with routed_invokes():
        deployment = deploy(boto3.session.Session(region_name="us-east-1"))
        client = boto3.client("stepfunctions", region_name="us-east-1")
        try:
            yield SfnHarness(bench, client, deployment)
        finally:
            running = client.list_executions(
                stateMachineArn=deployment.state_machine_arn, statusFilter="RUNNING"
            )
            for execution in running["executions"]:
                client.stop_execution(executionArn=execution["executionArn"])
