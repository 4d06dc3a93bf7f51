"""The Comparison page's data: timings, outcomes, summaries, one upload's timelines, costs.

Timings prefer the numbers an execution stored in its METRICS item and fall back to the
orchestrator's own history; costs are the stored ones (``handlers.domain.cost`` computed them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from statistics import median

from albumreg.dashboard.data.backend import Backend
from handlers.domain.models import WorkflowStatus
from handlers.domain.names import (
    RECORD_FAILURE,
    RECORD_REJECTION,
    RECORD_TIMEOUT,
    STEP_LABELS,
    Step,
)
from handlers.domain.records import UploadSummary
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.timeline import Timeline
from handlers.domain.workflow_metrics import WorkflowMetrics

SUPPORTING_STEPS: tuple[str, ...] = (RECORD_TIMEOUT, RECORD_REJECTION, RECORD_FAILURE)


@dataclass(frozen=True)
class ExecutionMetrics:
    """What one completed execution spent, from its stored metrics or its history.

    Attributes:
        source: ``stored`` (the METRICS item) or ``history`` (read from the orchestrator).
        cost: USD per component when the execution stored a cost breakdown, else None.
    """

    pattern: Pattern
    upload_id: str
    execution_id: str | None
    received_at: datetime
    source: str
    active_seconds: float
    human_wait_seconds: float
    step_seconds: dict[str, float]
    billed_units: int | None
    parallel_efficiency: float | None
    cost: dict[str, float] | None = None


def _floats(values: Mapping[str, Decimal]) -> dict[str, float]:
    return {name: float(value) for name, value in values.items()}


def stored_metrics(
    summary: UploadSummary, metrics: WorkflowMetrics | None
) -> ExecutionMetrics | None:
    """The timings an execution stored, or None when it stored none (not collected yet)."""
    if metrics is None or metrics.active_seconds is None:
        return None
    return ExecutionMetrics(
        pattern=summary.pattern,
        upload_id=summary.upload_id,
        execution_id=summary.execution_id,
        received_at=summary.received_at,
        source="stored",
        active_seconds=metrics.active_seconds,
        human_wait_seconds=metrics.human_wait_seconds or 0.0,
        step_seconds=dict(metrics.step_seconds),
        billed_units=metrics.billed_units,
        parallel_efficiency=metrics.parallel_efficiency,
        cost=_floats(metrics.cost) or None,
    )


def timeline_metrics(summary: UploadSummary, timeline: Timeline) -> ExecutionMetrics | None:
    """The same numbers read from a history; None while the execution has not ended."""
    active = timeline.active_seconds
    if active is None:
        return None
    return ExecutionMetrics(
        pattern=summary.pattern,
        upload_id=summary.upload_id,
        execution_id=summary.execution_id,
        received_at=summary.received_at,
        source="history",
        active_seconds=active,
        human_wait_seconds=timeline.human_wait_seconds,
        step_seconds=timeline.step_seconds(),
        billed_units=timeline.billed_units,
        parallel_efficiency=timeline.parallel_efficiency,
    )


def stored_metrics_of(
    backend: Backend, uploads: Sequence[UploadSummary]
) -> dict[tuple[Pattern, str], WorkflowMetrics]:
    """The METRICS items of the given uploads, in one BatchGetItem per hundred and pattern."""
    stored: dict[tuple[Pattern, str], WorkflowMetrics] = {}
    for pattern in PATTERNS:
        ids = [summary.upload_id for summary in uploads if summary.pattern is pattern]
        if ids:
            found = backend.deps.repo.get_metrics(pattern, ids)
            stored |= {(pattern, upload_id): item for upload_id, item in found.items()}
    return stored


def execution_metrics(
    backend: Backend, completed: Sequence[UploadSummary]
) -> list[ExecutionMetrics]:
    """Timings of the given completed uploads, in the order given.

    The stored metrics come in one BatchGetItem per hundred uploads and pattern; an
    execution that stored no timings is read from its orchestrator's history instead.
    """
    stored = stored_metrics_of(backend, completed)
    measured = []
    for summary in completed:
        metrics = stored.get((summary.pattern, summary.upload_id))
        found_metrics = stored_metrics(summary, metrics)
        if found_metrics is None and summary.execution_id:
            timeline = backend.timelines(summary.pattern, summary.execution_id)
            found_metrics = timeline_metrics(summary, timeline) if timeline else None
        if found_metrics is not None:
            measured.append(found_metrics)
    return measured


@dataclass(frozen=True)
class Outcomes:
    """How the newest finished uploads of one pattern ended (rejections are not counted)."""

    pattern: Pattern
    completed: int
    failed: int

    @property
    def success_rate(self) -> float | None:
        """Completed over completed plus failed; None before anything finished."""
        decided = self.completed + self.failed
        return self.completed / decided if decided else None


def recent_outcomes(
    completed: Sequence[UploadSummary], failed: Sequence[UploadSummary], window: int
) -> list[Outcomes]:
    """Per pattern, how the newest ``window`` of its completed or failed uploads ended.

    A reviewer's rejection is a decision, not a failure of the orchestrator: left out.
    """
    outcomes = []
    for pattern in PATTERNS:
        finished = [s for s in (*completed, *failed) if s.pattern is pattern]
        finished.sort(key=lambda summary: summary.updated_at, reverse=True)
        newest = finished[:window]
        done = sum(1 for summary in newest if summary.status is WorkflowStatus.COMPLETED)
        outcomes.append(Outcomes(pattern, done, len(newest) - done))
    return outcomes


@dataclass(frozen=True)
class PatternSummary:
    """Headline numbers of one pattern over the executions measured."""

    pattern: Pattern
    executions: int
    median_active_seconds: float | None
    median_billed_units: float | None
    median_parallel_efficiency: float | None


def _median(values: Sequence[float]) -> float | None:
    return median(values) if values else None


def summarize(measured: Sequence[ExecutionMetrics]) -> list[PatternSummary]:
    """Medians per pattern: robust to the odd slow cold start."""
    summaries = []
    for pattern in PATTERNS:
        mine = [m for m in measured if m.pattern is pattern]
        summaries.append(
            PatternSummary(
                pattern,
                len(mine),
                _median([m.active_seconds for m in mine]),
                _median([float(m.billed_units) for m in mine if m.billed_units is not None]),
                _median([m.parallel_efficiency for m in mine if m.parallel_efficiency is not None]),
            )
        )
    return summaries


def step_name_label(name: str) -> str:
    """The dashboard label of a step name (``Extract albums``), or the name itself."""
    try:
        return STEP_LABELS[Step(name)]
    except ValueError:
        return name


@dataclass(frozen=True)
class TimelineBar:
    """One span of the chosen upload's timeline, in seconds from the earlier start."""

    pattern: Pattern
    row: str
    order: int
    start: float
    end: float
    kind: str = "step"


