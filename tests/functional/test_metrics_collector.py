"""The metrics collector on recorded runs: histories and items captured from the local cloud.

The table and CloudWatch are moto; the history APIs answer with the recorded history of the
same run (tests/events/collect_*.json): a botocore Stubber for Step Functions, and a small fake
for the durable API, whose local events lack ``RetryDetails`` that the AWS model requires (so a
Stubber would refuse them).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from albumreg.cli.main import main
from handlers.adapters.metrics_collector import WORKFLOW_METRICS, MetricsCollector
from handlers.config import Settings
from handlers.domain.models import ReviewResult, ReviewState, StoreRequest
from handlers.domain.tenant import Pattern
from handlers.domain.workflow import record_failure, store_results
from handlers.domain.workflow_metrics import COLLECTED_KEYS, LEGACY_KEYS
from tests.conftest import FixedClock, six_albums
from tests.fakes import RecordingMetrics, ScriptedPricing
from tests.functional.conftest import TABLE

EVENTS = Path(__file__).parents[1] / "events"
SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE


def recorded(pattern: Pattern) -> dict[str, Any]:
    return json.loads((EVENTS / f"collect_{pattern.value}.json").read_text())


def _dated(event: dict[str, Any]) -> dict[str, Any]:
    """Stored ISO timestamps back to the datetimes boto3 returns."""
    return {
        key: datetime.fromisoformat(value) if key in ("timestamp", "EventTimestamp") else value
        for key, value in event.items()
    }


class RecordedDurableHistory:
    """Answers ``GetDurableExecutionHistory`` with recorded events, and counts the calls."""

    def __init__(self) -> None:
        self.answers: list[list[dict[str, Any]]] = []
        self.requests: list[dict[str, Any]] = []

    def get_durable_execution_history(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {"Events": self.answers.pop(0)}


class Run:
    """One recorded workflow loaded into moto, with its history behind stubbed clients."""

    def __init__(self, pattern: Pattern, dynamodb: Any) -> None:
        self.pattern = pattern
        self.data = recorded(pattern)
        for item in self.data["items"]:
            dynamodb.put_item(TableName=TABLE, Item=item)
        meta = next(i for i in self.data["items"] if i["sk"]["S"] == "META")
        self.upload_id = meta["upload_id"]["S"]
        self.execution_arn = meta["execution_id"]["S"]
        self.sfn = boto3.client("stepfunctions", region_name="us-east-1")
        self.lambda_client = RecordedDurableHistory()
        self.stub = Stubber(self.sfn)
        self.cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        self.dynamodb = dynamodb

    def answer_history(self, times: int = 1, events: list[dict[str, Any]] | None = None) -> None:
        history = [_dated(e) for e in (events or self.data["history"])]
        for _ in range(times):
            if self.pattern is SF:
                self.stub.add_response("get_execution_history", {"events": history})
            else:
                self.lambda_client.answers.append(history)
        self.stub.activate()

    def collector(self) -> MetricsCollector:
        return MetricsCollector(
            dynamodb=self.dynamodb,
            table_name=TABLE,
            sfn=self.sfn,
            lambda_client=self.lambda_client,  # type: ignore[arg-type]
            settings=Settings(table_name=TABLE),
            clock=FixedClock(),
            cloudwatch=self.cloudwatch,
        )

    def stored(self) -> dict[str, Any]:
        pk = f"{self.pattern.value}#UPLOAD#{self.upload_id}"
        key = {"pk": {"S": pk}, "sk": {"S": "METRICS"}}
        return self.dynamodb.get_item(TableName=TABLE, Key=key)["Item"]

    def samples(self, metric: str) -> float:
        found = self.cloudwatch.get_metric_statistics(
            Namespace=self.pattern.metric_namespace,
            MetricName=metric,
            Dimensions=[{"Name": "Service", "Value": "album-registration"}],
            StartTime=datetime(2026, 1, 1),
            EndTime=datetime(2027, 12, 31),
            Period=86400,
            Statistics=["SampleCount"],
        )["Datapoints"]
        return sum(point["SampleCount"] for point in found)


@pytest.mark.parametrize("pattern", [SF, LDF])
def test_collect_stores_metrics_once_and_keeps_the_workflows_keys(dynamodb, pattern) -> None:
    run = Run(pattern, dynamodb)
    run.answer_history()
    collector = run.collector()

    first = collector.collect(pattern, run.upload_id)
    again = collector.collect(pattern, run.upload_id)

    assert first is not None and first.written
    assert again is not None and not again.written
    assert again.metrics == first.metrics
    stored = run.stored()
    # ``cold_starts`` is left out when not measured (no log groups here), never stored as 0.
    assert set(stored) >= COLLECTED_KEYS - {"cold_starts"} - LEGACY_KEYS
    assert not set(stored) & LEGACY_KEYS
    # store_results' own keys survive the collector's update
    assert stored["albums_priced"] == {"N": "6"}
    assert stored["review_outcome"] == {"S": "APPROVED"}
    assert run.samples("ActiveDuration") == 1


def test_step_functions_values_come_from_its_history(dynamodb) -> None:
    run = Run(SF, dynamodb)
    run.answer_history()
    values = run.collector().collect(SF, run.upload_id).metrics  # type: ignore[union-attr]
    events = run.data["history"]
    start, end = events[0]["timestamp"], events[-1]["timestamp"]
    total = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    assert values.total_seconds == pytest.approx(total)
    assert values.active_seconds == pytest.approx(total - (values.human_wait_seconds or 0))
    entered = sum(1 for e in events if e["type"].endswith("StateEntered"))
    assert values.usage is not None and values.usage.state_transitions == entered
    assert values.lambda_invocations == sum(
        1 for e in events if e["type"] in ("LambdaFunctionScheduled", "TaskScheduled")
    )
    assert values.billed_unit == "state transitions"
    assert values.invocation_timing == "recorded"
    assert values.overhead_ratio is not None and 0.0 <= values.overhead_ratio < 1.0
    assert values.cost["orchestration"] == pytest.approx(Decimal(entered) * Decimal("0.025") / 1000)
    assert values.cost["vision"] == 0
    assert values.vision_engine == "ocr:rapidocr"
    assert sum(values.cost.values()) == values.cost_total_usd


def test_durable_values_come_from_its_history(dynamodb) -> None:
    run = Run(LDF, dynamodb)
    run.answer_history()
    values = run.collector().collect(LDF, run.upload_id).metrics  # type: ignore[union-attr]
    events = run.data["history"]
    assert values.lambda_invocations == sum(
        1 for e in events if e["EventType"] == "InvocationCompleted"
    )
    assert values.invocation_timing == "estimated"
    assert run.lambda_client.requests[0]["IncludeExecutionData"] is True
    usage = values.usage
    assert usage is not None
    assert usage.durable_operations == values.billed_units
    assert usage.durable_bytes_written > 0
    assert usage.durable_retention_days == 7
    assert usage.state_transitions == 0
    assert values.cost_items["durable operations"].quantity == values.billed_units
    assert set(values.step_seconds) >= {"extract-albums", "price-albums", "store-results"}
    assert values.retry_billed_units == sum((values.retries or {}).values())


def test_running_execution_is_not_collected(dynamodb) -> None:
    run = Run(SF, dynamodb)
    unfinished = run.data["history"][:20]
    run.answer_history(events=unfinished)
    assert run.collector().collect(SF, run.upload_id) is None
    assert "collected_at" not in run.stored()
    assert run.samples("ActiveDuration") == 0


def test_force_collects_again(dynamodb) -> None:
    run = Run(LDF, dynamodb)
    run.answer_history(times=2)
    collector = run.collector()
    collector.collect(LDF, run.upload_id)
    forced = collector.collect(LDF, run.upload_id, force=True)
    assert forced is not None and forced.written
    assert run.samples("ActiveDuration") == 2


def test_unknown_upload_is_not_collected(dynamodb) -> None:
    run = Run(SF, dynamodb)
    run.answer_history(times=0)
    assert run.collector().collect(SF, "0" * 24) is None


def test_workflow_metric_names_are_all_counted(repo, clock, upload) -> None:
    metrics = RecordingMetrics()
    repo.claim_upload(SF, upload, "x", clock.now())
    upload_id = upload.upload_id
    review = ReviewResult(outcome=ReviewState.APPROVED, albums=six_albums(), decided_at=clock.now())
    pricing = ScriptedPricing()
    estimates = [pricing.estimate(album) for album in review.albums]
    request = StoreRequest(
        pattern=SF, upload_id=upload_id, execution_id="x", review=review, estimates=estimates
    )
    store_results(request, repo=repo, metrics=metrics, clock=clock)
    record_failure(SF, None, "E", "cause", repo=repo, metrics=metrics, clock=clock)
    emitted = {name for _, values in metrics.emitted for name in values}
    assert emitted == set(WORKFLOW_METRICS)


def test_metrics_collect_without_a_system_says_so(tmp_path, capsys) -> None:
    assert main(["metrics", "collect", "--env-file", str(tmp_path / "missing.env")]) == 2
    assert "does not exist" in capsys.readouterr().err
