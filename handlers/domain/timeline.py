"""Per-step timings from each orchestrator's own execution history, never from wall clocks.

Step Functions' ``GetExecutionHistory`` and the durable ``GetDurableExecutionHistory`` are read
into one shape: top-level steps (the shared names), the six price agents, the human wait and
the billed units (state transitions, or durable operations). Pure: works on the plain event
dicts boto3 returns (datetimes) or on stored fixtures (ISO strings).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.domain.names import PRICE_ONE_ALBUM, Step
from handlers.domain.tenant import Pattern

_SF_END = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
_LDF_END = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionStopped": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
_TASK_ATTEMPT_EVENTS = frozenset({"LambdaFunctionScheduled", "TaskScheduled"})


def moment(value: Any) -> datetime:
    """A history timestamp: a datetime from boto3, or an ISO string from a stored fixture."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


@dataclass(frozen=True)
class Span:
    """One step's time: from start to end (None while it runs)."""

    name: str
    start: datetime
    end: datetime | None

    @property
    def seconds(self) -> float | None:
        """Duration, or None when unfinished."""
        return None if self.end is None else (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Timeline:
    """What one execution spent, step by step, as its orchestrator recorded it.

    Attributes:
        pattern: which orchestrator.
        status: RUNNING, SUCCEEDED, FAILED, ABORTED or TIMED_OUT.
        started_at: execution start.
        ended_at: execution end, None while running.
        steps: top-level steps in the order they started (shared step names).
        agents: the price agents (``price-album`` iterations or ``price-album-N`` steps).
        billed_units: state transitions (sf) or durable operations (ldf) so far.
    """

    pattern: Pattern
    status: str
    started_at: datetime
    ended_at: datetime | None
    steps: tuple[Span, ...]
    agents: tuple[Span, ...]
    billed_units: int

    @property
    def total_seconds(self) -> float | None:
        """Start to end."""
        return None if self.ended_at is None else (self.ended_at - self.started_at).total_seconds()

    def step(self, name: str) -> Span | None:
        """The last span of a step name, if it ran."""
        spans = [span for span in self.steps if span.name == name]
        return spans[-1] if spans else None

    @property
    def human_wait_seconds(self) -> float:
        """Time paused for the review: it costs nothing on either orchestrator."""
        review = self.step(Step.REVIEW)
        return (review.seconds or 0.0) if review else 0.0

    @property
    def active_seconds(self) -> float | None:
        """Total minus the human wait: what the comparison of latency is about."""
        total = self.total_seconds
        return None if total is None else max(0.0, total - self.human_wait_seconds)

    @property
    def parallel_efficiency(self) -> float | None:
        """Slowest agent over the price phase's wall time: 1.0 means perfectly parallel."""
        phase = self.step(Step.PRICE)
        agents = [span.seconds for span in self.agents if span.seconds is not None]
        if phase is None or not phase.seconds or not agents:
            return None
        return min(1.0, max(agents) / phase.seconds)

    def step_seconds(self) -> dict[str, float]:
        """Seconds per finished top-level step, by name (the last run of a name wins)."""
        return {span.name: span.seconds for span in self.steps if span.seconds is not None}


def step_functions_timeline(events: Sequence[Mapping[str, Any]]) -> Timeline:
    """Read a Step Functions execution history (``GetExecutionHistory`` events)."""
    by_id = {int(event["id"]): event for event in events}
    started = moment(events[0]["timestamp"])
    status, ended = "RUNNING", None
    steps: list[Span] = []
    agents: list[Span] = []
    open_steps: dict[str, datetime] = {}
    for event in events:
        kind = str(event["type"])
        if kind in _SF_END:
            status, ended = _SF_END[kind], moment(event["timestamp"])
        name = _sf_state_name(event)
        if name is None:
            continue
        if kind.endswith("StateEntered") and name != PRICE_ONE_ALBUM:
            open_steps[name] = moment(event["timestamp"])
        elif kind.endswith("StateExited") and name == PRICE_ONE_ALBUM:
            entered = _entered_before(event, by_id)
            if entered is not None:
                agents.append(Span(name, moment(entered["timestamp"]), moment(event["timestamp"])))
        elif kind.endswith("StateExited") and name in open_steps:
            steps.append(Span(name, open_steps.pop(name), moment(event["timestamp"])))
    steps += [Span(name, start, None) for name, start in open_steps.items()]
    steps.sort(key=lambda span: span.start)
    return Timeline(
        Pattern.STEP_FUNCTIONS,
        status,
        started,
        ended,
        tuple(steps),
        tuple(agents),
        state_transitions(events),
    )


def _sf_state_name(event: Mapping[str, Any]) -> str | None:
    for key in ("stateEnteredEventDetails", "stateExitedEventDetails"):
        details = event.get(key)
        if isinstance(details, Mapping) and "name" in details:
            return str(details["name"])
    return None


def _entered_before(
    exited: Mapping[str, Any], by_id: Mapping[int, Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """Follow ``previousEventId`` back to the state entry this exit closes.

    Map iterations interleave in the history, so names alone cannot pair them.
    """
    current = by_id.get(int(exited.get("previousEventId", 0)))
    while current is not None:
        if str(current["type"]).endswith("StateEntered"):
            return current
        current = by_id.get(int(current.get("previousEventId", 0)))
    return None


def state_transitions(events: Iterable[Mapping[str, Any]]) -> int:
    """Billed state transitions: one per state entered (Map iterations' too) and per retry.

    A retry enters no state again, so retries are counted as the task attempts beyond the first
    of each task state entered.
    """
    kinds = [str(event["type"]) for event in events]
    entered = sum(1 for kind in kinds if kind.endswith("StateEntered"))
    tasks_entered = kinds.count("TaskStateEntered")
    attempts = sum(1 for kind in kinds if kind in _TASK_ATTEMPT_EVENTS)
    return entered + max(0, attempts - tasks_entered)


def durable_timeline(events: Sequence[Mapping[str, Any]]) -> Timeline:
    """Read a durable execution history (``GetDurableExecutionHistory`` events)."""
    started = moment(events[0]["EventTimestamp"])
    status, ended = "RUNNING", None
    starts: dict[str, tuple[str, datetime, str | None]] = {}
    spans: dict[str, Span] = {}
    step_attempts = 0
    for event in events:
        kind = str(event["EventType"])
        when = moment(event["EventTimestamp"])
        if kind in _LDF_END:
            status, ended = _LDF_END[kind], when
            continue
        operation = event.get("Id")
        if not operation or kind.startswith(("Execution", "Invocation")):
            continue
        operation = str(operation)
        if kind.endswith("Started"):
            step_attempts += kind == "StepStarted"
            first = starts.get(operation)
            starts[operation] = (
                str(event.get("Name") or ""),
                first[1] if first else when,
                event.get("ParentId"),
            )
        elif kind.endswith(("Succeeded", "Failed", "TimedOut", "Cancelled", "Stopped")):
            name, start, _ = starts.get(operation, (str(event.get("Name") or ""), when, None))
            spans[operation] = Span(name, start, when)
    steps: list[Span] = []
    agents: list[Span] = []
    for operation, (name, start, parent) in starts.items():
        span = spans.get(operation, Span(name, start, None))
        if name.startswith(f"{PRICE_ONE_ALBUM}-"):
            agents.append(span)
        elif parent is None:
            steps.append(span)
    steps.sort(key=lambda span: span.start)
    distinct_steps = len({str(e["Id"]) for e in events if e["EventType"] == "StepStarted"})
    # Metering: the start, one per operation, and one per step retry.
    operations = 1 + len(starts) + (step_attempts - distinct_steps)
    return Timeline(
        Pattern.DURABLE, status, started, ended, tuple(steps), tuple(agents), operations
    )
