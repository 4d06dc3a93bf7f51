"""Per-execution metrics, collected after an execution ends, from the orchestrator's own records.

Reads the execution history (``GetExecutionHistory`` / ``GetDurableExecutionHistory``) and the
upload's items, derives timings, usage and cost (``handlers.domain.timeline``, ``usage``,
``cost``) and the cold starts (``handlers.adapters.cold_starts``), writes them into the upload's
``METRICS`` item once, and publishes duration and cost metrics to the pattern's CloudWatch
namespace. The collector Lambda (``handlers.collector``) runs it when an execution ends, on AWS
and on the local cloud; ``albumreg metrics collect``, ``bench`` and ``report`` call it to catch up
or recompute. Clients are injected; nothing here imports the CLI, the dashboard or Pulumi.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from handlers.adapters.cold_starts import NOT_MEASURED, ColdStartReader, ColdStarts
from handlers.adapters.dynamodb import META, METRICS, REVIEW, DynamoDbAlbumRepository, unmarshal
from handlers.adapters.histories import durable_history, step_functions_history
from handlers.adapters.metrics import SERVICE, SERVICE_DIMENSION
from handlers.config import Settings
from handlers.domain.cost import (
    CostBreakdown,
    RateCard,
    rate_card,
    workflow_cost,
)
from handlers.domain.errors import TransientError
from handlers.domain.models import FINAL_STATUSES, WorkflowStatus
from handlers.domain.names import Step
from handlers.domain.policy import DURABLE_RETENTION_DAYS
from handlers.domain.ports import Clock
from handlers.domain.status_change import started_upload
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import Timeline, durable_timeline, step_functions_timeline
from handlers.domain.usage import (
    HistoryUsage,
    Usage,
    durable_usage,
    step_functions_usage,
    workflow_read_units,
    workflow_writes,
)
from handlers.domain.workflow_metrics import (
    COLLECTED_KEYS,
    CostItem,
    MeasuredWorkflow,
    StoredUsage,
    WorkflowMetrics,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_stepfunctions import SFNClient

STEP_DIMENSION = "Step"

DURATION_METRICS = {
    "TotalDuration": ("total_seconds", "Seconds"),
    "ActiveDuration": ("active_seconds", "Seconds"),
    "HumanWait": ("human_wait_seconds", "Seconds"),
    "ParallelEfficiency": ("parallel_efficiency", "None"),
    "OverheadRatio": ("overhead_ratio", "None"),
    "BilledUnits": ("billed_units", "Count"),
    "CostPerWorkflow": ("cost_total_usd", "None"),
    "ColdStarts": ("cold_starts", "Count"),
}
"""Metric name -> (``WorkflowMetrics`` attribute, CloudWatch unit): one series each per
namespace."""

WORKFLOW_METRICS = (
    "WorkflowsCompleted",
    "AlbumsPriced",
    "AlbumsUnpriced",
    "ReviewTimedOut",
    "WorkflowsFailed",
)
"""What the workflow itself emits (``handlers.domain.workflow``), for the custom metric count."""

CUSTOM_METRICS_PER_PATTERN = len(DURATION_METRICS) + len(Step) + len(WORKFLOW_METRICS)
"""Distinct CloudWatch metrics per namespace, each billed per month: the durations above, a
``StepDuration`` per business step, and the workflow's counts."""

_USD = Decimal("1e-12")
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class CollectedMetrics:
    """What one collection found for one workflow.

    Attributes:
        pattern: which orchestrator.
        upload_id: the upload.
        metrics: the METRICS item as stored (``store_results``'s keys and the collector's).
        written: True when this call wrote them (and published the CloudWatch metrics).
    """

    pattern: Pattern
    upload_id: str
    metrics: WorkflowMetrics
    written: bool

    @property
    def cost(self) -> CostBreakdown | None:
        """The stored cost breakdown."""
        return self.metrics.breakdown(self.pattern)

    @property
    def workflow(self) -> MeasuredWorkflow:
        """The metrics named by pattern and upload: a bench document's row."""
        return MeasuredWorkflow.of(self.pattern, self.upload_id, self.metrics)


