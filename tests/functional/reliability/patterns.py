"""The same fault scenario against either orchestrator: one driver interface over both harnesses,
and counting fakes (model calls behind the real image checks, extract attempts per upload) that
let a test prove "no model call" and "no retry storm". Test helpers only.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

import boto3
import pytest
from aws_durable_execution_sdk_python.lambda_service import InvocationStatus
from aws_durable_execution_sdk_python_testing.runner import (
    DurableFunctionTestResult,
    DurableFunctionTestRunner,
    StepOperation,
)
from aws_durable_execution_sdk_python_testing.web.server import WebServer, WebServiceConfig
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from PIL import Image

from albumreg.cloud.moto_fixes import single_use_task_tokens, stable_heap_keys
from handlers import durable
from handlers.adapters.dynamodb import DynamoDbAlbumRepository, upload_pk
from handlers.adapters.histories import durable_history
from handlers.adapters.recognition.image import decode_image
from handlers.adapters.review_inbox import OrchestratorReviewInbox
from handlers.adapters.table_schema import PARTITION_KEY, SORT_KEY
from handlers.domain.errors import TransientError
from handlers.domain.events import parse_upload_event
from handlers.domain.models import Extraction, ReviewDecision, Upload
from handlers.domain.names import PRICE_ONE_ALBUM, Step, price_agent_name
from handlers.domain.policy import ALBUMS_PER_IMAGE
from handlers.domain.ports import ReviewInbox
from handlers.domain.records import ReviewRecord
from handlers.domain.reviews import submit_review
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.usage import HistoryUsage, durable_usage, step_functions_usage
from tests.conftest import make_extraction
from tests.functional.conftest import Workbench
from tests.functional.durable_harness import DurableHarness, durable_runner
from tests.functional.sfn_harness import SfnHarness, deployed_state_machine

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

PATTERN_IDS = [pattern.value for pattern in PATTERNS]
POLL_SECONDS = 0.02

COMPLETED = "completed"
REJECTED = "rejected"
DUPLICATE = "duplicate"
FAILED = "failed"
"""How an execution ended, in words both orchestrators share (see ``Orchestration.outcome``)."""

SF_ENDINGS = {
    "duplicate-upload": DUPLICATE,
    "upload-rejected": REJECTED,
    "record-rejection": REJECTED,
    "store-results": COMPLETED,
}
LDF_ENDINGS = {"DUPLICATE": DUPLICATE, "REJECTED": REJECTED, "COMPLETED": COMPLETED}


def jpeg(width: int = 900, height: int = 600, *, noise: bool = False) -> bytes:
    """A real JPEG a person could have uploaded (noise makes it large and incompressible)."""
    image = (
        Image.effect_noise((width, height), 80).convert("RGB")
        if noise
        else Image.new("RGB", (width, height), (40, 90, 160))
    )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


class CheckedRecognizer:
    """The real image checks, then a scripted "model" answer; counts the model calls.

    A bad upload must be refused by ``decode_image`` before ``model_calls`` moves.
    """

    def __init__(self, extraction: Extraction | None = None, max_bytes: int = 0) -> None:
        self.extraction = extraction or make_extraction()
        self.max_bytes = max_bytes
        self.model_calls = 0
        self._lock = threading.Lock()

    def recognize(self, image: bytes) -> Extraction:
        if self.max_bytes:
            decode_image(image, max_bytes=self.max_bytes)
        else:
            decode_image(image)
        with self._lock:
            self.model_calls += 1
        return self.extraction


class CountingRepository(DynamoDbAlbumRepository):
    """The real repository, counting claims per upload: one claim per extract attempt."""

    def __init__(self, repo: DynamoDbAlbumRepository) -> None:
        super().__init__(repo._client, repo._table)
        self.claims: Counter[str] = Counter()
        self._lock = threading.Lock()

    def claim_upload(
        self, pattern: Pattern, upload: Upload, execution_id: str, now: datetime
    ) -> None:
        with self._lock:
            self.claims[f"{pattern.value}#{upload.upload_id}"] += 1
        super().claim_upload(pattern, upload, execution_id, now)

    def extract_attempts(self, pattern: Pattern, upload_id: str) -> int:
        return self.claims[f"{pattern.value}#{upload_id}"]


@dataclass
class RetryDelays:
    """Delays moto's ASL interpreter was asked to wait before a Retry, scaled down to ms."""

    requested: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.requested.append(seconds)
        time.sleep(min(seconds, 0.01))


