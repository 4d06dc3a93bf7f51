"""Parity: the same scenarios through both orchestrators on one moto table, same records stored.

Each scenario starts a Step Functions execution (the real ASL in moto's interpreter) and a
durable execution (the testing SDK's runner) from the same S3 event, answers both reviews
through the review gateway, and compares every stored item of ``sf#`` with its ``ldf#`` twin,
attribute by attribute, ignoring only the tenant prefix and the execution's own ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from handlers import durable
from handlers.adapters.dynamodb import upload_pk
from handlers.adapters.pricing.transport import PricingUnavailableError
from handlers.adapters.review_inbox import OrchestratorReviewInbox
from handlers.adapters.table_schema import PARTITION_KEY, SORT_KEY
from handlers.domain.errors import TransientError
from handlers.domain.events import parse_upload_event
from handlers.domain.models import ReviewDecision, ReviewResult, ReviewState, WorkflowStatus
from handlers.domain.reviews import submit_review
from handlers.domain.tenant import Pattern
from tests.fakes import ScriptedPricing
from tests.functional.conftest import TABLE, Workbench, swapped
from tests.functional.durable_harness import DurableHarness, RunnerInbox, durable_runner
from tests.functional.sfn_harness import SfnHarness, deployed_state_machine, state_machine_account

SF = Pattern.STEP_FUNCTIONS
LDF = Pattern.DURABLE
EXECUTION_SPECIFIC = frozenset({"execution_id", "token"})
"""Attributes that name one execution (its ARN, its task token or callback id): never equal."""

APPROVE_SLOT_3 = ReviewDecision.model_validate(
    {"action": "approve", "corrections": [{"slot": 3, "year": 1976}], "reviewer": "ana"}
)


@dataclass(frozen=True)
class Scenario:
    """One way a workflow can go, and what both orchestrators must end with."""

    name: str
    status: WorkflowStatus
    execution: str
    decision: ReviewDecision | None = None
    review: ReviewState | None = None
    key: str = "uploads/shelf.jpg"
    settings: dict[str, Any] = field(default_factory=dict)
    extract_error: Exception | None = None
    failing_slots: frozenset[int] = frozenset()


SCENARIOS = [
    Scenario(
        "happy-corrected-year",
        WorkflowStatus.COMPLETED,
        "SUCCEEDED",
        decision=APPROVE_SLOT_3,
        review=ReviewState.APPROVED,
    ),
    Scenario(
        "review-timeout",
        WorkflowStatus.COMPLETED,
        "SUCCEEDED",
        review=ReviewState.TIMED_OUT,
        settings={"review_timeout_seconds": 2},
    ),
    Scenario(
        "review-rejected",
        WorkflowStatus.REJECTED,
        "SUCCEEDED",
        decision=ReviewDecision(action="reject", comment="wrong shelf", reviewer="ana"),
        review=ReviewState.REJECTED,
    ),
    Scenario(
        "price-agent-failing",
        WorkflowStatus.COMPLETED,
        "SUCCEEDED",
        decision=APPROVE_SLOT_3,
        review=ReviewState.APPROVED,
        failing_slots=frozenset({4}),
    ),
    Scenario(
        "extract-failing",
        WorkflowStatus.FAILED,
        "FAILED",
        extract_error=TransientError("vision model throttled"),
    ),
    Scenario("invalid-upload", WorkflowStatus.REJECTED, "SUCCEEDED", key="uploads/notes.txt"),
]


class GatewayInbox:
    """The review gateway's inbox for both sides: ``SendTaskSuccess``, or the runner's callback."""

    def __init__(self, step_functions: OrchestratorReviewInbox, durable: RunnerInbox) -> None:
        self.step_functions = step_functions
        self.durable = durable

    def complete(self, pattern: Pattern, token: str, result: ReviewResult) -> None:
        inbox = self.durable if pattern is Pattern.DURABLE else self.step_functions
        inbox.complete(pattern, token, result)


@pytest.fixture
def aws() -> Iterator[None]:
    """Overrides the plain moto account: this one executes state machines."""
    with state_machine_account():
        yield


@pytest.fixture
def sfn(workbench: Workbench) -> Iterator[SfnHarness]:
    with deployed_state_machine(workbench) as harness:
        yield harness


def stored_items(dynamodb: Any, pattern: Pattern, upload_id: str) -> dict[str, dict[str, Any]]:
    """Every item of one upload under one tenant, by sort key, with the tenant made neutral."""
    response = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": PARTITION_KEY},
        ExpressionAttributeValues={":pk": {"S": upload_pk(pattern, upload_id)}},
        ConsistentRead=True,
    )
    deserializer = TypeDeserializer()
    items: dict[str, dict[str, Any]] = {}
    for raw in response["Items"]:
        item = {name: deserializer.deserialize(value) for name, value in raw.items()}
        items[item[SORT_KEY]] = {
            name: _neutral(value, pattern)
            for name, value in item.items()
            if name not in EXECUTION_SPECIFIC
        }
    return items


def _neutral(value: Any, pattern: Pattern) -> Any:
    """``sf#UPLOAD#...`` and ``ldf#UPLOAD#...`` both become ``<tenant>#UPLOAD#...``."""
    if value == pattern.value:
        return "<tenant>"
    if isinstance(value, str) and value.startswith(f"{pattern.value}#"):
        return "<tenant>#" + value.removeprefix(f"{pattern.value}#")
    return value


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_parity_same_records_on_both_orchestrators(
    scenario: Scenario, sfn: SfnHarness, workbench: Workbench, dynamodb
):
    # GIVEN one upload, and the scenario's model, pricing API and settings for both sides
    if scenario.extract_error is not None:
        workbench.recognizer.error = scenario.extract_error
    # What the real agent raises while the pricing API is unavailable, on every attempt.
    down = PricingUnavailableError("GET /database/search: HTTP 503 after 2 attempts")
    pricing = ScriptedPricing(failing={slot: down for slot in scenario.failing_slots})
    event = workbench.upload(key=scenario.key)
    upload_id = parse_upload_event(event).upload_id

    with (
        swapped(workbench, settings=scenario.settings, pricing=pricing) as deps,
        durable_runner(durable.handler) as runner,
    ):
        # WHEN both orchestrators start from the same event, at once
        ldf = DurableHarness(runner, deps)
        sf_arn = sfn.start(event)
        ldf_arn = ldf.start(event)
        # AND a person answers each review through the gateway, when the scenario has one
        if scenario.decision is not None:
            sfn.wait_for_review(event)
            ldf.wait_for_review(ldf_arn)
            inbox = GatewayInbox(
                OrchestratorReviewInbox(sfn.sfn, boto3.client("lambda")), RunnerInbox(runner)
            )
            for pattern in (SF, LDF):
                submit_review(
                    pattern,
                    upload_id,
                    scenario.decision,
                    repo=deps.repo,
                    inbox=inbox,
                    clock=deps.clock,
                )
        sf_status = sfn.finish(sf_arn)["status"]
        ldf_status = ldf.finish(ldf_arn).status.value

    # THEN both ended the same way, as the scenario says
    assert (sf_status, ldf_status) == (scenario.execution, scenario.execution)
    sf_items = stored_items(dynamodb, SF, upload_id)
    ldf_items = stored_items(dynamodb, LDF, upload_id)
    assert sf_items["META"]["status"] == scenario.status
    assert sf_items.get("REVIEW", {}).get("state") == scenario.review
    # AND every stored item is equal, attribute by attribute
    assert sorted(ldf_items) == sorted(sf_items)
    for sort_key, item in sf_items.items():
        assert ldf_items[sort_key] == item, sort_key
    # AND an agent whose attempts ran out is the same error estimate on both: the error's name
    for slot in scenario.failing_slots:
        album = sf_items[f"ALBUM#{slot}"]
        assert (album.get("price"), album["price_error"]) == (None, down.__class__.__name__)