def derive(
    pattern: Pattern,
    events: list[dict[str, Any]],
    items: Mapping[str, Mapping[str, Any]],
    settings: Settings,
    rates: RateCard,
) -> WorkflowMetrics:
    """Every collected value of one finished workflow, from its history and raw items.

    Pure: tests call it on recorded histories. The results ``store_results`` wrote are not
    repeated: the repository keeps them when it records these values.

    Args:
        pattern: which orchestrator.
        events: the execution history (durable: read with execution data).
        items: the upload's items by sort key, in attribute-value form.
        settings: Lambda memory and architecture, and the price agent's mode and model.
        rates: the AWS rate card to apply.
    """
    timeline: Timeline
    history: HistoryUsage
    if pattern is Pattern.STEP_FUNCTIONS:
        timeline, history = step_functions_timeline(events), step_functions_usage(events)
    else:
        timeline, history = durable_timeline(events), durable_usage(events)
    meta = unmarshal(items[META])
    results = WorkflowMetrics.model_validate(unmarshal(items.get(METRICS, {})))
    review = unmarshal(items[REVIEW]) if REVIEW in items else None
    review_state = str(review["state"]) if review else None
    status = str(meta.get("status", ""))
    sized = dict(items)
    if METRICS in sized:
        sized[METRICS] = {k: v for k, v in items[METRICS].items() if k not in COLLECTED_KEYS}
    engine = str(meta.get("engine", ""))
    usage = Usage(
        pattern=pattern,
        state_transitions=history.billed_units if pattern is Pattern.STEP_FUNCTIONS else 0,
        durable_operations=history.billed_units if pattern is Pattern.DURABLE else 0,
        durable_bytes_written=history.checkpoint_bytes,
        durable_retention_days=DURABLE_RETENTION_DAYS if pattern is Pattern.DURABLE else 0,
        durable_execution_days=(
            Decimal(str(timeline.total_seconds or 0)) / SECONDS_PER_DAY
            if pattern is Pattern.DURABLE
            else Decimal(0)
        ),
        lambda_requests=history.lambda_requests,
        lambda_gb_seconds=history.gb_seconds(settings.lambda_memory_mb),
        lambda_architecture=settings.lambda_architecture,
        dynamodb_write_units=sum(w.units for w in workflow_writes(sized, status, review_state)),
        dynamodb_read_units=workflow_read_units(items, review_state),
        s3_put_requests=1,
        s3_get_requests=history.extract_attempts,
        eventbridge_events=1,
        cloudwatch_requests=1,
        vision_model=engine.removeprefix("bedrock:") if engine.startswith("bedrock:") else None,
        vision_input_tokens=int(meta.get("vision_input_tokens", 0) or 0),
        vision_output_tokens=int(meta.get("vision_output_tokens", 0) or 0),
        agent_model=settings.pricing_model_id if settings.pricing_agent == "bedrock" else None,
        agent_input_tokens=results.agent_input_tokens,
        agent_output_tokens=results.agent_output_tokens,
    )
    cost = workflow_cost(usage, rates)
    active = timeline.active_seconds
    price_phase = timeline.step(Step.PRICE)
    agents = [span.seconds for span in timeline.agents if span.seconds is not None]
    retries = history.retries
    return WorkflowMetrics(
        execution_status=timeline.status,
        workflow_status=WorkflowStatus(status) if status else None,
        started_at=timeline.started_at,
        ended_at=timeline.ended_at,
        total_seconds=timeline.total_seconds,
        active_seconds=active,
        human_wait_seconds=timeline.human_wait_seconds,
        step_seconds=timeline.step_seconds(),
        price_phase_seconds=price_phase.seconds if price_phase else None,
        slowest_agent_seconds=max(agents) if agents else None,
        parallel_efficiency=timeline.parallel_efficiency,
        # The history's count: the timeline's plus durable invocations the service retried.
        billed_units=history.billed_units,
        billed_unit=pattern.billed_unit,
        retries=dict(retries.steps),
        retry_billed_units=retries.billed_units,
        retry_lambda_invocations=retries.lambda_invocations,
        backoff_seconds=round(retries.backoff_seconds, 3),
        work_seconds=history.work_seconds,
        overhead_seconds=None if active is None else max(0.0, active - history.work_seconds),
        overhead_ratio=max(0.0, (active - history.work_seconds) / active) if active else None,
        invocation_timing=history.timing,
        lambda_invocations=history.lambda_requests,
        lambda_billed_ms=history.billed_ms,
        vision_engine=engine or None,
        usage=StoredUsage.of(usage),
        cost={name: usd.quantize(_USD) for name, usd in cost.by_component().items()},
        cost_total_usd=cost.total.quantize(_USD),
        cost_orchestration_usd=cost.orchestration_dependent.quantize(_USD),
        cost_shared_usd=cost.shared.quantize(_USD),
        cost_items={
            item.name: CostItem(
                component=item.component,
                quantity=item.quantity,
                unit=item.unit,
                usd=item.usd.quantize(_USD),
            )
            for item in cost.items
        },
        rates_as_of=rates.as_of,
        region=rates.region,
    )


