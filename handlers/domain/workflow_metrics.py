"""The METRICS item of one upload in one pattern: what its workflow measured, typed.

Two writers fill one item: the workflow's last step (``store_results``: the ``RESULT_KEYS``) and
the metrics collector once the execution has ended (everything else: timings from the history,
usage, cost, cold starts). The repository (``handlers.adapters.dynamodb``) reads and writes it;
the dashboard, the CLI, the bench and the report read its attributes. Bench documents hold the
same values as JSON (``model_dump(mode="json")``), read back with ``model_validate``. What each
key means is in ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AliasChoices, Field, PlainSerializer

from handlers.domain.cost import Component, CostBreakdown, LineItem
from handlers.domain.models import Record, ReviewState, WorkflowStatus
from handlers.domain.tenant import Pattern
from handlers.domain.usage import Timing, Usage

Amount = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
"""An exact quantity (USD, billed quantities): Decimal in code and in DynamoDB, a JSON number in
bench documents and ``--json`` output, as they were before the values were typed."""

RESULT_KEYS = frozenset(
    {
        "execution_id",
        "review_outcome",
        "albums_priced",
        "pricing_requests",
        "pricing_retries",
        "agent_input_tokens",
        "agent_output_tokens",
    }
)
"""What ``store_results`` writes in its transaction; the collector writes every other key."""

LEGACY_KEYS = frozenset({"prices_as_of"})
"""Stored names of earlier versions, still read (``rates_as_of`` was ``prices_as_of``)."""


class CostItem(Record):
    """One priced line of a workflow's cost, as stored under ``cost_items``."""

    component: Component
    quantity: Amount
    unit: str
    usd: Amount


class StoredUsage(Record):
    """``Usage`` without its pattern (the item's key says which): every billable quantity."""

    state_transitions: int = 0
    durable_operations: int = 0
    durable_bytes_written: int = 0
    durable_execution_days: Amount = Decimal(0)
    durable_retention_days: int = 0
    lambda_requests: int = 0
    lambda_gb_seconds: Amount = Decimal(0)
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

    @classmethod
    def of(cls, usage: Usage) -> StoredUsage:
        """What the collector stores of a workflow's usage."""
        values = asdict(usage)
        values.pop("pattern")
        return cls.model_validate(values)

    def usage(self, pattern: Pattern) -> Usage:
        """The cost model's ``Usage`` again, for the pattern whose item this is."""
        return Usage(pattern=pattern, **self.model_dump())


class WorkflowMetrics(Record):
    """One workflow's METRICS item: its results' counts and, once collected, its measurements.

    Every collected key is optional: a workflow that failed before its last step has no results,
    one not collected yet has only the results, and the cold starts may not be measured.
    Unknown stored keys are ignored rather than refused (``Record``): the item also holds its
    table keys, and a data folder or table written by another version of albumreg may hold keys
    this version does not know; a reader must still show what it knows.
    """

    execution_id: str | None = None
    review_outcome: ReviewState | None = None
    albums_priced: int | None = None
    pricing_requests: int = 0
    pricing_retries: int = 0
    agent_input_tokens: int = 0
    agent_output_tokens: int = 0

    collected_at: datetime | None = None
    execution_status: str | None = None
    workflow_status: WorkflowStatus | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    total_seconds: float | None = None
    active_seconds: float | None = None
    human_wait_seconds: float | None = None
    step_seconds: dict[str, float] = Field(default_factory=dict)
    price_phase_seconds: float | None = None
    slowest_agent_seconds: float | None = None
    parallel_efficiency: float | None = None
    billed_units: int | None = None
    billed_unit: str | None = None
    retries: dict[str, int] | None = None
    retry_billed_units: int | None = None
    retry_lambda_invocations: int | None = None
    backoff_seconds: float | None = None
    work_seconds: float | None = None
    overhead_seconds: float | None = None
    overhead_ratio: float | None = None
    invocation_timing: Timing | None = None
    lambda_invocations: int | None = None
    lambda_billed_ms: int | None = None
    vision_engine: str | None = None
    usage: StoredUsage | None = None
    cost: dict[str, Amount] = Field(default_factory=dict)
    cost_total_usd: Amount | None = None
    cost_orchestration_usd: Amount | None = None
    cost_shared_usd: Amount | None = None
    cost_items: dict[str, CostItem] = Field(default_factory=dict)
    rates_as_of: date | None = Field(
        default=None, validation_alias=AliasChoices("rates_as_of", *sorted(LEGACY_KEYS))
    )
    region: str | None = None
    cold_starts: int | None = None
    init_durations_s: list[float] = Field(default_factory=list)
    cold_start_source: str | None = None

    @property
    def collected(self) -> bool:
        """True once the collector has written its measurements."""
        return self.collected_at is not None

    @property
    def completed(self) -> bool:
        """True for a workflow that stored its results (not rejected, not failed)."""
        return self.workflow_status is WorkflowStatus.COMPLETED

    def breakdown(self, pattern: Pattern) -> CostBreakdown | None:
        """The cost breakdown stored in the item, or None before it was collected."""
        if self.rates_as_of is None:
            return None
        return CostBreakdown(
            pattern=pattern,
            items=tuple(
                LineItem(item.component, name, item.quantity, item.unit, item.usd)
                for name, item in self.cost_items.items()
            ),
            region=self.region or "",
            rates_as_of=self.rates_as_of,
        )


COLLECTED_KEYS = (frozenset(WorkflowMetrics.model_fields) - RESULT_KEYS) | LEGACY_KEYS
"""Stored keys the collector owns, under their current and earlier names."""


class MeasuredWorkflow(WorkflowMetrics):
    """One workflow's METRICS values with whose they are: a row of a bench document.

    Attributes:
        pattern: which orchestrator ran it.
        upload_id: the upload.
        scenario: the failure scenario it ran in (``albumreg bench --scenarios``), if any.
    """

    pattern: Pattern
    upload_id: str
    scenario: str | None = None

    @classmethod
    def of(
        cls, pattern: Pattern, upload_id: str, metrics: WorkflowMetrics, scenario: str | None = None
    ) -> MeasuredWorkflow:
        """Name a workflow's metrics."""
        return cls.model_validate(
            {**dict(metrics), "pattern": pattern, "upload_id": upload_id, "scenario": scenario}
        )

    def cost_breakdown(self) -> CostBreakdown | None:
        """The stored cost breakdown, for this workflow's pattern."""
        return self.breakdown(self.pattern)
