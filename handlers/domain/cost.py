"""The cost model: dated AWS rate cards, each rate with its source, applied to usage.

The figures live in ``rate_snapshot.json`` beside this module, one card per Region it covers
(written by ``albumreg.tools.price_list`` from the AWS Price List API, or from AWS's pricing
pages where that API could not be read); any other Region gets us-east-1 figures, labelled.

Pure and in ``Decimal``: ``workflow_cost`` costs one workflow's ``Usage`` line by line, grouped
into components (orchestration and compute depend on the orchestrator; vision, storage and other
are shared by both); ``monthly_projection`` scales that to a volume and adds the fixed monthly
costs. Imports no boto3, no orchestrator SDK, no Pulumi.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from typing import Any

from handlers.domain.tenant import Pattern
from handlers.domain.usage import GB, Usage

RETENTION_MONTH_DAYS = Decimal(30)
"""Durable data retained is billed per GB-month of 30 days, as AWS's durable pricing example
counts it: GB x (execution days + retention days) / 30."""


class RateCardError(ValueError):
    """No cited rate for a region or a model: the message says which and what is covered."""


class Component(StrEnum):
    """Where a line item belongs in the breakdown."""

    ORCHESTRATION = "orchestration"
    COMPUTE = "compute"
    VISION = "vision"
    STORAGE = "storage"
    OTHER = "other"


SHARED_COMPONENTS = frozenset({Component.VISION, Component.STORAGE, Component.OTHER})
"""The same for both orchestrators by construction: shown apart from orchestration cost."""


def in_words(components: Iterable[Component]) -> str:
    """Components in ``Component`` order, for captions: ``vision, storage and other``."""
    wanted = set(components)
    names = [component.value for component in Component if component in wanted]
    return " and ".join(filter(None, (", ".join(names[:-1]), *names[-1:])))


@dataclass(frozen=True)
class Rate:
    """One AWS list rate: ``usd`` per ``per`` units, where it comes from, and its SKU if known."""

    usd: Decimal
    per: int
    unit: str
    source: str
    sku: str | None = None

    def of(self, quantity: Decimal | int) -> Decimal:
        """The cost of ``quantity`` units."""
        return Decimal(quantity) * self.usd / self.per


SCALAR_KEYS = (
    "state_transition",
    "lambda_request",
    "durable_operation",
    "durable_gb_written",
    "durable_gb_month_retained",
    "dynamodb_write_unit",
    "dynamodb_read_unit",
    "s3_put",
    "s3_get",
    "eventbridge_event",
    "cloudwatch_request",
    "cloudwatch_metric_month",
    "cloudwatch_dashboard_month",
    "cloudwatch_alarm_month",
    "secret_month",
)
"""Keys of the single rates of a ``RateCard``; Lambda duration and Bedrock tokens add theirs."""

DURABLE_KEYS = frozenset({"durable_operation", "durable_gb_written", "durable_gb_month_retained"})
"""The rates that exist only where Lambda durable functions are offered."""

SERVICES = {
    "state_transition": "AWS Step Functions",
    "lambda": "AWS Lambda",
    "durable": "AWS Lambda durable functions",
    "dynamodb": "Amazon DynamoDB",
    "s3": "Amazon S3",
    "eventbridge": "Amazon EventBridge",
    "cloudwatch": "Amazon CloudWatch",
    "secret": "AWS Secrets Manager",
    "bedrock": "Amazon Bedrock",
}
"""The AWS service that sells each rate, by the first word of its key."""


def service_of(key: str) -> str:
    """The AWS service a rate key belongs to."""
    head = key.partition(":")[0]
    return SERVICES.get(head) or SERVICES[head.partition("_")[0]]


@dataclass(frozen=True)
class RateCard:
    """Every AWS rate the cost model uses, for one region, as of one date.

    ``durable_offered`` says whether Lambda durable functions are sold in the region (as far as
    the card's source knows); ``origin`` says where the card as a whole came from.
    """

    region: str
    as_of: date
    state_transition: Rate
    lambda_request: Rate
    lambda_gb_second: Mapping[str, Rate]
    durable_operation: Rate
    durable_gb_written: Rate
    durable_gb_month_retained: Rate
    dynamodb_write_unit: Rate
    dynamodb_read_unit: Rate
    s3_put: Rate
    s3_get: Rate
    eventbridge_event: Rate
    cloudwatch_request: Rate
    cloudwatch_metric_month: Rate
    cloudwatch_dashboard_month: Rate
    cloudwatch_alarm_month: Rate
    secret_month: Rate
    bedrock: Mapping[str, tuple[Rate, Rate]] = field(default_factory=dict)
    """Input and output token rates by a fragment of the model id."""
    durable_offered: bool = True
    origin: str = ""

    def duration(self, architecture: str) -> Rate:
        """Lambda duration rate for an architecture."""
        try:
            return self.lambda_gb_second[architecture]
        except KeyError as exc:
            raise RateCardError(
                f"no Lambda duration rate for architecture {architecture!r}; "
                f"known: {', '.join(self.lambda_gb_second)}"
            ) from exc

    def tokens(self, model_id: str) -> tuple[Rate, Rate]:
        """Input and output token rates of a Bedrock model or inference profile id."""
        for fragment, rates in self.bedrock.items():
            if fragment in model_id:
                return rates
        raise RateCardError(
            f"no cited token rate for model {model_id!r} in {self.region}; "
            f"rated models: {', '.join(self.bedrock)}"
        )

    def sources(self) -> list[tuple[str, Rate]]:
        """Every rated item with its figure and source, for the report."""
        named: list[tuple[str, Rate]] = [
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

    def keyed(self) -> dict[str, Rate]:
        """Every rate by its key (``state_transition``, ``lambda_gb_second:arm64``...)."""
        rates = {key: getattr(self, key) for key in SCALAR_KEYS}
        rates |= {f"lambda_gb_second:{arch}": p for arch, p in self.lambda_gb_second.items()}
        for fragment, (tokens_in, tokens_out) in self.bedrock.items():
            rates[f"bedrock:{fragment}:input"] = tokens_in
            rates[f"bedrock:{fragment}:output"] = tokens_out
        return rates

    @classmethod
    def from_keyed(
        cls,
        region: str,
        as_of: date,
        rates: Mapping[str, Rate],
        *,
        durable_offered: bool,
        origin: str,
    ) -> RateCard:
        """The card from rates by key (the inverse of ``keyed``).

        Raises:
            RateCardError: a scalar rate is missing.
        """
        missing = [key for key in SCALAR_KEYS if key not in rates]
        if missing:
            raise RateCardError(f"{region}: no rate for {', '.join(missing)}")
        durations = {
            key.partition(":")[2]: p for key, p in rates.items() if key.startswith("lambda_gb")
        }
        tokens: dict[str, dict[str, Rate]] = {}
        for key, p in rates.items():
            if key.startswith("bedrock:"):
                _, fragment, direction = key.split(":")
                tokens.setdefault(fragment, {})[direction] = p
        return cls(
            region=region,
            as_of=as_of,
            lambda_gb_second=durations,
            bedrock={f: (t["input"], t["output"]) for f, t in tokens.items()},
            durable_offered=durable_offered,
            origin=origin,
            **{key: rates[key] for key in SCALAR_KEYS},
        )


@dataclass(frozen=True)
class RateSnapshot:
    """The committed rate snapshot: per-Region cards, where durable functions are sold.

    Attributes:
        as_of: when the figures were gathered.
        source: how the snapshot was produced and where its figures come from.
        durable_regions: Regions where Lambda durable functions are offered, as far as known.
        durable_regions_source: where that list comes from.
        cards: full cards for the Regions the snapshot covers.
        state_transitions: Step Functions rates of further Regions (AWS publishes a table).
    """

    as_of: date
    source: str
    durable_regions: frozenset[str]
    durable_regions_source: str
    cards: Mapping[str, RateCard]
    state_transitions: Mapping[str, Rate]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> RateSnapshot:
        """Parse the snapshot's JSON document (see ``rate_snapshot.json``)."""
        as_of = date.fromisoformat(document["as_of"])
        durable = frozenset(document["durable_regions"]["regions"])
        cards = {
            region: RateCard.from_keyed(
                region,
                as_of,
                {key: _rate(value) for key, value in body["rates"].items()},
                durable_offered=region in durable,
                origin=f"rate snapshot of {as_of.isoformat()}",
            )
            for region, body in document["regions"].items()
        }
        return cls(
            as_of=as_of,
            source=document["source"],
            durable_regions=durable,
            durable_regions_source=document["durable_regions"]["source"],
            cards=cards,
            state_transitions={
                region: _rate(value)
                for region, value in document["state_transitions"]["rates"].items()
            },
        )

    def card(self, region: str) -> RateCard:
        """The card for a Region; never raises.

        A Region the snapshot has no card for gets the us-east-1 figures, each relabelled
        to say so, with that Region's own Step Functions rate where AWS publishes one.
        """
        if region in self.cards:
            return self.cards[region]
        base = self.cards[FALLBACK_REGION]
        note = f"; {FALLBACK_REGION} figure used for {region}: the snapshot has none for it"
        rates = {
            key: dataclasses.replace(rate, source=rate.source + note, sku=None)
            for key, rate in base.keyed().items()
        }
        if region in self.state_transitions:
            rates["state_transition"] = self.state_transitions[region]
        return RateCard.from_keyed(
            region,
            self.as_of,
            rates,
            durable_offered=region in self.durable_regions,
            origin=f"rate snapshot of {self.as_of.isoformat()}, {FALLBACK_REGION} figures",
        )


FALLBACK_REGION = "us-east-1"
"""The Region whose figures stand in where the snapshot has no card."""

SNAPSHOT_FILE = "rate_snapshot.json"


def _rate(value: Mapping[str, Any]) -> Rate:
    return Rate(
        usd=Decimal(value["usd"]),
        per=int(value["per"]),
        unit=value["unit"],
        source=value["source"],
        sku=value.get("sku"),
    )


@functools.cache
def snapshot() -> RateSnapshot:
    """The committed snapshot (``handlers/domain/rate_snapshot.json``), read once."""
    text = resources.files(__package__).joinpath(SNAPSHOT_FILE).read_text(encoding="utf-8")
    return RateSnapshot.from_document(json.loads(text))


def rate_card(region: str) -> RateCard:
    """The snapshot's rate card of a Region; every Region gets one (see ``RateSnapshot``)."""
    return snapshot().card(region)


US_EAST_1 = rate_card("us-east-1")
"""The us-east-1 card, the reference Region of the examples and the tests."""


@dataclass(frozen=True)
class LineItem:
    """One costed quantity."""

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
    """The costed usage of one workflow (or the mean of several)."""

    pattern: Pattern
    items: tuple[LineItem, ...]
    region: str
    rates_as_of: date

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
        """What both orchestrators pay alike: the ``SHARED_COMPONENTS``."""
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


def workflow_cost(usage: Usage, rates: RateCard) -> CostBreakdown:
    """Cost one workflow's usage, line by line.

    Raises:
        RateCardError: a model or architecture without a cited rate.
    """
    items: list[LineItem] = []

    def add(component: Component, name: str, quantity: Decimal | int, rate: Rate) -> None:
        if quantity:
            items.append(LineItem(component, name, Decimal(quantity), rate.unit, rate.of(quantity)))

    orchestration = Component.ORCHESTRATION
    transitions, operations = Pattern.STEP_FUNCTIONS.billed_unit, Pattern.DURABLE.billed_unit
    add(orchestration, transitions, usage.state_transitions, rates.state_transition)
    add(orchestration, operations, usage.durable_operations, rates.durable_operation)
    written_gb = Decimal(usage.durable_bytes_written) / GB
    add(orchestration, "durable data written", written_gb, rates.durable_gb_written)
    # Kept while the execution runs (a review may wait for days) and for the retention after.
    retained_days = usage.durable_execution_days + usage.durable_retention_days
    retained = written_gb * retained_days / RETENTION_MONTH_DAYS
    add(orchestration, "durable data retained", retained, rates.durable_gb_month_retained)
    add(Component.COMPUTE, "Lambda requests", usage.lambda_requests, rates.lambda_request)
    add(
        Component.COMPUTE,
        "Lambda duration",
        usage.lambda_gb_seconds,
        rates.duration(usage.lambda_architecture),
    )
    if usage.vision_model is not None:
        tokens_in, tokens_out = rates.tokens(usage.vision_model)
        add(Component.VISION, "vision input tokens", usage.vision_input_tokens, tokens_in)
        add(Component.VISION, "vision output tokens", usage.vision_output_tokens, tokens_out)
    add(Component.STORAGE, "DynamoDB writes", usage.dynamodb_write_units, rates.dynamodb_write_unit)
    add(Component.STORAGE, "DynamoDB reads", usage.dynamodb_read_units, rates.dynamodb_read_unit)
    add(Component.STORAGE, "S3 PUT", usage.s3_put_requests, rates.s3_put)
    add(Component.STORAGE, "S3 GET", usage.s3_get_requests, rates.s3_get)
    add(Component.OTHER, "EventBridge events", usage.eventbridge_events, rates.eventbridge_event)
    add(Component.OTHER, "CloudWatch API", usage.cloudwatch_requests, rates.cloudwatch_request)
    if usage.agent_model is not None:
        tokens_in, tokens_out = rates.tokens(usage.agent_model)
        add(Component.OTHER, "agent input tokens", usage.agent_input_tokens, tokens_in)
        add(Component.OTHER, "agent output tokens", usage.agent_output_tokens, tokens_out)
    return CostBreakdown(usage.pattern, tuple(items), rates.region, rates.as_of)


def mean_cost(breakdowns: Sequence[CostBreakdown]) -> CostBreakdown:
    """The average workflow of several runs of one pattern: each line item's mean.

    Raises:
        ValueError: no breakdowns, or breakdowns of different patterns or rate cards.
    """
    if not breakdowns:
        raise ValueError("no cost breakdowns to average")
    first = breakdowns[0]
    if any(
        (b.pattern, b.region, b.rates_as_of) != (first.pattern, first.region, first.rates_as_of)
        for b in breakdowns
    ):
        raise ValueError("cannot average breakdowns of different patterns or rate cards")
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
    return CostBreakdown(first.pattern, items, first.region, first.rates_as_of)


@dataclass(frozen=True)
class FixedResources:
    """Resources billed per month whatever the volume."""

    custom_metrics: int = 0
    alarms: int = 0
    dashboards: int = 0
    secrets: int = 0

    def monthly(self, rates: RateCard) -> Decimal:
        """Their cost per month."""
        return (
            rates.cloudwatch_metric_month.of(self.custom_metrics)
            + rates.cloudwatch_alarm_month.of(self.alarms)
            + rates.cloudwatch_dashboard_month.of(self.dashboards)
            + rates.secret_month.of(self.secrets)
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
    rates: RateCard,
    shared: FixedResources = SHARED_FIXED,
) -> MonthlyProjection:
    """Scale one workflow's cost to a monthly volume and add the fixed monthly costs.

    List rates without free tiers: the AWS free tier would make small volumes cheaper.
    """
    if workflows < 0:
        raise ValueError(f"workflows per month must not be negative, got {workflows}")
    return MonthlyProjection(
        pattern=per_workflow.pattern,
        workflows=workflows,
        variable_usd=per_workflow.total * workflows,
        fixed_usd=own.monthly(rates),
        shared_fixed_usd=shared.monthly(rates),
    )


def projections(
    per_workflow: Iterable[CostBreakdown],
    volumes: Sequence[int],
    own: Mapping[Pattern, FixedResources],
    rates: RateCard,
) -> list[MonthlyProjection]:
    """Every pattern at every volume, in that order."""
    return [
        monthly_projection(breakdown, volume, own[breakdown.pattern], rates)
        for breakdown in per_workflow
        for volume in volumes
    ]
