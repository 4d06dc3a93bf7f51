"""What one execution used, from its orchestrator's history and the items it stored.

Pure: plain history events (boto3 dicts or stored fixtures) and DynamoDB items in attribute-value
form go in; counts, billed durations and sizes come out for ``handlers.domain.cost``. Imports
no orchestrator SDK, no boto3, no Pulumi. How each number is derived is in ``docs/metrics.md``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from handlers.domain.names import PRICE_ONE_ALBUM, Step
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import durable_timeline, moment, state_transitions

KB = 1024
"""DynamoDB bills writes per started kilobyte of item size."""
READ_UNIT_BYTES = 4 * KB
"""A strongly consistent read costs one read unit per started 4 KB."""
GB = 1024**3
"""Billing gigabyte (2^30 bytes), as AWS bills storage and Lambda memory."""

DURABLE_HANDLER = "durable-handler"
"""Name given to durable invocations: the one function runs the whole workflow."""

Timing = Literal["recorded", "estimated"]

_LAMBDA_END = frozenset(
    {"LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut"}
)
_TASK_ATTEMPT = frozenset({"LambdaFunctionScheduled", "TaskScheduled"})
_FAILED_ATTEMPT = frozenset(
    {
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "LambdaFunctionStartFailed",
        "LambdaFunctionScheduleFailed",
        "TaskFailed",
        "TaskTimedOut",
        "TaskStartFailed",
        "TaskSubmitFailed",
    }
)
"""How a Step Functions task attempt ends when its Retry may schedule another."""
_DURABLE_END = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionStopped"}
)
"""The execution's final result or error: returned by the handler, not checkpointed as data."""
_TASK_END = frozenset({"TaskSubmitted", "TaskSucceeded", "TaskFailed", "TaskTimedOut"})
_STEP_END = ("Succeeded", "Failed")
_WAKE_EVENTS = frozenset(
    {
        "CallbackSucceeded",
        "CallbackFailed",
        "CallbackTimedOut",
        "WaitSucceeded",
        "WaitCancelled",
        "ChainedInvokeSucceeded",
        "ChainedInvokeFailed",
        "ChainedInvokeTimedOut",
        "ChainedInvokeStopped",
    }
)
"""Written by the service while no invocation runs: what wakes the execution, not its start."""