def deployed_settings(lambda_client: LambdaClient, function: str, fallback: Settings) -> Settings:
    """What a deployed function runs with: its environment, memory size and architecture.

    The cost model multiplies billed duration by the memory Lambda reports, not by a default.
    """
    config = lambda_client.get_function_configuration(FunctionName=function)
    variables = dict(config.get("Environment", {}).get("Variables", {}))
    settings = Settings.from_env(variables) if variables.get("TABLE_NAME") else fallback
    architectures = config.get("Architectures") or [settings.lambda_architecture]
    return replace(
        settings,
        lambda_memory_mb=int(config.get("MemorySize", settings.lambda_memory_mb)),
        lambda_architecture="x86_64" if architectures[0] == "x86_64" else "arm64",
        metrics_mode="off",
    )


class MetricsCollector:
    """Collects, stores and publishes the metrics of finished workflows.

    Args:
        dynamodb: client of the table.
        table_name: the single table.
        sfn: Step Functions client (histories).
        lambda_client: Lambda client (durable histories).
        settings: Lambda sizing and the price agent's mode, as deployed.
        clock: stamps ``collected_at``.
        cloudwatch: where metrics are published; None publishes nothing.
        region: whose AWS rates apply.
        cold_starts: reads the workflow's cold starts from its functions' logs; None stores
            "not measured".
    """

    def __init__(
        self,
        *,
        dynamodb: DynamoDBClient,
        table_name: str,
        sfn: SFNClient,
        lambda_client: LambdaClient,
        settings: Settings,
        clock: Clock,
        cloudwatch: CloudWatchClient | None = None,
        region: str = "us-east-1",
        cold_starts: ColdStartReader | None = None,
    ) -> None:
        self._repo = DynamoDbAlbumRepository(dynamodb, table_name)
        self._sfn = sfn
        self._lambda = lambda_client
        self._settings = settings
        self._clock = clock
        self._cloudwatch = cloudwatch
        self._rates = rate_card(region)
        self._cold_starts = cold_starts

    @classmethod
    def from_clients(
        cls,
        client: Callable[[str], Any],
        settings: Settings,
        clock: Clock,
        *,
        region: str = "us-east-1",
        publish: bool = True,
        cold_starts: ColdStartReader | None = None,
    ) -> MetricsCollector:
        """Build from a client factory, e.g. ``Dependencies.client``."""
        return cls(
            dynamodb=client("dynamodb"),
            table_name=settings.table_name,
            sfn=client("stepfunctions"),
            lambda_client=client("lambda"),
            settings=settings,
            clock=clock,
            cloudwatch=client("cloudwatch") if publish else None,
            region=region,
            cold_starts=cold_starts,
        )

    def collect(
        self, pattern: Pattern, upload_id: str, *, force: bool = False
    ) -> CollectedMetrics | None:
        """Collect one workflow's metrics once it has ended.

        Returns:
            The metrics, or None while the workflow or its execution still runs (or the upload
            is unknown). Already collected metrics are returned as stored unless ``force``.
        """
        items = self._repo.raw_items(pattern, upload_id)
        stored = _stored(items)
        if stored is not None and stored.collected and not force:
            return CollectedMetrics(pattern, upload_id, stored, False)
        meta = unmarshal(items[META]) if META in items else {}
        execution_arn = meta.get("execution_id")
        events = self._history(pattern, str(execution_arn)) if execution_arn else []
        return self._collect(pattern, upload_id, items, events, force=force)

    def collect_execution(
        self, pattern: Pattern, execution_arn: str, *, force: bool = False
    ) -> CollectedMetrics | None:
        """Collect the workflow one ended execution ran: what a status-change event names.

        The upload comes from the input the history starts with, so one history read serves
        both. An execution that does not own its upload (a duplicate delivery, which found the
        upload claimed and ended) has nothing to measure.

        Returns:
            The metrics, or None when the execution is not the one its upload records. Already
            collected metrics are returned as stored unless ``force``.

        Raises:
            TransientError: the history has no end yet (the event can outrun it): try again.
        """
        events = self._history(pattern, execution_arn)
        upload_id = started_upload(pattern, events)
        if upload_id is None:
            return None
        items = self._repo.raw_items(pattern, upload_id)
        meta = unmarshal(items[META]) if META in items else {}
        if meta.get("execution_id") != execution_arn:
            return None
        stored = _stored(items)
        if stored is not None and stored.collected and not force:
            return CollectedMetrics(pattern, upload_id, stored, False)
        collected = self._collect(pattern, upload_id, items, events, force=force)
        if collected is None:
            raise TransientError(f"the history of {execution_arn} does not show its end yet")
        return collected

    def _collect(
        self,
        pattern: Pattern,
        upload_id: str,
        items: dict[str, dict[str, Any]],
        events: list[dict[str, Any]],
        *,
        force: bool,
    ) -> CollectedMetrics | None:
        """Derive, write once and publish; None while the history has no end."""
        derived = derive(pattern, events, items, self._settings, self._rates) if events else None
        if derived is None or derived.started_at is None or derived.ended_at is None:
            return None
        cold = self._read_cold_starts(pattern, upload_id, derived.started_at, derived.ended_at)
        values = derived.model_copy(update={**cold.values(), "collected_at": self._clock.now()})
        stored = self._repo.record_metrics(pattern, upload_id, values, force=force)
        if stored is None:
            # Another collector wrote first: its values are the ones stored and published.
            return self.collect(pattern, upload_id)
        if self._cloudwatch is not None:
            self._publish(pattern, values)
        return CollectedMetrics(pattern, upload_id, stored, True)

    def collect_recent(
        self, pattern: Pattern, limit: int = 50, *, force: bool = False
    ) -> list[CollectedMetrics]:
        """Collect the newest finished workflows of a pattern (a Query per final status)."""
        found: list[CollectedMetrics] = []
        for status in sorted(FINAL_STATUSES):
            for summary in self._repo.list_uploads(pattern, status, limit):
                collected = self.collect(pattern, summary.upload_id, force=force)
                if collected is not None:
                    found.append(collected)
        return found

    def _read_cold_starts(
        self, pattern: Pattern, upload_id: str, started: datetime, ended: datetime
    ) -> ColdStarts:
        if self._cold_starts is None:
            return ColdStarts(None, [], NOT_MEASURED)
        return self._cold_starts.read(pattern, upload_id, started, ended)

    def _history(self, pattern: Pattern, execution_arn: str) -> list[dict[str, Any]]:
        if pattern is Pattern.STEP_FUNCTIONS:
            return step_functions_history(self._sfn, execution_arn)
        return durable_history(self._lambda, execution_arn, include_data=True)

    def _publish(self, pattern: Pattern, values: WorkflowMetrics) -> None:
        """One ``PutMetricData`` per workflow, stamped with the execution's end."""
        if self._cloudwatch is None or values.ended_at is None:
            return
        when = values.ended_at
        service: DimensionTypeDef = {"Name": SERVICE_DIMENSION, "Value": SERVICE}
        data: list[MetricDatumTypeDef] = [
            {
                "MetricName": name,
                "Dimensions": [service],
                "Timestamp": when,
                "Value": float(value),
                "Unit": unit,  # type: ignore[typeddict-item]
            }
            for name, (attribute, unit) in DURATION_METRICS.items()
            if (value := getattr(values, attribute)) is not None
        ]
        steps = values.step_seconds
        data += [
            {
                "MetricName": "StepDuration",
                "Dimensions": [service, {"Name": STEP_DIMENSION, "Value": step.value}],
                "Timestamp": when,
                "Value": float(steps[step.value]),
                "Unit": "Seconds",
            }
            for step in Step
            if step.value in steps
        ]
        self._cloudwatch.put_metric_data(Namespace=pattern.metric_namespace, MetricData=data)


def _stored(items: Mapping[str, Mapping[str, Any]]) -> WorkflowMetrics | None:
    """The METRICS item among an upload's raw items, or None when it has none yet."""
    return WorkflowMetrics.model_validate(unmarshal(items[METRICS])) if METRICS in items else None
