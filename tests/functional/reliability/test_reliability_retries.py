"""Retries belong to the orchestrators, and are billed exactly: each transient fault kind (the
pricing API, the vision model, DynamoDB) through both orchestrators, with the attempts read from
the histories and held to the policy, and the billed units held to the pricing rules.

A Step Functions retry is one more state transition; a durable step retry is one more
operation. Both are counted from the histories by ``handlers.domain.usage`` and stored in the
METRICS item by the collector.
"""

from __future__ import annotations

from typing import Any, cast

import boto3
from botocore.exceptions import ClientError

from handlers.adapters.dynamodb import METRICS, DynamoDbAlbumRepository
from handlers.adapters.metrics_collector import MetricsCollector
from handlers.adapters.pricing.transport import PricingUnavailableError
from handlers.domain.errors import TransientError
from handlers.domain.models import Extraction
from handlers.domain.names import PRICE_ONE_ALBUM, Step
from handlers.domain.policy import (
    ALBUMS_PER_IMAGE,
    EXTRACT_RETRY,
    PRICE_RETRY,
    STORE_RETRY,
    RetryPolicy,
)
from handlers.domain.records import UploadRecord
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics
from tests.conftest import make_extraction
from tests.fakes import ScriptedPricing
from tests.functional.conftest import TABLE, Workbench, swapped
from tests.functional.reliability.patterns import (
    COMPLETED,
    ONE_SET_OF_RECORDS,
    DurableOrchestration,
    Orchestration,
    SfOrchestration,
    item_keys,
    run_with_approval,
    upload_id_of,
)

HAPPY_BILLED = {Pattern.STEP_FUNCTIONS: 11, Pattern.DURABLE: 13}
"""Billed units of a happy run: 11 states entered; 13 durable operations (the start, extract,
the review's context, callback and submitter, the map, six agents, store). Held on recorded
histories in ``tests/unit/test_usage.py``."""

UNAVAILABLE = PricingUnavailableError.__name__


class ThrottledOnce:
    """A recognizer whose first call raises what the Bedrock recognizer raises when throttling
    outlasts its quick retry."""

    def __init__(self, extraction: Extraction) -> None:
        self.extraction = extraction
        self.calls = 0

    def recognize(self, image: bytes) -> Extraction:
        self.calls += 1
        if self.calls == 1:
            raise TransientError("Bedrock still failing after 2 attempts: ThrottlingException")
        return self.extraction


class ThrottlingStoreOnce:
    """A DynamoDB client whose first final-results transaction is throttled, as DynamoDB answers
    when botocore's own retries are spent; everything else goes to the real (moto) client."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.throttled = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **request: Any) -> Any:
        keys = [
            item.get("Put", {}).get("Item", {}).get("sk", {}).get("S")
            for item in request["TransactItems"]
        ]
        if METRICS in keys and not self.throttled:
            self.throttled += 1
            response: Any = {
                "Error": {"Code": "ProvisionedThroughputExceededException"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            raise ClientError(response, "TransactWriteItems")
        return self._client.transact_write_items(**request)


def run_approved(orchestration: Orchestration, bench: Workbench) -> tuple[UploadRecord, str]:
    """Upload, approve the review, and wait for the end: what was stored, and the handle."""
    event = bench.upload()
    upload_id = upload_id_of(event)
    run = run_with_approval(orchestration, event)
    handle, ending = run.handle, run.ending
    assert orchestration.outcome(handle, ending) == COMPLETED
    record = bench.repo.get_upload(orchestration.pattern, upload_id)
    assert record is not None
    return record, handle


def collect(orchestration: Orchestration, bench: Workbench, upload_id: str) -> WorkflowMetrics:
    """The METRICS values the collector derives from the execution's own history."""
    if isinstance(orchestration, DurableOrchestration):
        lambda_client = orchestration.callbacks
    else:
        lambda_client = boto3.client("lambda", region_name="us-east-1")
    collector = MetricsCollector(
        dynamodb=boto3.client("dynamodb", region_name="us-east-1"),
        table_name=TABLE,
        sfn=boto3.client("stepfunctions", region_name="us-east-1"),
        lambda_client=lambda_client,
        settings=bench.deps.settings,
        clock=bench.deps.clock,
    )
    collected = collector.collect(orchestration.pattern, upload_id)
    assert collected is not None
    return collected.metrics


def backoff_requested(policy: RetryPolicy, retries: int) -> float:
    """The waits the policy asks for before its first ``retries`` retries."""
    return sum(policy.delay_before(n) for n in range(1, retries + 1))


def check_asl_delays(
    orchestration: Orchestration, policy: RetryPolicy, retries: int, steps: int
) -> None:
    """Step Functions asked for the policy's delays (the ASL holds its numbers), for ``retries``
    retries of each of ``steps`` retried states; tests only shorten the wait.

    With one retried state the sequence is exact. With concurrent Map iterations, moto's
    interpreter (pinned, 5.2.5) keeps the backoff multiplier in state the iterations can race
    on, so under load one iteration may be asked for another's delay: the count and the set
    of delays are still the policy's, and the attempt counts are checked from the history.
    """
    if isinstance(orchestration, SfOrchestration):
        schedule = [policy.delay_before(n) for n in range(1, retries + 1)]
        requested = orchestration.delays.requested
        if steps == 1:
            assert requested == schedule
        else:
            assert len(requested) == retries * steps
            assert set(requested) <= set(schedule)