@dataclass(frozen=True)
class Invocation:
    """One billed Lambda invocation, as its orchestrator recorded it.

    Attributes:
        name: the state that invoked it (sf) or ``durable-handler`` (ldf).
        start: when the orchestrator saw it start.
        end: when it saw it end.
    """

    name: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return (self.end - self.start).total_seconds()

    @property
    def billed_ms(self) -> int:
        """Lambda bills duration rounded up to the next millisecond (at least 1 ms)."""
        microseconds = max(0, (self.end - self.start) // timedelta(microseconds=1))
        return max(1, -(-microseconds // 1000))


@dataclass(frozen=True)
class Retries:
    """What retries cost one execution, as its orchestrator recorded them.

    Attributes:
        steps: retries per step, by the shared step names (``price-album`` sums the six
            agents; a durable step inside the review's callback counts as ``review-years``).
        invocation_retries: durable invocations that failed (crash, timeout, throttling) and
            that the service ran again; 0 for Step Functions, whose Retry covers those too.
        lambda_invocations: Lambda invocations spent on retries: each Step Functions retry
            invokes its task again; a durable step retry suspends and is resumed by a new
            invocation unless other work keeps one running.
        backoff_seconds: waits before the retries, summed over every retry (six agents
            waiting at once count six times): measured between a failed attempt and the next
            on Step Functions, the ``NextAttemptDelaySeconds`` the service recorded on durable.
    """

    steps: Mapping[str, int] = field(default_factory=dict)
    invocation_retries: int = 0
    lambda_invocations: int = 0
    backoff_seconds: float = 0.0

    @property
    def billed_units(self) -> int:
        """Units billed for retries, from the orchestrators' pricing rules.

        A Step Functions retry is one more state transition; a durable step retry, and an
        invocation the service retried, one more operation each ("Retries for Lambda durable
        functions", https://docs.aws.amazon.com/lambda/latest/dg/durable-execution-sdk-retries.html).
        """
        return sum(self.steps.values()) + self.invocation_retries


@dataclass(frozen=True)
class HistoryUsage:
    """What an execution history says was billed and done.

    Attributes:
        pattern: which orchestrator.
        billed_units: state transitions (sf) or durable operations (ldf).
        invocations: every Lambda invocation with its duration.
        timing: ``recorded`` when the history holds each invocation's start and end;
            ``estimated`` when the durable history lacks them (the local control plane) and
            they are inferred from neighbouring events.
        work_seconds: business code on the critical path outside the human wait: top-level
            task or step attempts plus the slowest price agent's attempts.
        checkpoint_bytes: bytes of every payload the durable history holds (0 for sf, and
            for ldf when the history was read without execution data).
        extract_attempts: attempts of the extract step (each reads the photo from S3 once).
        retries: what retries cost, already included in the figures above.
    """

    pattern: Pattern
    billed_units: int
    invocations: tuple[Invocation, ...]
    timing: Timing
    work_seconds: float
    checkpoint_bytes: int
    extract_attempts: int
    retries: Retries

    @property
    def lambda_requests(self) -> int:
        """Billed Lambda requests."""
        return len(self.invocations)

    @property
    def billed_ms(self) -> int:
        """Sum of billed durations."""
        return sum(invocation.billed_ms for invocation in self.invocations)

    def gb_seconds(self, memory_mb: int) -> Decimal:
        """Billed duration times memory: what Lambda duration is priced by."""
        return Decimal(self.billed_ms) / 1000 * Decimal(memory_mb) / 1024


def _ancestor(
    event: Mapping[str, Any],
    by_id: Mapping[int, Mapping[str, Any]],
    wanted: Callable[[str], bool],
) -> Mapping[str, Any] | None:
    """Follow ``previousEventId`` back to the nearest event of a wanted type.

    Map iterations interleave in a Step Functions history; only this chain pairs their events.
    """
    current = by_id.get(int(event.get("previousEventId", 0)))
    while current is not None:
        if wanted(str(current["type"])):
            return current
        current = by_id.get(int(current.get("previousEventId", 0)))
    return None


def _is_lambda_task(started: Mapping[str, Any]) -> bool:
    details = started.get("taskStartedEventDetails") or {}
    return str(details.get("resourceType", "")) == "lambda"


def step_functions_usage(events: Sequence[Mapping[str, Any]]) -> HistoryUsage:
    """Usage of one Step Functions execution (``GetExecutionHistory`` events).

    Each Lambda task attempt is one invocation, from ``LambdaFunctionStarted`` to its end. The
    review's ``lambda:invoke.waitForTaskToken`` is one more, from ``TaskStarted`` to
    ``TaskSubmitted`` (the invoke returned); the wait for the person after it costs nothing.
    """
    by_id = {int(event["id"]): event for event in events}
    closed: set[int] = set()
    invocations: list[Invocation] = []
    agents: dict[int, float] = defaultdict(float)
    top_level = 0.0
    for event in events:
        kind = str(event["type"])
        if kind in _LAMBDA_END:
            started = _ancestor(event, by_id, lambda t: t == "LambdaFunctionStarted")
        elif kind in _TASK_END:
            started = _ancestor(event, by_id, lambda t: t == "TaskStarted")
            if started is not None and not _is_lambda_task(started):
                continue
        else:
            continue
        if started is None or int(started["id"]) in closed:
            continue
        closed.add(int(started["id"]))
        entry = _ancestor(started, by_id, lambda t: t.endswith("StateEntered"))
        details = (entry or {}).get("stateEnteredEventDetails") or {}
        invocation = Invocation(
            str(details.get("name", "")), moment(started["timestamp"]), moment(event["timestamp"])
        )
        invocations.append(invocation)
        if invocation.name == PRICE_ONE_ALBUM and entry is not None:
            agents[int(entry["id"])] += invocation.seconds
        elif invocation.name != Step.REVIEW:
            top_level += invocation.seconds
    return HistoryUsage(
        pattern=Pattern.STEP_FUNCTIONS,
        billed_units=state_transitions(events),
        invocations=tuple(invocations),
        timing="recorded",
        work_seconds=top_level + max(agents.values(), default=0.0),
        checkpoint_bytes=0,
        extract_attempts=sum(1 for inv in invocations if inv.name == Step.EXTRACT),
        retries=_step_functions_retries(events, by_id),
    )


def _step_functions_retries(
    events: Sequence[Mapping[str, Any]], by_id: Mapping[int, Mapping[str, Any]]
) -> Retries:
    """A retry is a task attempt scheduled right after a failed attempt of the same state."""
    steps: Counter[str] = Counter()
    lambda_invocations = 0
    backoff = 0.0
    for event in events:
        if str(event["type"]) not in _TASK_ATTEMPT:
            continue
        before = _ancestor(
            event, by_id, lambda t: t in _FAILED_ATTEMPT or t.endswith("StateEntered")
        )
        if before is None or str(before["type"]) not in _FAILED_ATTEMPT:
            continue
        entry = _ancestor(event, by_id, lambda t: t.endswith("StateEntered"))
        details = (entry or {}).get("stateEnteredEventDetails") or {}
        steps[str(details.get("name", ""))] += 1
        lambda_invocations += _schedules_lambda(event)
        backoff += (moment(event["timestamp"]) - moment(before["timestamp"])).total_seconds()
    return Retries(dict(steps), 0, lambda_invocations, backoff)


def _schedules_lambda(scheduled: Mapping[str, Any]) -> bool:
    """A Lambda task (by ARN, or the ``lambda:invoke`` integration) invokes a function."""
    if scheduled["type"] == "LambdaFunctionScheduled":
        return True
    details = scheduled.get("taskScheduledEventDetails") or {}
    return str(details.get("resourceType", "")) == "lambda"


def durable_usage(events: Sequence[Mapping[str, Any]]) -> HistoryUsage:
    """Usage of one durable execution (``GetDurableExecutionHistory`` events).

    Invocations are the ``InvocationCompleted`` events: the first run and every resume.
    """
    invocations, timing = _durable_invocations(events)
    attempts = _step_attempts(events)
    parents = {str(e["Id"]): e.get("ParentId") for e in events if e.get("Id")}
    top_level = 0.0
    agents: dict[str, float] = defaultdict(float)
    extract_attempts = 0
    for operation, name, seconds in attempts:
        if name.startswith(f"{PRICE_ONE_ALBUM}-"):
            agents[operation] += seconds
        elif parents.get(operation) is None:
            top_level += seconds
        extract_attempts += name == Step.EXTRACT
    retries = _durable_retries(events)
    return HistoryUsage(
        pattern=Pattern.DURABLE,
        # The timeline meters each step attempt; an invocation the service retried is one more.
        billed_units=durable_timeline(events).billed_units + retries.invocation_retries,
        invocations=tuple(invocations),
        timing=timing,
        work_seconds=top_level + max(agents.values(), default=0.0),
        checkpoint_bytes=sum(
            _payload_bytes(event) for event in events if event["EventType"] not in _DURABLE_END
        ),
        extract_attempts=extract_attempts,
        retries=retries,
    )


def _durable_retries(events: Sequence[Mapping[str, Any]]) -> Retries:
    """Step retries (a failed attempt that another attempt follows), and retried invocations.

    An invocation after the first is spent on retries when nothing woke the execution since
    the previous one ended (no callback, wait or chained invoke): a retry timer or the service
    re-running a failed invocation started it.
    """
    names = _durable_step_names(events)
    started_after: dict[str, int] = {}
    for index, event in enumerate(events):
        if event["EventType"] == "StepStarted" and event.get("Id"):
            started_after[str(event["Id"])] = index
    steps: Counter[str] = Counter()
    backoff = 0.0
    invocation_retries = 0
    lambda_invocations = 0
    invocations_seen = 0
    last_invocation = max(
        (i for i, e in enumerate(events) if e["EventType"] == "InvocationCompleted"), default=-1
    )
    woken = False
    for index, event in enumerate(events):
        kind = str(event["EventType"])
        if kind == "StepFailed" and started_after.get(str(event.get("Id")), -1) > index:
            steps[names.get(str(event["Id"]), "")] += 1
            retry = (event.get("StepFailedDetails") or {}).get("RetryDetails") or {}
            backoff += float(retry.get("NextAttemptDelaySeconds") or 0)
        elif kind in _WAKE_EVENTS:
            woken = True
        elif kind == "InvocationCompleted":
            if invocations_seen and not woken:
                lambda_invocations += 1
            failed = (event.get("InvocationCompletedDetails") or {}).get("Error")
            invocation_retries += bool(failed) and index < last_invocation
            invocations_seen += 1
            woken = False
    return Retries(dict(steps), invocation_retries, lambda_invocations, backoff)


def _durable_step_names(events: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Operation id -> shared step name, so both orchestrators' retries line up.

    ``price-album-3`` is a ``price-album`` attempt, and the submitter step inside the review's
    callback context belongs to ``review-years``.
    """
    callbacks = {
        str(e["Id"]): str(e.get("Name") or "")
        for e in events
        if e["EventType"] == "ContextStarted" and e.get("SubType") == "WaitForCallback"
    }
    names: dict[str, str] = {}
    for event in events:
        if event["EventType"] != "StepStarted" or not event.get("Id"):
            continue
        name = str(event.get("Name") or "")
        if name.startswith(f"{PRICE_ONE_ALBUM}-"):
            name = PRICE_ONE_ALBUM
        names[str(event["Id"])] = callbacks.get(str(event.get("ParentId")), name)
    return names


def _durable_invocations(
    events: Sequence[Mapping[str, Any]],
) -> tuple[list[Invocation], Timing]:
    """Each invocation's span: recorded in its details on AWS, inferred where they are absent.

    Without details, an invocation starts with the execution (the first) or with the first
    event the handler wrote after the previous invocation ended; the callback or timer that woke
    it is skipped, since the invocation may start much later (the local control plane queues
    invocations when its workers are busy). Replay before that first event is missed, so the
    estimate runs slightly short.
    """
    invocations: list[Invocation] = []
    timing: Timing = "recorded"
    pending: datetime | None = moment(events[0]["EventTimestamp"]) if events else None
    for event in events:
        when = moment(event["EventTimestamp"])
        if event["EventType"] in _WAKE_EVENTS:
            continue
        if event["EventType"] != "InvocationCompleted":
            pending = pending or when
            continue
        details = event.get("InvocationCompletedDetails") or {}
        if details.get("StartTimestamp") and details.get("EndTimestamp"):
            start, end = moment(details["StartTimestamp"]), moment(details["EndTimestamp"])
        else:
            timing = "estimated"
            start, end = pending or when, when
        invocations.append(Invocation(DURABLE_HANDLER, start, end))
        pending = None
    return invocations, timing


def _step_attempts(events: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, float]]:
    """(operation id, name, seconds) per step attempt: a start paired with the next end."""
    open_attempts: dict[str, datetime] = {}
    names: dict[str, str] = {}
    attempts: list[tuple[str, str, float]] = []
    for event in events:
        kind = str(event["EventType"])
        if not kind.startswith("Step") or not event.get("Id"):
            continue
        operation = str(event["Id"])
        names.setdefault(operation, str(event.get("Name") or ""))
        when = moment(event["EventTimestamp"])
        if kind == "StepStarted":
            open_attempts[operation] = when
        elif kind.endswith(_STEP_END) and operation in open_attempts:
            start = open_attempts.pop(operation)
            attempts.append((operation, names[operation], (when - start).total_seconds()))
    return attempts


def _payload_bytes(value: Any) -> int:
    """Bytes under every ``Payload`` key: what the durable service stored for this event."""
    if isinstance(value, Mapping):
        total = 0
        for key, item in value.items():
            if key == "Payload":
                total += len(item.encode() if isinstance(item, str) else json.dumps(item).encode())
            else:
                total += _payload_bytes(item)
        return total
    if isinstance(value, list):
        return sum(_payload_bytes(item) for item in value)
    return 0


# --- DynamoDB: units computed from item sizes, not metered ---


def _number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "").split("e")[0].split("E")[0]
    significant = digits.strip("0") or "0"
    return -(-len(significant) // 2) + 1


_SCALAR_SIZES: dict[str, Callable[[Any], int]] = {
    "S": lambda v: len(str(v).encode()),
    "N": lambda v: _number_size(str(v)),
    "B": len,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "SS": lambda vs: sum(len(str(v).encode()) for v in vs),
    "NS": lambda vs: sum(_number_size(str(v)) for v in vs),
    "BS": lambda vs: sum(len(v) for v in vs),
}


def _value_size(value: Mapping[str, Any]) -> int:
    """Size of one attribute value, by DynamoDB's documented rules (approximate for numbers).

    A list or map costs 3 bytes plus, per element, 1 byte, its value and (maps) its name.
    """
    (kind, inner), *_ = value.items()
    if kind in _SCALAR_SIZES:
        return _SCALAR_SIZES[kind](inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes of one item in attribute-value form: attribute names plus values."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


@dataclass(frozen=True)
class TableWrite:
    """One write request's share of a workflow, as the repository issues it.

    Attributes:
        operation: what wrote it, e.g. ``claim`` or ``store``.
        item: the sort key written (``META``, ``ALBUM#3``...).
        size_bytes: the item's size (its final size: items only grow, so an upper bound).
        transactional: inside ``TransactWriteItems``, which costs two units per KB.
        index_writes: writes to the status index: 0 (not indexed), 1 (put or in-place
            update), 2 (the index key changed: delete the old entry and put the new one).
    """

    operation: str
    item: str
    size_bytes: int
    transactional: bool = False
    index_writes: int = 0

    @property
    def units(self) -> int:
        """Write units: per started KB, doubled in a transaction, plus the index writes."""
        kilobytes = max(1, -(-self.size_bytes // KB))
        return kilobytes * (2 if self.transactional else 1) + kilobytes * self.index_writes


def workflow_writes(
    items: Mapping[str, Mapping[str, Any]], status: str, review_state: str | None
) -> list[TableWrite]:
    """The writes ``DynamoDbAlbumRepository`` made for one workflow, from what it left behind.

    Args:
        items: the upload's items by sort key, in attribute-value form; the ``METRICS`` item
            holding only what ``store_results`` wrote.
        status: the upload's final status.
        review_state: the review's final state, None when there was no review.
    """
    sizes = {key: item_size(item) for key, item in items.items()}
    albums = sorted(key for key in sizes if key.startswith("ALBUM#"))
    writes: list[TableWrite] = []
    if "META" in sizes:
        writes.append(TableWrite("claim", "META", sizes["META"], index_writes=1))
    if albums:
        writes.append(TableWrite("extract", "META", sizes["META"], True, index_writes=2))
        writes += [TableWrite("extract", key, sizes[key], True) for key in albums]
    if "REVIEW" in sizes:
        writes.append(TableWrite("open-review", "REVIEW", sizes["REVIEW"], index_writes=1))
        if review_state not in (None, "OPEN"):
            writes.append(TableWrite("resolve-review", "REVIEW", sizes["REVIEW"], index_writes=2))
    if status == "COMPLETED":
        writes.append(TableWrite("store", "META", sizes["META"], True, index_writes=2))
        if "REVIEW" in sizes:
            writes.append(TableWrite("store", "REVIEW", sizes["REVIEW"], True, index_writes=1))
        writes += [TableWrite("store", key, sizes[key], True) for key in albums]
        if "METRICS" in sizes:
            writes.append(TableWrite("store", "METRICS", sizes["METRICS"], True))
    elif status in ("REJECTED", "FAILED") and "META" in sizes:
        writes.append(TableWrite("mark-status", "META", sizes["META"], index_writes=2))
    return writes


def workflow_read_units(items: Mapping[str, Mapping[str, Any]], review_state: str | None) -> int:
    """Read units: a person's decision reads the review once, strongly consistent."""
    if "REVIEW" not in items or review_state not in ("APPROVED", "REJECTED"):
        return 0
    return max(1, -(-item_size(items["REVIEW"]) // READ_UNIT_BYTES))


# --- everything the cost model prices, for one workflow ---


@dataclass(frozen=True)
class Usage:
    """Billable quantities of one workflow, whichever orchestrator ran it.

    Attributes:
        pattern: which orchestrator.
        state_transitions: Step Functions Standard transitions (sf only).
        durable_operations: durable operations (ldf only).
        durable_bytes_written: checkpointed payload bytes, the final result left out (ldf only).
        durable_execution_days: how long the execution ran, in days: its data is retained
            meanwhile too (ldf only).
        durable_retention_days: how long the history is kept after the execution (ldf only).
        lambda_requests: Lambda invocations.
        lambda_gb_seconds: billed duration times memory.
        lambda_architecture: ``arm64`` or ``x86_64``.
        dynamodb_write_units: computed from item sizes (see ``workflow_writes``).
        dynamodb_read_units: computed likewise.
        s3_put_requests: the upload itself.
        s3_get_requests: the extract step's reads of the photo.
        eventbridge_events: the S3 "Object Created" event.
        cloudwatch_requests: ``PutMetricData`` calls made for this workflow.
        vision_model: Bedrock model that read the covers; None for the offline recognizer.
        vision_input_tokens: as the model reported them.
        vision_output_tokens: as the model reported them.
        agent_model: Bedrock model of the LLM price agents; None for the deterministic agent.
        agent_input_tokens: summed over the six agents.
        agent_output_tokens: summed over the six agents.
    """

    pattern: Pattern
    state_transitions: int = 0
    durable_operations: int = 0
    durable_bytes_written: int = 0
    durable_execution_days: Decimal = Decimal(0)
    durable_retention_days: int = 0
    lambda_requests: int = 0
    lambda_gb_seconds: Decimal = Decimal(0)
    lambda_architecture: str = "arm64"
    dynamodb_write_units: int = 0
    dynamodb_read_units: int = 0
    s3_put_requests: int = 0
    s3_get_requests: int = 0
    eventbridge_events: int = 0
    cloudwatch_requests: int = 0
    vision_model: str | None = None
    vision_input_tokens: int = 0
    vision_output_tokens: int = 0
    agent_model: str | None = None
    agent_input_tokens: int = 0
    agent_output_tokens: int = 0