@dataclass(frozen=True)
class UploadTimelines:
    """Both executions of one upload, as bars on a shared time axis."""

    upload_id: str
    bars: list[TimelineBar] = field(default_factory=list)
    missing: list[Pattern] = field(default_factory=list)


def upload_timelines(
    backend: Backend, upload_id: str, execution_ids: Mapping[Pattern, str]
) -> UploadTimelines:
    """Read both histories of one upload and lay their steps on one axis."""
    timelines: dict[Pattern, Timeline] = {}
    missing = []
    for pattern in PATTERNS:
        arn = execution_ids.get(pattern)
        timeline = backend.timelines(pattern, arn) if arn else None
        if timeline is None:
            missing.append(pattern)
        else:
            timelines[pattern] = timeline
    return UploadTimelines(upload_id, timeline_bars(timelines), missing)


def timeline_bars(timelines: Mapping[Pattern, Timeline]) -> list[TimelineBar]:
    """Steps and price agents of each timeline, from the earliest start of all of them.

    Unfinished spans end at the latest moment either history reached, so a running
    execution still shows where it is.
    """
    if not timelines:
        return []
    origin = min(timeline.started_at for timeline in timelines.values())
    moments = [
        moment
        for timeline in timelines.values()
        for span in (*timeline.steps, *timeline.agents)
        for moment in (span.start, span.end)
        if moment is not None
    ]
    horizon = max(moments, default=origin)
    # Rows in workflow order, each step leaving room for the agents under it; the supporting
    # steps (record-*) go last, and Step Functions' control states (Choice, Pass) are left out:
    # they do no work, and the durable workflow has nothing to match them.
    order = {step.value: index * 10 for index, step in enumerate(Step)}
    order |= {name: 100 + index for index, name in enumerate(SUPPORTING_STEPS)}
    bars = []
    for pattern, timeline in timelines.items():
        for span in timeline.steps:
            if span.name not in order:
                continue
            end = span.end or horizon
            bars.append(
                TimelineBar(
                    pattern,
                    step_name_label(span.name),
                    order[span.name],
                    (span.start - origin).total_seconds(),
                    (end - origin).total_seconds(),
                    "wait" if span.name == Step.REVIEW else "step",
                )
            )
        for index, span in enumerate(sorted(timeline.agents, key=lambda s: s.start), start=1):
            end = span.end or horizon
            bars.append(
                TimelineBar(
                    pattern,
                    f"Price agent {index}",
                    order[Step.PRICE] + index,
                    (span.start - origin).total_seconds(),
                    (end - origin).total_seconds(),
                    "agent",
                )
            )
    return bars


@dataclass(frozen=True)
class WorkflowCost:
    """What one finished workflow cost, as the collector stored it in its METRICS item.

    Attributes:
        status: how the workflow ended (completed, rejected or failed).
        components: USD per component of ``handlers.domain.cost.Component``.
        orchestration_usd: what depends on the orchestrator (the components not shared).
        shared_usd: what both pay alike (``handlers.domain.cost.SHARED_COMPONENTS``).
        total_usd: everything.
    """

    pattern: Pattern
    upload_id: str
    status: WorkflowStatus
    components: dict[str, float]
    orchestration_usd: float
    shared_usd: float
    total_usd: float


def workflow_costs(backend: Backend, finished: Sequence[UploadSummary]) -> list[WorkflowCost]:
    """The stored cost of each finished workflow given, in the order given.

    One BatchGetItem per hundred uploads and pattern; a workflow whose METRICS item holds no
    cost yet (the collector has not run) is left out, never estimated.
    """
    stored = stored_metrics_of(backend, finished)
    costs = []
    for summary in finished:
        metrics = stored.get((summary.pattern, summary.upload_id))
        if metrics is None or metrics.cost_total_usd is None:
            continue
        costs.append(
            WorkflowCost(
                pattern=summary.pattern,
                upload_id=summary.upload_id,
                status=summary.status,
                components=_floats(metrics.cost),
                orchestration_usd=float(metrics.cost_orchestration_usd or 0),
                shared_usd=float(metrics.cost_shared_usd or 0),
                total_usd=float(metrics.cost_total_usd),
            )
        )
    return costs