@contextmanager
def fast_asl_retries() -> Iterator[RetryDelays]:
    """Record ASL Retry delays instead of waiting them out (moto sleeps the real interval).

    The Retry itself still happens, in order, with the same attempt count: only the wait is
    shortened, as the durable runner skips its retry backoff.
    """
    delays = RetryDelays()
    original = retrier_decl.time  # type: ignore[attr-defined]
    retrier_decl.time = SimpleNamespace(sleep=delays.sleep)  # type: ignore[attr-defined,assignment]
    try:
        yield delays
    finally:
        retrier_decl.time = original  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Ending:
    """How one execution ended, as its orchestrator reports it."""

    status: str
    output: dict[str, Any] | None
    error: str | None


class Orchestration(Protocol):
    """One orchestrator, driven the same way whichever it is."""

    pattern: Pattern
    bench: Workbench

    def crash_error(self, message: str) -> Exception:
        """What a Lambda that died mid-step looks like to this orchestrator's retry policy."""
        ...

    def start(self, event: dict[str, Any], name: str = "first") -> str: ...

    def finish(self, handle: str, timeout: float = 30.0) -> Ending: ...

    def outcome(self, handle: str, ending: Ending) -> str: ...

    def inbox(self) -> ReviewInbox: ...

    def send_directly(self, token: str, payload: str) -> None: ...

    def is_running(self, handle: str) -> bool: ...

    def patch_step(
        self, monkeypatch: pytest.MonkeyPatch, step: Step, wrap: Callable[..., Any]
    ) -> None: ...

    def usage(self, handle: str) -> HistoryUsage:
        """What the finished execution's history says was billed, retries included."""
        ...

    def agent_attempts(self, handle: str) -> list[int]:
        """Attempts of each of the six price agents, from the history, in slot order."""
        ...


def _named_error(name: str) -> type[Exception]:
    """An exception class whose name is ``name``, dots included: Lambda's own error names.

    The Lambda runtime reports the class name as the error type, which is what an ASL Retry
    matches, so ``Lambda.ServiceException`` here is what Step Functions sees from a crash.
    """
    return type(name, (Exception,), {})


LAMBDA_SERVICE_EXCEPTION = _named_error("Lambda.ServiceException")


_SF_STEP_FUNCTIONS = {
    Step.EXTRACT: "handlers.domain.workflow.extract_albums",
    Step.REVIEW: "handlers.domain.workflow.request_review",
    Step.STORE: "handlers.domain.workflow.store_results",
}
_LDF_STEP_FUNCTIONS = {
    Step.EXTRACT: "handlers.durable.extract_albums",
    Step.REVIEW: "handlers.durable.request_review",
    Step.STORE: "handlers.durable.store_results",
}
"""Where each side looks the domain function up when a step runs (the seam a crash uses)."""


def _patch(monkeypatch: pytest.MonkeyPatch, target: str, wrap: Callable[..., Any]) -> None:
    module_name, _, name = target.rpartition(".")
    module = importlib.import_module(module_name)
    monkeypatch.setattr(module, name, wrap(getattr(module, name)))


