"""The execution inspector's data: both executions of one upload, operation by operation.

Reads each orchestrator's own history (``GetExecutionHistory``, ``GetDurableExecutionHistory``
with execution data, so errors come with their messages) into one shape: every state or
durable operation in the order it started, each attempt with its error and cause, the delay
before each retry, and the execution's final status; plus a link to each execution's console
page on AWS. Shared by ``albumreg inspect`` and the dashboard's Executions page; the parsing is
pure, so tests feed it recorded histories.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from handlers.adapters.histories import durable_history, step_functions_history
from handlers.domain.records import UploadSummary
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.timeline import moment

if TYPE_CHECKING:
    from handlers.domain.ports import AlbumRepository


SUCCEEDED = "succeeded"
FAILED = "failed"
TIMED_OUT = "timed out"
CAUGHT = "failed, caught"
RUNNING = "running"

_SF_EXECUTION_END = {
    "ExecutionSucceeded": ("SUCCEEDED", None),
    "ExecutionFailed": ("FAILED", "executionFailedEventDetails"),
    "ExecutionAborted": ("ABORTED", "executionAbortedEventDetails"),
    "ExecutionTimedOut": ("TIMED_OUT", "executionTimedOutEventDetails"),
}
_LDF_EXECUTION_END = {
    "ExecutionSucceeded": ("SUCCEEDED", None),
    "ExecutionFailed": ("FAILED", "ExecutionFailedDetails"),
    "ExecutionStopped": ("STOPPED", "ExecutionStoppedDetails"),
    "ExecutionTimedOut": ("TIMED_OUT", "ExecutionTimedOutDetails"),
}
_SF_ATTEMPT_START = frozenset({"LambdaFunctionScheduled", "TaskScheduled"})
_SF_ATTEMPT_END = {
    "LambdaFunctionSucceeded": (SUCCEEDED, None),
    "LambdaFunctionFailed": (FAILED, "lambdaFunctionFailedEventDetails"),
    "LambdaFunctionTimedOut": (TIMED_OUT, "lambdaFunctionTimedOutEventDetails"),
    "LambdaFunctionStartFailed": (FAILED, "lambdaFunctionStartFailedEventDetails"),
    "LambdaFunctionScheduleFailed": (FAILED, "lambdaFunctionScheduleFailedEventDetails"),
    "TaskSucceeded": (SUCCEEDED, None),
    "TaskFailed": (FAILED, "taskFailedEventDetails"),
    "TaskTimedOut": (TIMED_OUT, "taskTimedOutEventDetails"),
}
_LDF_END_SUFFIXES = {
    "Succeeded": SUCCEEDED,
    "Failed": FAILED,
    "TimedOut": TIMED_OUT,
    "Cancelled": "cancelled",
    "Stopped": "stopped",
}


@dataclass(frozen=True)
class Attempt:
    """One try of a state or operation.

    Attributes:
        number: 1 for the first try.
        start: when the orchestrator started it.
        end: when it ended; None while it runs.
        status: ``succeeded``, ``failed``, ``timed out`` or ``running``.
        error: the error name (Step Functions ``Error``, the durable error's class name).
        cause: the error's message.
        retry_delay_seconds: how long the orchestrator waited before the next attempt; None
            when there was none.
        waiting_from: when the task handed its token over and began waiting for a callback
            (Step Functions' ``TaskSubmitted``); None for a task that just runs.
    """

    number: int
    start: datetime
    end: datetime | None
    status: str
    error: str | None = None
    cause: str | None = None
    retry_delay_seconds: float | None = None
    waiting_from: datetime | None = None

    @property
    def seconds(self) -> float | None:
        """Duration, None while running."""
        return None if self.end is None else (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Operation:
    """One state (Step Functions) or operation (durable) of an execution.

    Attributes:
        name: the state or operation name (the shared step names where they apply).
        kind: ``Task``, ``Map``, ``Choice``... (sf) or ``Step``, ``Map``, ``Callback``... (ldf).
        parent: the enclosing Map or context, None at the top level.
        start: when it started.
        end: when it ended; None while it runs.
        status: how it ended (``failed, caught`` when the workflow handled the failure).
        attempts: its tries (none for states that run no code).
        error: the failure's name when it failed without attempts (a timed-out callback).
        iteration: the Map iteration it ran in (1-based), for Step Functions states in a Map.
    """

    name: str
    kind: str
    parent: str | None
    start: datetime
    end: datetime | None
    status: str
    attempts: tuple[Attempt, ...] = ()
    error: str | None = None
    iteration: int | None = None

    @property
    def retries(self) -> int:
        """Attempts beyond the first."""
        return max(0, len(self.attempts) - 1)

    @property
    def seconds(self) -> float | None:
        """Duration, None while running."""
        return None if self.end is None else (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class ExecutionTrace:
    """One execution, as its orchestrator recorded it.

    Attributes:
        pattern: which orchestrator.
        execution_id: its ARN (the local durable plane uses plain identifiers).
        status: RUNNING, SUCCEEDED, FAILED, ABORTED, STOPPED or TIMED_OUT.
        started_at: when it started.
        ended_at: when it ended; None while it runs.
        operations: every state or operation, in the order they started.
        error: the execution's error name, when it failed.
        cause: the execution's error message, when it failed.
    """

    pattern: Pattern
    execution_id: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    operations: tuple[Operation, ...]
    error: str | None = None
    cause: str | None = None

    @property
    def retries(self) -> dict[str, int]:
        """Retries per operation name, only where there were any."""
        found: dict[str, int] = {}
        for operation in self.operations:
            if operation.retries:
                found[operation.name] = found.get(operation.name, 0) + operation.retries
        return found

    @property
    def failed_attempts(self) -> list[tuple[Operation, Attempt]]:
        """Every attempt that did not succeed, with its operation, in time order."""
        return sorted(
            (
                (operation, attempt)
                for operation in self.operations
                for attempt in operation.attempts
                if attempt.status in (FAILED, TIMED_OUT)
            ),
            key=lambda pair: pair[1].start,
        )


def _short(error_type: str | None) -> str | None:
    """``handlers.domain.errors.TransientError`` -> ``TransientError``."""
    return None if error_type is None else error_type.rsplit(".", 1)[-1]


def _sf_cause(cause: str | None) -> str | None:
    """A Lambda error's cause is the runtime's JSON (message, type, stack): keep the message."""
    if not cause:
        return cause
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(parsed, Mapping) and isinstance(parsed.get("errorMessage"), str):
        return str(parsed["errorMessage"])
    return cause


def _sf_error(event: Mapping[str, Any], key: str | None) -> tuple[str | None, str | None]:
    details = event.get(key) if key else None
    if not isinstance(details, Mapping):
        return None, None
    error = details.get("error")
    return (None if error is None else str(error)), _sf_cause(details.get("cause"))


def _chain(event: Mapping[str, Any], by_id: Mapping[int, Mapping[str, Any]]) -> Any:
    """Events before ``event`` along ``previousEventId``, nearest first."""
    current = by_id.get(int(event.get("previousEventId", 0)))
    while current is not None:
        yield current
        current = by_id.get(int(current.get("previousEventId", 0)))


def _state_name(event: Mapping[str, Any]) -> str:
    for key in ("stateEnteredEventDetails", "stateExitedEventDetails"):
        details = event.get(key)
        if isinstance(details, Mapping) and "name" in details:
            return str(details["name"])
    return ""


@dataclass
class _OpenState:
    name: str
    kind: str
    parent: str | None
    start: datetime
    iteration: int | None = None
    end: datetime | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)


def _iteration(event: Mapping[str, Any], by_id: Mapping[int, Mapping[str, Any]]) -> int | None:
    """The 1-based Map iteration a state inside a Map runs in."""
    for earlier in _chain(event, by_id):
        if earlier["type"] == "MapIterationStarted":
            details = earlier.get("mapIterationStartedEventDetails") or {}
            return int(details.get("index", 0)) + 1
    return None


def step_functions_trace(events: Sequence[Mapping[str, Any]], execution_id: str) -> ExecutionTrace:
    """Read a Step Functions history (``GetExecutionHistory`` events, oldest first).

    Map iterations interleave, so each event is tied to its state by following
    ``previousEventId``; a state entered while a Map is open belongs to that Map (this
    workflow nests no Parallel state). Retry delays are the gap between a failed attempt's end
    and the next attempt's start: the history records no delay of its own.
    """
    by_id = {int(event["id"]): event for event in events}
    states: dict[int, _OpenState] = {}
    attempts: dict[int, int] = {}
    open_maps: list[str] = []
    status, ended, error, cause = "RUNNING", None, None, None
    for event in events:
        kind = str(event["type"])
        when = moment(event["timestamp"])
        if kind in _SF_EXECUTION_END:
            status, key = _SF_EXECUTION_END[kind]
            ended = when
            error, cause = _sf_error(event, key)
        elif kind.endswith("StateEntered"):
            name = _state_name(event)
            parent = open_maps[-1] if open_maps else None
            iteration = _iteration(event, by_id) if parent else None
            states[int(event["id"])] = _OpenState(
                name, kind.removesuffix("StateEntered"), parent, when, iteration
            )
            if kind == "MapStateEntered":
                open_maps.append(name)
        elif kind.endswith("StateExited"):
            name = _state_name(event)
            entered = next(
                (e for e in _chain(event, by_id) if str(e["type"]).endswith("StateEntered")
                 and _state_name(e) == name),
                None,
            )  # fmt: skip
            if entered is not None and int(entered["id"]) in states:
                states[int(entered["id"])].end = when
            if kind == "MapStateExited" and open_maps and open_maps[-1] == name:
                open_maps.pop()
        elif kind in _SF_ATTEMPT_START or kind == "TaskSubmitted" or kind in _SF_ATTEMPT_END:
            _sf_attempt_event(event, by_id, states, attempts)
    operations = [_sf_operation(state, ended) for state in states.values()]
    return ExecutionTrace(
        Pattern.STEP_FUNCTIONS,
        execution_id,
        status,
        moment(events[0]["timestamp"]),
        ended,
        tuple(sorted(operations, key=lambda op: op.start)),
        error,
        cause,
    )


def _sf_attempt_event(
    event: Mapping[str, Any],
    by_id: Mapping[int, Mapping[str, Any]],
    states: Mapping[int, _OpenState],
    attempts: dict[int, int],
) -> None:
    """Start, hand over (``TaskSubmitted``) or end the attempt an event belongs to.

    ``attempts`` maps each attempt's scheduling event to its state's entry event.
    """
    kind = str(event["type"])
    when = moment(event["timestamp"])
    if kind in _SF_ATTEMPT_START:
        entered = next(
            (e for e in _chain(event, by_id) if str(e["type"]).endswith("StateEntered")), None
        )
        if entered is not None and int(entered["id"]) in states:
            states[int(entered["id"])].attempts.append(
                {"start": when, "end": None, "status": RUNNING}
            )
            attempts[int(event["id"])] = int(entered["id"])
        return
    scheduled = next((e for e in _chain(event, by_id) if int(e["id"]) in attempts), None)
    if scheduled is None:
        return
    current = states[attempts[int(scheduled["id"])]].attempts[-1]
    if kind == "TaskSubmitted":
        current["waiting_from"] = when
        return
    outcome, key = _SF_ATTEMPT_END[kind]
    error, cause = _sf_error(event, key)
    current.update(end=when, status=outcome, error=error, cause=cause)


def _attempts(raw: Sequence[Mapping[str, Any]]) -> tuple[Attempt, ...]:
    """Numbered attempts, each failed one with the delay before the next (if any)."""
    found = []
    for index, attempt in enumerate(raw):
        following = raw[index + 1] if index + 1 < len(raw) else None
        delay = attempt.get("delay")
        if delay is None and following is not None and attempt.get("end") is not None:
            delay = max(0.0, (following["start"] - attempt["end"]).total_seconds())
        found.append(
            Attempt(
                number=index + 1,
                start=attempt["start"],
                end=attempt.get("end"),
                status=str(attempt["status"]),
                error=attempt.get("error"),
                cause=attempt.get("cause"),
                retry_delay_seconds=None if following is None else delay,
                waiting_from=attempt.get("waiting_from"),
            )
        )
    return tuple(found)


def _sf_operation(state: _OpenState, execution_end: datetime | None) -> Operation:
    # Succeed and Fail states end the execution without an exit event of their own.
    end = state.end or (execution_end if not state.attempts else None)
    attempts = _attempts(state.attempts)
    last = attempts[-1] if attempts else None
    if last is None:
        status = RUNNING if end is None else FAILED if state.kind == "Fail" else SUCCEEDED
    elif last.status in (FAILED, TIMED_OUT) and end is not None:
        status = CAUGHT
    else:
        status = last.status
    return Operation(
        state.name,
        state.kind,
        state.parent,
        state.start,
        end,
        status,
        attempts,
        iteration=state.iteration,
    )


def _ldf_error(details: Any) -> tuple[str | None, str | None]:
    error = details.get("Error") if isinstance(details, Mapping) else None
    payload = error.get("Payload") if isinstance(error, Mapping) else None
    if not isinstance(payload, Mapping):
        return None, None
    return _short(payload.get("ErrorType")), payload.get("ErrorMessage")


def durable_trace(events: Sequence[Mapping[str, Any]], execution_id: str) -> ExecutionTrace:
    """Read a durable history (``GetDurableExecutionHistory`` events, oldest first).

    Each operation id is one operation; each ``StepStarted`` of it one attempt, ended by its
    ``StepSucceeded`` or ``StepFailed``, whose ``RetryDetails`` give the delay before the next
    attempt. Errors carry their messages only when the history was read with execution data.
    """
    operations: dict[str, dict[str, Any]] = {}
    names = {str(e["Id"]): str(e.get("Name") or "") for e in events if e.get("Id")}
    status, ended, error, cause = "RUNNING", None, None, None
    for event in events:
        kind = str(event["EventType"])
        when = moment(event["EventTimestamp"])
        if kind in _LDF_EXECUTION_END:
            status, key = _LDF_EXECUTION_END[kind]
            ended = when
            error, cause = _ldf_error(event.get(key) if key else None)
            continue
        identifier = event.get("Id")
        if not identifier or kind.startswith(("Invocation", "Execution")):
            continue
        operation = operations.setdefault(
            str(identifier),
            {
                "name": str(event.get("Name") or ""),
                "kind": str(event.get("SubType") or kind.removesuffix("Started")),
                "parent": names.get(str(event.get("ParentId"))) if event.get("ParentId") else None,
                "start": when,
                "end": None,
                "status": RUNNING,
                "error": None,
                "attempts": [],
            },
        )
        details = event.get(f"{kind}Details")
        if kind == "StepStarted":
            operation["attempts"].append({"start": when, "end": None, "status": RUNNING})
            continue
        suffix = next((s for s in _LDF_END_SUFFIXES if kind.endswith(s)), None)
        if suffix is None:
            continue
        outcome = _LDF_END_SUFFIXES[suffix]
        failure, message = _ldf_error(details)
        operation.update(end=when, status=outcome, error=failure)
        if kind.startswith("Step") and operation["attempts"]:
            retry = details.get("RetryDetails") if isinstance(details, Mapping) else None
            delay = retry.get("NextAttemptDelaySeconds") if isinstance(retry, Mapping) else None
            operation["attempts"][-1].update(
                end=when, status=outcome, error=failure, cause=message, delay=delay
            )
    traced = []
    for operation in operations.values():
        attempts = _attempts(operation["attempts"])
        end = operation["end"]
        # A step that failed and was retried is not over: only its last attempt decides.
        last_status = attempts[-1].status if attempts else operation["status"]
        traced.append(
            Operation(
                name=operation["name"],
                kind=operation["kind"],
                parent=operation["parent"],
                start=operation["start"],
                end=end if last_status != RUNNING else None,
                status=last_status,
                attempts=attempts,
                error=None if attempts else operation["error"],
            )
        )
    return ExecutionTrace(
        Pattern.DURABLE,
        execution_id,
        status,
        moment(events[0]["EventTimestamp"]),
        ended,
        tuple(sorted(traced, key=lambda op: op.start)),
        error,
        cause,
    )


# --- where each execution lives ---


def console_url(pattern: Pattern, execution_id: str, region: str) -> str:
    """The AWS console page of one execution.

    Step Functions has a page per execution. For a durable execution the link opens its
    function's page (the function name and version are part of the execution's ARN), whose
    durable executions list holds it: AWS documents no address for a single durable execution.
    """
    console = f"https://{region}.console.aws.amazon.com"
    if pattern is Pattern.STEP_FUNCTIONS:
        return (
            f"{console}/states/home?region={region}#/v2/executions/details/"
            f"{quote(execution_id, safe=':')}"
        )
    # arn:aws:lambda:REGION:ACCOUNT:function:NAME:VERSION/durable-execution/NAME/ID
    function = execution_id.split(":function:", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"{console}/lambda/home?region={region}#/functions/{quote(function)}"


# --- one upload, both executions ---


HistoryReader = Callable[[Pattern, str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Side:
    """One orchestrator's part of an upload.

    Attributes:
        pattern: which orchestrator.
        summary: the upload's stored record (status, error), None when it never started.
        trace: the execution read from its history; None when the history is gone.
        console: the execution's console page (AWS only).
    """

    pattern: Pattern
    summary: UploadSummary | None
    trace: ExecutionTrace | None
    console: str | None


@dataclass(frozen=True)
class Inspection:
    """Both executions of one upload."""

    upload_id: str
    sides: tuple[Side, ...]

    def side(self, pattern: Pattern) -> Side:
        """One orchestrator's side."""
        return next(side for side in self.sides if side.pattern is pattern)


def history_reader(sfn: Any, lambda_client: Any) -> HistoryReader:
    """Read histories from the orchestrators; one that is gone reads as empty.

    Histories expire (the durable service keeps them for days) and the local cloud forgets
    them when it stops, while the table remembers the executions.
    """

    def read(pattern: Pattern, execution_id: str) -> list[dict[str, Any]]:
        try:
            if pattern is Pattern.STEP_FUNCTIONS:
                return step_functions_history(sfn, execution_id)
            return durable_history(lambda_client, execution_id, include_data=True)
        except (ClientError, BotoCoreError):
            return []

    return read


def inspect_upload(
    repo: AlbumRepository,
    read: HistoryReader,
    upload_id: str,
    *,
    region: str | None = None,
) -> Inspection:
    """Both executions of one upload: stored records and histories.

    Args:
        repo: the table.
        read: reads one execution's history.
        upload_id: the upload.
        region: the AWS region for console links; None on the local cloud (no console).
    """
    sides = []
    for pattern in PATTERNS:
        summary = repo.get_summary(pattern, upload_id)
        execution_id = summary.execution_id if summary else None
        events = read(pattern, execution_id) if execution_id else []
        trace = None
        if events and execution_id:
            parse = step_functions_trace if pattern is Pattern.STEP_FUNCTIONS else durable_trace
            trace = parse(events, execution_id)
        link = console_url(pattern, execution_id, region) if execution_id and region else None
        sides.append(Side(pattern, summary, trace, link))
    return Inspection(upload_id, tuple(sides))


# --- one time axis ---


@dataclass(frozen=True)
class Bar:
    """One span on the shared time axis: an attempt, a retry delay, or a wait.

    Attributes:
        pattern: which orchestrator.
        row: the operation's label (its parent first, for operations inside a Map).
        order: sort key of the row, in the order operations started.
        start: seconds since the earlier execution's start.
        end: seconds likewise.
        kind: ``attempt``, ``failed attempt``, ``retry delay``, ``waiting`` (for a person)
            or ``operation``.
        detail: a short text for the tooltip (attempt number, error).
    """

    pattern: Pattern
    row: str
    order: int
    start: float
    end: float
    kind: str
    detail: str


def label(operation: Operation) -> str:
    """How an operation is named on screen: inside its parent, and its Map iteration."""
    name = operation.name
    if operation.iteration is not None:
        name = f"{name} #{operation.iteration}"
    return f"{operation.parent} / {name}" if operation.parent else name


def time_axis(inspection: Inspection) -> list[Bar]:
    """Attempts, retry delays and attempt-less operations of both executions on one axis.

    Operations without attempts (Map, Choice, a callback, a context) are drawn as a whole;
    a running span ends at the latest moment either history reached.
    """
    traces = [side.trace for side in inspection.sides if side.trace is not None]
    if not traces:
        return []
    origin = min(trace.started_at for trace in traces)
    horizon = max(
        (
            moment_
            for trace in traces
            for op in trace.operations
            for moment_ in (op.start, op.end, *(a.end for a in op.attempts))
            if moment_ is not None
        ),
        default=origin,
    )

    def seconds(when: datetime | None) -> float:
        return ((when or horizon) - origin).total_seconds()

    return [
        bar
        for trace in traces
        for order, operation in enumerate(trace.operations)
        for bar in _operation_bars(trace.pattern, order, operation, seconds)
    ]


def _operation_bars(
    pattern: Pattern, order: int, operation: Operation, seconds: Callable[[datetime | None], float]
) -> Iterator[Bar]:
    """One operation's bars, all on its row.

    The operation as a whole when it has no attempts; else each attempt, its wait for a
    callback and the delay before the next attempt.
    """

    def bar(start: float, end: float, kind: str, detail: str) -> Bar:
        return Bar(pattern, label(operation), order, start, end, kind, detail)

    if not operation.attempts:
        detail = operation.status + (f": {operation.error}" if operation.error else "")
        yield bar(seconds(operation.start), seconds(operation.end), "operation", detail)
    for attempt in operation.attempts:
        failed = attempt.status in (FAILED, TIMED_OUT)
        detail = f"attempt {attempt.number}: {attempt.status}"
        if attempt.error:
            detail += f" ({attempt.error})"
        # A task that waits for a callback ran only until it handed its token over;
        # the rest is the wait for a person, drawn as such.
        ran_until = attempt.waiting_from or attempt.end
        kind = "failed attempt" if failed else "attempt"
        yield bar(seconds(attempt.start), seconds(ran_until), kind, detail)
        if attempt.waiting_from is not None:
            waiting = f"waiting for a callback: {detail}"
            yield bar(seconds(attempt.waiting_from), seconds(attempt.end), "waiting", waiting)
        if attempt.retry_delay_seconds and attempt.end is not None:
            start = seconds(attempt.end)
            delay = f"{attempt.retry_delay_seconds:g} s before attempt {attempt.number + 1}"
            yield bar(start, start + attempt.retry_delay_seconds, "retry delay", delay)


# --- one table per execution ---


def _seconds(value: float | None) -> str:
    return "running" if value is None else f"{value:.3f} s"


def operation_rows(trace: ExecutionTrace) -> list[dict[str, str]]:
    """One row per operation, in start order, as the CLI and the dashboard print it.

    Columns: the operation, its kind, how it ended, its attempts, its duration, the delays
    before each retry, and every failed attempt's error and cause.
    """
    rows = []
    for operation in trace.operations:
        delays = [
            f"{attempt.retry_delay_seconds:g} s"
            for attempt in operation.attempts
            if attempt.retry_delay_seconds is not None
        ]
        errors = [
            f"#{attempt.number} {attempt.error}: {attempt.cause}"
            if attempt.cause
            else f"#{attempt.number} {attempt.error}"
            for attempt in operation.attempts
            if attempt.error
        ]
        if operation.error and not operation.attempts:
            errors.append(operation.error)
        rows.append(
            {
                "operation": label(operation),
                "kind": operation.kind,
                "status": operation.status,
                "attempts": str(len(operation.attempts)) if operation.attempts else "-",
                "duration": _seconds(operation.seconds),
                "retry delays": ", ".join(delays) or "-",
                "errors": "; ".join(errors) or "-",
            }
        )
    return rows


def outcome(side: Side) -> str:
    """One line on how one side ended: the execution's status, else the stored one."""
    if side.trace is not None:
        trace = side.trace
        if trace.error:
            reason = f"{trace.error}: {trace.cause}" if trace.cause else trace.error
            return f"{trace.status} ({reason})"
        return trace.status
    if side.summary is not None:
        return f"{side.summary.status.value} (history no longer available)"
    return "no execution for this upload"
