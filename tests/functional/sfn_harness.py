"""Drives the real ASL through moto's interpreter for the Step Functions functional tests.

The harness plays the parts outside the state machine: the S3 event that starts it, the person
who completes the review with ``SendTaskSuccess``, and the counters a test asserts on.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from albumreg.cloud.sfn_runner import (
    Deployment,
    history,
    start,
    wait_for_execution,
)
from handlers.domain.events import parse_upload_event
from handlers.domain.models import (
    Album,
    PriceEstimate,
    ReviewDecision,
    ReviewResult,
)
from handlers.domain.records import ReviewRecord
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import state_transitions
from handlers.domain.workflow import decide_review
from handlers.wiring import Dependencies, use
from tests.functional.conftest import Workbench

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

SF = Pattern.STEP_FUNCTIONS
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)


class SlotFailingPricing:
    """A ``PricingSource`` that raises for some slots and counts every call per slot."""

    def __init__(self, failing: dict[int, Exception] | None = None, amount: str = "20.00") -> None:
        self.failing = dict(failing or {})
        self.amount = Decimal(amount)
        self.calls: Counter[int] = Counter()
        self._lock = threading.Lock()

    def estimate(self, album: Album) -> PriceEstimate:
        with self._lock:
            self.calls[album.slot] += 1
        if album.slot in self.failing:
            raise self.failing[album.slot]
        return PriceEstimate(
            slot=album.slot, amount=self.amount, confidence=0.8, source="fake", requests=1
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
    def using(self, *, settings: dict[str, Any] | None = None, **adapters: Any) -> Iterator[None]:
        """Run with changed settings (a review timeout of seconds) or a replaced adapter."""
        deps = self.bench.deps
        current: dict[str, Any] = {
            "repo": deps.repo,
            "images": deps.images,
            "recognizer": deps.recognizer,
            "pricing": deps.pricing,
            "metrics": deps.metrics,
            "clock": deps.clock,
        }
        changed = Dependencies(replace(deps.settings, **(settings or {})), **(current | adapters))
        with use(changed):
            yield