class SfOrchestration:
    """The real ASL in moto's interpreter; tasks run the real handlers in this process."""

    pattern = Pattern.STEP_FUNCTIONS

    def __init__(self, harness: SfnHarness, delays: RetryDelays) -> None:
        self.harness = harness
        self.bench = harness.bench
        self.delays = delays

    def crash_error(self, message: str) -> Exception:
        # The Lambda service's own error name, which the ASL's Retry lists.
        return LAMBDA_SERVICE_EXCEPTION(message)

    def start(self, event: dict[str, Any], name: str = "first") -> str:
        return self.harness.start(event, name)

    def finish(self, handle: str, timeout: float = 30.0) -> Ending:
        described = self.harness.finish(handle, timeout)
        output = described.get("output")
        return Ending(
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
        )

    def outcome(self, handle: str, ending: Ending) -> str:
        if ending.status != "SUCCEEDED":
            return FAILED
        return SF_ENDINGS[self.harness.states_entered(handle)[-1]]

    def inbox(self) -> ReviewInbox:
        return OrchestratorReviewInbox(self.harness.sfn, boto3.client("lambda"))

    def send_directly(self, token: str, payload: str) -> None:
        self.harness.sfn.send_task_success(taskToken=token, output=payload)

    def is_running(self, handle: str) -> bool:
        return self.harness.sfn.describe_execution(executionArn=handle)["status"] == "RUNNING"

    def patch_step(
        self, monkeypatch: pytest.MonkeyPatch, step: Step, wrap: Callable[..., Any]
    ) -> None:
        _patch(monkeypatch, _SF_STEP_FUNCTIONS[step], wrap)

    def usage(self, handle: str) -> HistoryUsage:
        return step_functions_usage(self.harness.history(handle))

    def agent_attempts(self, handle: str) -> list[int]:
        """Attempts per Map iteration, in the order the iterations entered ``price-album``.

        Iterations interleave in the history: each attempt is paired with its iteration's
        entry through ``previousEventId``, as Step Functions chains them.
        """
        events = self.harness.history(handle)
        by_id = {int(event["id"]): event for event in events}
        attempts: dict[int, int] = {}
        for event in events:
            if event["type"] == "TaskStateEntered":
                if event["stateEnteredEventDetails"]["name"] == PRICE_ONE_ALBUM:
                    attempts[int(event["id"])] = 0
            elif event["type"] in {"LambdaFunctionScheduled", "TaskScheduled"}:
                entry = by_id.get(int(event["previousEventId"]))
                while entry is not None and not entry["type"].endswith("StateEntered"):
                    entry = by_id.get(int(entry["previousEventId"]))
                if entry is not None and int(entry["id"]) in attempts:
                    attempts[int(entry["id"])] += 1
        return list(attempts.values())

    def task_attempts(self, handle: str, state: str) -> int:
        """Lambda invocations the state machine made for one task state (retries included)."""
        attempts, current = 0, None
        for event in self.harness.history(handle):
            if event["type"].endswith("StateEntered"):
                current = event["stateEnteredEventDetails"]["name"]
            elif event["type"] in {"LambdaFunctionScheduled", "TaskScheduled"}:
                attempts += int(current == state)
        return attempts


class DurableOrchestration:
    """The durable handler under the testing SDK's in-process runner."""

    pattern = Pattern.DURABLE

    def __init__(self, harness: DurableHarness, bench: Workbench, callbacks: LambdaClient) -> None:
        self.harness = harness
        self.bench = bench
        self.callbacks = callbacks
        # The runner hands a result out once: later questions about it read this copy.
        self.results: dict[str, DurableFunctionTestResult] = {}

    def crash_error(self, message: str) -> Exception:
        # A failed attempt the step's retry strategy retries: the SDK then replays the handler.
        return TransientError(message)

    def start(self, event: dict[str, Any], name: str = "first") -> str:
        return self.harness.start(event, name)

    def finish(self, handle: str, timeout: float = 30.0) -> Ending:
        result = self.harness.runner.wait_for_result(handle, timeout=math.ceil(timeout))
        self.results[handle] = result
        return Ending(
            status=result.status.value,
            output=json.loads(result.result) if result.result else None,
            error=result.error.type if result.error else None,
        )

    def outcome(self, handle: str, ending: Ending) -> str:
        if ending.status != InvocationStatus.SUCCEEDED.value or ending.output is None:
            return FAILED
        return LDF_ENDINGS[str(ending.output["status"])]

    def inbox(self) -> ReviewInbox:
        return OrchestratorReviewInbox(
            boto3.client("stepfunctions", region_name="us-east-1"), self.callbacks
        )

    def send_directly(self, token: str, payload: str) -> None:
        self.callbacks.send_durable_execution_callback_success(
            CallbackId=token, Result=payload.encode()
        )

    def is_running(self, handle: str) -> bool:
        described = self.callbacks.get_durable_execution(DurableExecutionArn=handle)
        return described["Status"] == "RUNNING"

    def patch_step(
        self, monkeypatch: pytest.MonkeyPatch, step: Step, wrap: Callable[..., Any]
    ) -> None:
        _patch(monkeypatch, _LDF_STEP_FUNCTIONS[step], wrap)

    def step_attempts(self, handle: str, name: str) -> int:
        """Attempts the runner recorded for one named step of a finished execution."""
        return int(self.results[handle].get_step(name).attempt)

    def usage(self, handle: str) -> HistoryUsage:
        # The history as GetDurableExecutionHistory returns it, payloads included.
        return durable_usage(durable_history(self.callbacks, handle, include_data=True))

    def agent_attempts(self, handle: str) -> list[int]:
        # The agents' steps sit inside the map operation: look through every operation.
        attempts = {
            operation.name: int(operation.attempt)
            for operation in self.results[handle].get_all_operations()
            if isinstance(operation, StepOperation)
        }
        return [attempts[price_agent_name(slot)] for slot in range(1, ALBUMS_PER_IMAGE + 1)]