def test_pricing_fault_that_passes_is_retried_by_the_orchestrator_and_billed(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    # GIVEN a pricing API down for each agent's first attempt only
    pricing = ScriptedPricing(flaky_attempts=1)

    with swapped(workbench, pricing=pricing):
        record, handle = run_approved(orchestration, workbench)

    # THEN each agent took two attempts, the orchestrator's, and every album is priced
    assert orchestration.agent_attempts(handle) == [2] * ALBUMS_PER_IMAGE
    assert all(album.price is not None for album in record.albums)
    usage = orchestration.usage(handle)
    assert dict(usage.retries.steps) == {PRICE_ONE_ALBUM: ALBUMS_PER_IMAGE}
    # AND each retry is one more transition or operation
    assert usage.retries.billed_units == ALBUMS_PER_IMAGE
    assert usage.billed_units == HAPPY_BILLED[orchestration.pattern] + ALBUMS_PER_IMAGE
    check_asl_delays(orchestration, PRICE_RETRY, 1, ALBUMS_PER_IMAGE)


def test_pricing_outage_runs_out_the_policy_and_bills_every_retry(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    # GIVEN a pricing API down for good
    pricing = ScriptedPricing(flaky_attempts=PRICE_RETRY.max_attempts)

    with swapped(workbench, pricing=pricing):
        record, handle = run_approved(orchestration, workbench)

    # THEN every agent used exactly the policy's attempts, then became an error estimate
    assert orchestration.agent_attempts(handle) == [PRICE_RETRY.max_attempts] * ALBUMS_PER_IMAGE
    assert dict(pricing.calls) == {s: PRICE_RETRY.max_attempts for s in range(1, 7)}
    assert [album.price_error for album in record.albums] == [UNAVAILABLE] * ALBUMS_PER_IMAGE
    retries = ALBUMS_PER_IMAGE * PRICE_RETRY.retries
    usage = orchestration.usage(handle)
    assert dict(usage.retries.steps) == {PRICE_ONE_ALBUM: retries}
    # AND billed: Step Functions enters the Catch's price-album-failed state once per agent;
    # the durable side turns the StepError into the same estimate in code, at no operation
    caught = ALBUMS_PER_IMAGE if orchestration.pattern is Pattern.STEP_FUNCTIONS else 0
    assert usage.billed_units == HAPPY_BILLED[orchestration.pattern] + retries + caught
    check_asl_delays(orchestration, PRICE_RETRY, PRICE_RETRY.retries, ALBUMS_PER_IMAGE)

    # AND the METRICS item says what the retries cost
    values = collect(orchestration, workbench, record.summary.upload_id)
    assert values.retries == {PRICE_ONE_ALBUM: retries}
    assert values.retry_billed_units == retries
    assert values.billed_units == usage.billed_units
    if orchestration.pattern is Pattern.STEP_FUNCTIONS:
        # every retry invokes the price function again
        assert values.retry_lambda_invocations == retries
    else:
        # a step retry suspends; one invocation resumes every agent whose timer is due
        assert PRICE_RETRY.retries <= (values.retry_lambda_invocations or 0) <= retries
        # the delays the service recorded are the policy's, for each of the six agents
        assert values.backoff_seconds == ALBUMS_PER_IMAGE * backoff_requested(
            PRICE_RETRY, PRICE_RETRY.retries
        )


def test_vision_throttling_is_retried_by_the_orchestrator_and_billed(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    # GIVEN a vision model throttled past the recognizer's quick retry once
    recognizer = ThrottledOnce(make_extraction())

    with swapped(workbench, recognizer=recognizer):
        record, handle = run_approved(orchestration, workbench)

    assert recognizer.calls == 2
    usage = orchestration.usage(handle)
    assert dict(usage.retries.steps) == {Step.EXTRACT: 1}
    assert usage.extract_attempts == 2
    assert usage.billed_units == HAPPY_BILLED[orchestration.pattern] + 1
    assert all(album.price is not None for album in record.albums)
    check_asl_delays(orchestration, EXTRACT_RETRY, 1, 1)


def test_dynamodb_throttling_of_the_final_write_is_retried_and_billed(
    orchestration: Orchestration, workbench: Workbench, dynamodb: Any
) -> None:
    # GIVEN DynamoDB throttling the store step's transaction once, past botocore's own retries
    client = ThrottlingStoreOnce(dynamodb)
    repo = DynamoDbAlbumRepository(cast(Any, client), TABLE)

    with swapped(workbench, repo=repo):
        record, handle = run_approved(orchestration, workbench)

    # THEN the repository raised it as transient, the orchestrator retried the step, and the
    # results were written once
    assert client.throttled == 1
    usage = orchestration.usage(handle)
    assert dict(usage.retries.steps) == {Step.STORE: 1}
    assert usage.billed_units == HAPPY_BILLED[orchestration.pattern] + 1
    upload_id = record.summary.upload_id
    assert item_keys(dynamodb, TABLE, orchestration.pattern, upload_id) == ONE_SET_OF_RECORDS
    check_asl_delays(orchestration, STORE_RETRY, 1, 1)
