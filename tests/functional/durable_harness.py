"""Drives the durable workflow in-process with the testing SDK's runner, the way AWS would.

A review is completed through the real gateway (``submit_review``) with an inbox that hands the
callback to the runner, so the durable side receives exactly the JSON a person's decision makes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_durable_execution_sdk_python.lambda_service import OperationType
from aws_durable_execution_sdk_python_testing.runner import (
    DurableFunctionTestResult,
    DurableFunctionTestRunner,
    StepOperation,
)

from handlers.domain.models import ReviewDecision, ReviewResult
from handlers.domain.names import Step
from handlers.domain.reviews import submit_review
from handlers.domain.tenant import Pattern
from handlers.wiring import Dependencies

# Not collected by pytest; albumreg/tools/repository_metrics.py reads it to count this helper
# as the pattern's test code.
pytestmark = pytest.mark.pattern_ldf

REVIEW_CALLBACK = f"{Step.REVIEW} create callback id"
"""The SDK names the callback inside ``wait_for_callback`` after the operation, like this."""

POLL_SECONDS = 0.05
EXECUTION_TIMEOUT_SECONDS = 30


class RunnerInbox:
    """A ``ReviewInbox`` that completes callbacks on an in-process runner."""

    def __init__(self, runner: DurableFunctionTestRunner) -> None:
        self.runner = runner

    def complete(self, pattern: Pattern, token: str, result: ReviewResult) -> None:
        # The same bytes OrchestratorReviewInbox sends with SendDurableExecutionCallbackSuccess.
        self.runner.send_callback_success(token, result.model_dump_json().encode())


class DurableHarness:
    """Start executions, wait at the review, decide as a person, collect the result."""

    def __init__(self, runner: DurableFunctionTestRunner, deps: Dependencies) -> None:
        self.runner = runner
        self.deps = deps

    def start(self, event: dict[str, Any], name: str = "execution-name") -> str:
        return self.runner.run_async(
            input=json.dumps(event),
            execution_timeout=EXECUTION_TIMEOUT_SECONDS,
            execution_name=name,
        )

    def wait_for_review(self, arn: str) -> str:
        """The callback id, once the invocation that opened the review has suspended."""
        return self.runner.wait_for_callback(arn, name=REVIEW_CALLBACK, timeout=10)

    def decide(self, upload_id: str, decision: ReviewDecision) -> ReviewResult:
        """What the dashboard and the CLI do: validate, resume the workflow, close the review."""
        return submit_review(
            Pattern.DURABLE,
            upload_id,
            decision,
            repo=self.deps.repo,
            inbox=RunnerInbox(self.runner),
            clock=self.deps.clock,
        )

    def finish(self, arn: str) -> DurableFunctionTestResult:
        return self.runner.wait_for_result(arn, timeout=EXECUTION_TIMEOUT_SECONDS)


@contextmanager
def durable_runner(handler: Any) -> Iterator[DurableFunctionTestRunner]:
    """A runner that polls fast; retry backoff is skipped, callback timeouts are real."""
    with DurableFunctionTestRunner(handler=handler, poll_interval=POLL_SECONDS) as runner:
        yield runner


def payload(result: DurableFunctionTestResult) -> dict[str, Any]:
    """The handler's JSON answer."""
    assert result.result is not None
    answer: dict[str, Any] = json.loads(result.result)
    return answer


def billed_operations(result: DurableFunctionTestResult) -> int:
    """Durable operations as metered: the start, every operation, and each step retry.

    The runner lists every checkpointed operation except the execution itself; a step that
    needed ``n`` attempts is billed ``n`` times.
    """
    total = 1
    for operation in result.get_all_operations():
        total += 1
        if operation.operation_type is OperationType.STEP:
            assert isinstance(operation, StepOperation)
            total += max(operation.attempt - 1, 0)
    return total
