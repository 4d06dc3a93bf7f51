"""The cost model: a dated price table, each figure with its source, applied to usage.

Pure and in ``Decimal``: ``workflow_cost`` prices one workflow's ``Usage`` line by line, grouped
into components (orchestration and compute depend on the orchestrator; vision, storage and other
are shared by both); ``monthly_projection`` scales that to a volume and adds the fixed monthly
costs. Imports no boto3, no orchestrator SDK, no Pulumi.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from handlers.domain.tenant import Pattern
from handlers.domain.usage import GB, Usage

HOURS_PER_MONTH = Decimal(730)
"""AWS prices "per month" on 730 hours; retention in days is converted with it."""


class PriceTableError(ValueError):
    """No cited price for a region or a model: the message says which and what is covered."""


class Component(StrEnum):
    """Where a line item belongs in the breakdown."""

    ORCHESTRATION = "orchestration"
    COMPUTE = "compute"
    VISION = "vision"
    STORAGE = "storage"
    OTHER = "other"


SHARED_COMPONENTS = frozenset({Component.VISION, Component.STORAGE, Component.OTHER})
"""The same for both orchestrators by construction: shown apart from orchestration cost."""


@dataclass(frozen=True)
class Price:
    """One list price: ``usd`` for every ``per`` units, and where the figure comes from."""

    usd: Decimal
    per: int
    unit: str
    source: str

    def of(self, quantity: Decimal | int) -> Decimal:
        """The cost of ``quantity`` units."""
        return Decimal(quantity) * self.usd / self.per


_AWS_SF = "https://aws.amazon.com/step-functions/pricing/ (FACTS.md: AWS pricing page)"
_AWS_LAMBDA = "https://aws.amazon.com/lambda/pricing/ (FACTS.md)"
_AWS_LAMBDA_SECONDARY = "https://aws.amazon.com/lambda/pricing/ (FACTS.md: secondary, verify)"
_AWS_DDB = "https://aws.amazon.com/dynamodb/pricing/on-demand/ (FACTS.md: secondary)"
_AWS_S3 = "https://aws.amazon.com/s3/pricing/ (FACTS.md: secondary)"
_AWS_EB = (
    "https://aws.amazon.com/eventbridge/pricing/ (FACTS.md: AWS pricing page; S3 events are "
    "'AWS opt-in data events', billed per 64 KB chunk ingested, unlike free management events)"
)
_AWS_CW = "https://aws.amazon.com/cloudwatch/pricing/ (FACTS.md: secondary)"
_AWS_CW_DOC = "https://aws.amazon.com/cloudwatch/pricing/ (pricing page, not in FACTS.md: verify)"
_AWS_SM = "https://aws.amazon.com/secrets-manager/pricing/ (pricing page, not in FACTS.md: verify)"
_AWS_BEDROCK = "https://aws.amazon.com/bedrock/pricing/ (FACTS.md: secondary)"


@dataclass(frozen=True)
class PriceTable:
    """Every price the model uses, for one region, as of one date."""

    region: str
    as_of: date
    state_transition: Price
    lambda_request: Price
    lambda_gb_second: Mapping[str, Price]
    durable_operation: Price
    durable_gb_written: Price
    durable_gb_month_retained: Price
    dynamodb_write_unit: Price
    dynamodb_read_unit: Price
    s3_put: Price
    s3_get: Price
    eventbridge_event: Price
    cloudwatch_request: Price
    cloudwatch_metric_month: Price
    cloudwatch_dashboard_month: Price
    cloudwatch_alarm_month: Price
    secret_month: Price
    bedrock: Mapping[str, tuple[Price, Price]] = field(default_factory=dict)
    """Input and output token prices by a fragment of the model id."""

    def duration(self, architecture: str) -> Price:
        """Lambda duration price for an architecture."""
        try:
            return self.lambda_gb_second[architecture]
        except KeyError as exc:
            raise PriceTableError(
                f"no Lambda duration price for architecture {architecture!r}; "
                f"known: {', '.join(self.lambda_gb_second)}"
            ) from exc

    def tokens(self, model_id: str) -> tuple[Price, Price]:
        """Input and output token prices of a Bedrock model or inference profile id."""
        for fragment, prices in self.bedrock.items():
            if fragment in model_id:
                return prices
        raise PriceTableError(
            f"no cited token price for model {model_id!r} in {self.region}; "
            f"priced models: {', '.join(self.bedrock)}"
        )

    def sources(self) -> list[tuple[str, Price]]:
        """Every priced item with its figure and source, for the report."""
        named: list[tuple[str, Price]] = [
            ("Step Functions Standard state transition", self.state_transition),
            ("Lambda request", self.lambda_request),
            *((f"Lambda duration ({arch})", p) for arch, p in self.lambda_gb_second.items()),
            ("Lambda durable operation", self.durable_operation),
            ("Lambda durable data written", self.durable_gb_written),
            ("Lambda durable data retained", self.durable_gb_month_retained),
            ("DynamoDB on-demand write unit", self.dynamodb_write_unit),
            ("DynamoDB on-demand read unit", self.dynamodb_read_unit),
            ("S3 PUT request", self.s3_put),
            ("S3 GET request", self.s3_get),
            ("EventBridge event (S3 data event)", self.eventbridge_event),
            ("CloudWatch API request", self.cloudwatch_request),
            ("CloudWatch custom metric", self.cloudwatch_metric_month),
            ("CloudWatch dashboard", self.cloudwatch_dashboard_month),
            ("CloudWatch standard alarm", self.cloudwatch_alarm_month),
            ("Secrets Manager secret", self.secret_month),
        ]
        for fragment, (tokens_in, tokens_out) in self.bedrock.items():
            named += [(f"Bedrock {fragment} input", tokens_in)]
            named += [(f"Bedrock {fragment} output", tokens_out)]
        return named


US_EAST_1 = PriceTable(
    region="us-east-1",
    as_of=date(2026, 11, 27),
    state_transition=Price(Decimal("0.025"), 1_000, "transitions", _AWS_SF),
    lambda_request=Price(Decimal("0.20"), 1_000_000, "requests", _AWS_LAMBDA),
    lambda_gb_second={
        "x86_64": Price(Decimal("0.0000166667"), 1, "GB-seconds", _AWS_LAMBDA_SECONDARY),
        "arm64": Price(Decimal("0.0000133334"), 1, "GB-seconds", _AWS_LAMBDA_SECONDARY),
    },
    durable_operation=Price(Decimal("8.00"), 1_000_000, "operations", _AWS_LAMBDA_SECONDARY),
    durable_gb_written=Price(Decimal("0.25"), 1, "GB written", _AWS_LAMBDA_SECONDARY),
    durable_gb_month_retained=Price(Decimal("0.15"), 1, "GB-months", _AWS_LAMBDA_SECONDARY),
    dynamodb_write_unit=Price(Decimal("0.625"), 1_000_000, "write units", _AWS_DDB),
    dynamodb_read_unit=Price(Decimal("0.125"), 1_000_000, "read units", _AWS_DDB),
    s3_put=Price(Decimal("0.005"), 1_000, "PUT requests", _AWS_S3),
    s3_get=Price(Decimal("0.0004"), 1_000, "GET requests", _AWS_S3),
    eventbridge_event=Price(Decimal("1.00"), 1_000_000, "events", _AWS_EB),
    cloudwatch_request=Price(Decimal("0.01"), 1_000, "API requests", _AWS_CW),
    cloudwatch_metric_month=Price(Decimal("0.30"), 1, "metric-months", _AWS_CW),
    cloudwatch_dashboard_month=Price(Decimal("3.00"), 1, "dashboard-months", _AWS_CW_DOC),
    cloudwatch_alarm_month=Price(Decimal("0.10"), 1, "alarm-months", _AWS_CW_DOC),
    secret_month=Price(Decimal("0.40"), 1, "secret-months", _AWS_SM),
    bedrock={
        "amazon.nova-lite": (
            Price(Decimal("0.06"), 1_000_000, "input tokens", _AWS_BEDROCK),
            Price(Decimal("0.24"), 1_000_000, "output tokens", _AWS_BEDROCK),
        ),
        "anthropic.claude-haiku-4-5": (
            Price(Decimal("1.00"), 1_000_000, "input tokens", _AWS_BEDROCK),
            Price(Decimal("5.00"), 1_000_000, "output tokens", _AWS_BEDROCK),
        ),
    },
)

PRICE_TABLES: dict[str, PriceTable] = {US_EAST_1.region: US_EAST_1}


def price_table(region: str) -> PriceTable:
    """The price table of a region.

    Raises:
        PriceTableError: no cited figures for that region (prices differ between regions).
    """
    try:
        return PRICE_TABLES[region]
    except KeyError as exc:
        raise PriceTableError(
            f"no cited prices for region {region!r}: the cost model covers "
            f"{', '.join(PRICE_TABLES)} only; add a dated table with sources to "
            "handlers/domain/cost.py"
        ) from exc


@dataclass(frozen=True)
class LineItem:
    """One priced quantity."""

    component: Component
    name: str
    quantity: Decimal
    unit: str
    usd: Decimal

    @property
    def shared(self) -> bool:
        """True when both orchestrators pay it alike."""
        return self.component in SHARED_COMPONENTS


@dataclass(frozen=True)
class CostBreakdown:
    """The priced usage of one workflow (or the mean of several)."""

    pattern: Pattern
    items: tuple[LineItem, ...]
    region: str
    prices_as_of: date

    @property
    def total(self) -> Decimal:
        """Everything."""
        return sum((item.usd for item in self.items), Decimal(0))

    @property
    def orchestration_dependent(self) -> Decimal:
        """What differs between the orchestrators: orchestration plus compute."""
        return sum((item.usd for item in self.items if not item.shared), Decimal(0))

    @property
    def shared(self) -> Decimal:
        """What both orchestrators pay alike: vision, storage, other."""
        return sum((item.usd for item in self.items if item.shared), Decimal(0))

    def by_component(self) -> dict[str, Decimal]:
        """USD per component, every component present (zero when unused)."""
        totals = {component.value: Decimal(0) for component in Component}
        for item in self.items:
            totals[item.component.value] += item.usd
        return totals

    def by_item(self) -> dict[str, Decimal]:
        """USD per line item name."""
        return {item.name: item.usd for item in self.items}


def workflow_cost(usage: Usage, prices: PriceTable) -> CostBreakdown:
    """Price one workflow's usage, line by line.

    Raises:
        PriceTableError: a model or architecture without a cited price.
    """
    items: list[LineItem] = []

    def add(component: Component, name: str, quantity: Decimal | int, price: Price) -> None:
        if quantity:
            items.append(
                LineItem(component, name, Decimal(quantity), price.unit, price.of(quantity))
            )

    orchestration = Component.ORCHESTRATION
    add(orchestration, "state transitions", usage.state_transitions, prices.state_transition)
    add(orchestration, "durable operations", usage.durable_operations, prices.durable_operation)
    written_gb = Decimal(usage.durable_bytes_written) / GB
    add(orchestration, "durable data written", written_gb, prices.durable_gb_written)
    retained = written_gb * usage.durable_retention_days * 24 / HOURS_PER_MONTH
    add(orchestration, "durable data retained", retained, prices.durable_gb_month_retained)
    add(Component.COMPUTE, "Lambda requests", usage.lambda_requests, prices.lambda_request)
    add(
        Component.COMPUTE,
        "Lambda duration",
        usage.lambda_gb_seconds,
        prices.duration(usage.lambda_architecture),
    )
    if usage.vision_model is not None:
        tokens_in, tokens_out = prices.tokens(usage.vision_model)
        add(Component.VISION, "vision input tokens", usage.vision_input_tokens, tokens_in)
        add(Component.VISION, "vision output tokens", usage.vision_output_tokens, tokens_out)
    add(
        Component.STORAGE, "DynamoDB writes", usage.dynamodb_write_units, prices.dynamodb_write_unit
    )
    add(Component.STORAGE, "DynamoDB reads", usage.dynamodb_read_units, prices.dynamodb_read_unit)
    add(Component.STORAGE, "S3 PUT", usage.s3_put_requests, prices.s3_put)
    add(Component.STORAGE, "S3 GET", usage.s3_get_requests, prices.s3_get)
    add(Component.OTHER, "EventBridge events", usage.eventbridge_events, prices.eventbridge_event)
    add(Component.OTHER, "CloudWatch API", usage.cloudwatch_requests, prices.cloudwatch_request)
    if usage.agent_model is not None:
        tokens_in, tokens_out = prices.tokens(usage.agent_model)
        add(Component.OTHER, "agent input tokens", usage.agent_input_tokens, tokens_in)
        add(Component.OTHER, "agent output tokens", usage.agent_output_tokens, tokens_out)
    return CostBreakdown(usage.pattern, tuple(items), prices.region, prices.as_of)


def mean_cost(breakdowns: Sequence[CostBreakdown]) -> CostBreakdown:
    """The average workflow of several runs of one pattern: each line item's mean.

    Raises:
        ValueError: no breakdowns, or breakdowns of different patterns or price tables.
    """
    if not breakdowns:
        raise ValueError("no cost breakdowns to average")
    first = breakdowns[0]
    if any(
        (b.pattern, b.region, b.prices_as_of) != (first.pattern, first.region, first.prices_as_of)
        for b in breakdowns
    ):
        raise ValueError("cannot average breakdowns of different patterns or price tables")
    count = Decimal(len(breakdowns))
    merged: dict[tuple[Component, str, str], tuple[Decimal, Decimal]] = {}
    for breakdown in breakdowns:
        for item in breakdown.items:
            key = (item.component, item.name, item.unit)
            quantity, usd = merged.get(key, (Decimal(0), Decimal(0)))
            merged[key] = (quantity + item.quantity, usd + item.usd)
    items = tuple(
        LineItem(component, name, quantity / count, unit, usd / count)
        for (component, name, unit), (quantity, usd) in merged.items()
    )
    return CostBreakdown(first.pattern, items, first.region, first.prices_as_of)


@dataclass(frozen=True)
class FixedResources:
    """Resources billed per month whatever the volume."""

    custom_metrics: int = 0
    alarms: int = 0
    dashboards: int = 0
    secrets: int = 0

    def monthly(self, prices: PriceTable) -> Decimal:
        """Their cost per month."""
        return (
            prices.cloudwatch_metric_month.of(self.custom_metrics)
            + prices.cloudwatch_alarm_month.of(self.alarms)
            + prices.cloudwatch_dashboard_month.of(self.dashboards)
            + prices.secret_month.of(self.secrets)
        )


SHARED_FIXED = FixedResources(dashboards=1, secrets=1)
"""What the stack deploys once for both patterns: the dashboard and the pricing token secret."""

ALARMS: dict[Pattern, int] = {Pattern.STEP_FUNCTIONS: 2, Pattern.DURABLE: 1}
"""Alarms the stack creates per pattern (stack/observability.py): failed workflows for both,
plus failed executions of the state machine."""


@dataclass(frozen=True)
class MonthlyProjection:
    """One pattern at one monthly volume.

    Attributes:
        pattern: which orchestrator.
        workflows: workflows per month.
        variable_usd: the per-workflow cost times the volume.
        fixed_usd: this pattern's own fixed costs (its custom metrics and alarms).
        shared_fixed_usd: fixed costs both patterns share (dashboard, secret), shown apart.
    """

    pattern: Pattern
    workflows: int
    variable_usd: Decimal
    fixed_usd: Decimal
    shared_fixed_usd: Decimal

    @property
    def total_usd(self) -> Decimal:
        """Variable plus the pattern's own fixed costs (shared fixed costs are apart)."""
        return self.variable_usd + self.fixed_usd

    @property
    def per_workflow_usd(self) -> Decimal:
        """The pattern's monthly total over its workflows: fixed costs dominate at low volume."""
        return self.total_usd / self.workflows if self.workflows else Decimal(0)


def monthly_projection(
    per_workflow: CostBreakdown,
    workflows: int,
    own: FixedResources,
    prices: PriceTable,
    shared: FixedResources = SHARED_FIXED,
) -> MonthlyProjection:
    """Scale one workflow's cost to a monthly volume and add the fixed monthly costs.

    List prices without free tiers: the AWS free tier would make small volumes cheaper.
    """
    if workflows < 0:
        raise ValueError(f"workflows per month must not be negative, got {workflows}")
    return MonthlyProjection(
        pattern=per_workflow.pattern,
        workflows=workflows,
        variable_usd=per_workflow.total * workflows,
        fixed_usd=own.monthly(prices),
        shared_fixed_usd=shared.monthly(prices),
    )


def projections(
    per_workflow: Iterable[CostBreakdown],
    volumes: Sequence[int],
    own: Mapping[Pattern, FixedResources],
    prices: PriceTable,
) -> list[MonthlyProjection]:
    """Every pattern at every volume, in that order."""
    return [
        monthly_projection(breakdown, volume, own[breakdown.pattern], prices)
        for breakdown in per_workflow
        for volume in volumes
    ]
