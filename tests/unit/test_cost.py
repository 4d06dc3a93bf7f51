"""The cost model against hand-computed examples (the arithmetic is written beside each one)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from handlers.domain.cost import (
    SHARED_COMPONENTS,
    US_EAST_1,
    Component,
    FixedResources,
    RateCardError,
    in_words,
    mean_cost,
    monthly_projection,
    rate_card,
    workflow_cost,
)
from handlers.domain.tenant import Pattern
from handlers.domain.usage import Usage

D = Decimal

SF_USAGE = Usage(
    pattern=Pattern.STEP_FUNCTIONS,
    state_transitions=11,
    lambda_requests=9,
    lambda_gb_seconds=D("4.311"),
    lambda_architecture="arm64",
    dynamodb_write_units=44,
    dynamodb_read_units=1,
    s3_put_requests=1,
    s3_get_requests=1,
    eventbridge_events=1,
    cloudwatch_requests=1,
)


def test_step_functions_workflow_cost_by_hand() -> None:
    cost = workflow_cost(SF_USAGE, US_EAST_1)
    items = cost.by_item()
    assert items["state transitions"] == D(11) * D("0.025") / 1000  # 0.000275
    assert items["Lambda requests"] == D(9) * D("0.20") / 1_000_000  # 0.0000018
    assert items["Lambda duration"] == D("4.311") * D("0.0000133334")  # 0.0000574802874
    assert items["DynamoDB writes"] == D(44) * D("0.625") / 1_000_000  # 0.0000275
    # 0.000275 + 0.0000018 + 0.0000574802874 (orchestration, compute)
    # + 0.0000275 + 0.000000125 + 0.000005 + 0.0000004 (DynamoDB W/R, S3 PUT/GET)
    # + 0.000001 + 0.00001 (EventBridge, CloudWatch API)
    assert cost.total == D("0.0003783052874")
    assert cost.orchestration_dependent == D("0.000275") + D("0.0000018") + D("0.0000574802874")
    assert cost.shared == D("0.0000275") + D("0.000000125") + D("0.000005") + D("0.0000004") + D(
        "0.000001"
    ) + D("0.00001")
    assert cost.orchestration_dependent + cost.shared == cost.total


def test_durable_workflow_cost_by_hand() -> None:
    usage = Usage(
        pattern=Pattern.DURABLE,
        durable_operations=13,
        durable_bytes_written=10 * 1024 * 1024,
        durable_retention_days=7,
        lambda_requests=2,
        lambda_gb_seconds=D("3.369"),
        lambda_architecture="x86_64",
    )
    items = workflow_cost(usage, US_EAST_1).by_item()
    assert items["durable operations"] == D(13) * D("8.00") / 1_000_000  # 0.000104
    # 10 MiB = 10/1024 GB = 0.009765625 GB, at $0.25 per GB written
    assert items["durable data written"] == D("0.009765625") * D("0.25")
    # an execution of no measurable length, kept 7 days: 0.009765625 GB x 7 / 30 GB-months
    assert items["durable data retained"] == D("0.009765625") * 7 / 30 * D("0.15")
    # x86 duration: 3.369 GB-s x 0.0000166667
    assert items["Lambda duration"] == D("3.369") * D("0.0000166667")


def test_components_group_line_items() -> None:
    cost = workflow_cost(SF_USAGE, US_EAST_1)
    components = cost.by_component()
    assert set(components) == {component.value for component in Component}
    assert components["orchestration"] == D("0.000275")
    assert components["vision"] == 0
    # DynamoDB 0.0000275 + 0.000000125 + S3 0.000005 + 0.0000004
    assert components["storage"] == D("0.000033025")
    assert sum(components.values()) == cost.total


def test_bedrock_tokens_priced_by_model() -> None:
    usage = Usage(
        pattern=Pattern.DURABLE,
        vision_model="us.amazon.nova-lite-v1:0",
        vision_input_tokens=1000,
        vision_output_tokens=200,
        agent_model="global.anthropic.claude-haiku-4-5-20251001-v1:0",
        agent_input_tokens=3000,
        agent_output_tokens=100,
    )
    items = workflow_cost(usage, US_EAST_1).by_item()
    assert items["vision input tokens"] == D("0.00006")  # 1000 x $0.06 / 1M
    assert items["vision output tokens"] == D("0.000048")  # 200 x $0.24 / 1M
    assert items["agent input tokens"] == D("0.003")  # 3000 x $1 / 1M
    assert items["agent output tokens"] == D("0.0005")  # 100 x $5 / 1M


def test_offline_recognizer_has_no_vision_cost() -> None:
    cost = workflow_cost(SF_USAGE, US_EAST_1)
    assert cost.by_component()["vision"] == 0
    assert not [item for item in cost.items if item.component is Component.VISION]


def test_unknown_model_is_refused() -> None:
    usage = Usage(pattern=Pattern.DURABLE, vision_model="mystery-model", vision_input_tokens=1)
    with pytest.raises(RateCardError, match="mystery-model"):
        workflow_cost(usage, US_EAST_1)


def test_region_without_a_card_gets_labelled_us_east_1_figures() -> None:
    assert rate_card("us-east-1") is US_EAST_1
    paris = rate_card("eu-west-3")
    assert paris.lambda_request.usd == US_EAST_1.lambda_request.usd
    assert "us-east-1 figure used for eu-west-3" in paris.lambda_request.source
    # AWS publishes Step Functions rates per Region: Paris has its own.
    assert paris.state_transition.usd == D("0.0297")
    assert "used for" not in paris.state_transition.source


def test_every_rate_has_a_source_and_a_date() -> None:
    assert US_EAST_1.as_of == date(2026, 12, 3)
    for name, rate in US_EAST_1.sources():
        assert rate.source.startswith("https://"), name
        assert rate.usd > 0, name


def test_monthly_projection_adds_fixed_costs() -> None:
    per_workflow = workflow_cost(SF_USAGE, US_EAST_1)
    projection = monthly_projection(
        per_workflow, 10_000, FixedResources(custom_metrics=16, alarms=2), US_EAST_1
    )
    # 10,000 x 0.0003783052874
    assert projection.variable_usd == D("3.783052874")
    # 16 metrics x $0.30 + 2 alarms x $0.10
    assert projection.fixed_usd == D("4.80") + D("0.20")
    # shared: one dashboard $3.00 + one secret $0.40, shown apart
    assert projection.shared_fixed_usd == D("3.40")
    assert projection.total_usd == D("3.783052874") + D("5.00")
    assert projection.per_workflow_usd == (D("3.783052874") + D("5.00")) / 10_000


def test_mean_cost_averages_each_line() -> None:
    cheap = workflow_cost(SF_USAGE, US_EAST_1)
    retried = workflow_cost(
        Usage(pattern=Pattern.STEP_FUNCTIONS, state_transitions=13, lambda_gb_seconds=D("4.311")),
        US_EAST_1,
    )
    mean = mean_cost([cheap, retried])
    # (11 + 13) / 2 = 12 transitions -> 12 x 0.025 / 1000
    assert mean.by_item()["state transitions"] == D("0.0003")
    # S3 PUT appears in one of two runs: 0.000005 / 2
    assert mean.by_item()["S3 PUT"] == D("0.0000025")
    assert mean.total == (cheap.total + retried.total) / 2


def test_components_in_words_follow_the_component_order() -> None:
    assert in_words(SHARED_COMPONENTS) == "vision, storage and other"
    assert in_words([Component.COMPUTE, Component.ORCHESTRATION]) == "orchestration and compute"
    assert in_words([Component.OTHER]) == "other"


def test_each_pattern_is_charged_its_own_billed_unit() -> None:
    ldf_usage = Usage(pattern=Pattern.DURABLE, durable_operations=13, lambda_requests=2)
    for usage in (SF_USAGE, ldf_usage):
        items = workflow_cost(usage, US_EAST_1).by_item()
        assert usage.pattern.billed_unit in items
        others = [p.billed_unit for p in Pattern if p is not usage.pattern]
        assert not any(unit in items for unit in others)