@contextmanager
def open_orchestration(pattern: Pattern, bench: Workbench) -> Iterator[Orchestration]:
    """The orchestrator of ``pattern`` over the workbench's moto account.

    Step Functions: the ASL deployed to moto with in-process tasks and short Retry waits, where
    moto differs from AWS corrected (``albumreg.cloud.moto_fixes``), every execution still running
    at the end stopped (it would outlive moto). Durable: a runner.
    """
    if pattern is Pattern.STEP_FUNCTIONS:
        with (
            single_use_task_tokens(),
            stable_heap_keys(),
            fast_asl_retries() as delays,
            deployed_state_machine(bench) as harness,
        ):
            yield SfOrchestration(harness, delays)
    else:
        with durable_runner(durable.handler) as runner, callback_api(runner) as callbacks:
            yield DurableOrchestration(DurableHarness(runner, bench.deps), bench, callbacks)


@contextmanager
def callback_api(runner: DurableFunctionTestRunner) -> Iterator[LambdaClient]:
    """The runner's executions behind the Lambda callback API on 127.0.0.1, and a client for it.

    The review gateway then completes a durable review with the real
    ``SendDurableExecutionCallbackSuccess`` call, as the CLI does on the local cloud. The web
    server is the testing SDK's own (the one ``dex-local-runner`` serves); the runner keeps its
    executor private, hence the attribute access.
    """
    server = WebServer(
        WebServiceConfig(host="127.0.0.1", port=0, log_level=logging.WARNING),
        runner._executor,
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": POLL_SECONDS},  # so shutdown() returns at once
        name="callback-api",
        daemon=True,
    )
    thread.start()
    try:
        yield boto3.client(
            "lambda",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def upload_id_of(event: dict[str, Any]) -> str:
    return parse_upload_event(event).upload_id


def wait_for_review(
    repo: DynamoDbAlbumRepository, pattern: Pattern, upload_id: str, timeout: float = 10.0
) -> ReviewRecord:
    """The review an execution stored, once it is there (as the dashboard would list it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        review = repo.get_review(pattern, upload_id)
        if review is not None:
            return review
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"no {pattern.value} review stored for {upload_id} within {timeout} s")


@dataclass(frozen=True)
class ApprovedRun:
    """One execution whose review was approved as it was: its handle, that review, its end."""

    handle: str
    review: ReviewRecord
    ending: Ending


def run_with_approval(orchestration: Orchestration, event: dict[str, Any]) -> ApprovedRun:
    """Start the execution, approve its review unchanged once it is stored, wait for the end."""
    bench = orchestration.bench
    upload_id = upload_id_of(event)
    handle = orchestration.start(event)
    review = wait_for_review(bench.repo, orchestration.pattern, upload_id)
    submit_review(
        orchestration.pattern,
        upload_id,
        ReviewDecision(action="approve"),
        repo=bench.repo,
        inbox=orchestration.inbox(),
        clock=bench.deps.clock,
    )
    return ApprovedRun(handle, review, orchestration.finish(handle))


def item_keys(dynamodb: Any, table: str, pattern: Pattern, upload_id: str) -> list[str]:
    """Sort keys of every item stored for one upload in one pattern, sorted."""
    response = dynamodb.query(
        TableName=table,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": PARTITION_KEY},
        ExpressionAttributeValues={":pk": {"S": upload_pk(pattern, upload_id)}},
        ConsistentRead=True,
    )
    return sorted(item[SORT_KEY]["S"] for item in response["Items"])


ONE_SET_OF_RECORDS = sorted(
    ["META", "REVIEW", "METRICS", *(f"ALBUM#{slot}" for slot in range(1, 7))]
)
"""What a completed upload leaves in the table: one item of each, never two sets."""
