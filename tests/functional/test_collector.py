"""The collector Lambda on both status-change events, on recorded runs.

The event fixtures are AWS's documented samples (tests/events/status_change_*.json): the Step
Functions Developer Guide, "Automating Step Functions event delivery with EventBridge", and the
Lambda Developer Guide, "Monitoring durable functions" (which shows a RUNNING event and says a
terminal one adds ``endTimestamp``). Only the ARNs are replaced by the recorded run's. The table
and CloudWatch are moto; the histories are the recorded ones (see test_metrics_collector).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from handlers.adapters.metrics_collector import MetricsCollector
from handlers.collector import handler
from handlers.config import Settings
from handlers.domain.errors import TransientError
from handlers.domain.events import parse_upload_event
from handlers.domain.models import WorkflowStatus
from handlers.domain.tenant import Pattern
from handlers.wiring import Dependencies, use
from tests.conftest import T0, FixedClock
from tests.functional.conftest import TABLE
from tests.functional.powertools_lines import captured_lines
from tests.functional.test_metrics_collector import RecordedDurableHistory, Run, _dated

EVENTS = Path(__file__).parents[1] / "events"
SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE


@dataclass(frozen=True)
class Context:
    """The Lambda context attributes Powertools reads."""

    function_name: str = "albumreg-collector"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:albumreg-collector"
    aws_request_id: str = "c0ffee00-0000-4000-8000-000000000001"


def sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return document


def status_change(run: Run, status: str = "SUCCEEDED") -> dict[str, Any]:
    """AWS's sample event for the run's pattern, naming the run's execution."""
    if run.pattern is SF:
        event = sample("status_change_sf_succeeded.json")
        event["detail"] |= {"executionArn": run.execution_arn, "status": status}
        event["resources"] = [run.execution_arn]
        return event
    event = sample("status_change_ldf_running.json")
    event["detail"] |= {
        "durableExecutionArn": run.execution_arn,
        "status": status,
        "endTimestamp": "2025-11-20T13:09:01.120Z",
    }
    return event


def invoke(run: Run, event: dict[str, Any]) -> dict[str, Any]:
    deps = Dependencies(Settings(table_name=TABLE), collector=run.collector())
    with use(deps):
        result: dict[str, Any] = handler(copy.deepcopy(event), Context())
        return result


@pytest.mark.parametrize("pattern", [SF, LDF])
def test_collector_writes_the_metrics_of_the_ended_execution(dynamodb, pattern) -> None:
    run = Run(pattern, dynamodb)
    run.answer_history()

    with captured_lines() as lines:
        result = invoke(run, status_change(run))

    assert result == {
        "collected": True,
        "written": True,
        "pattern": pattern.value,
        "upload_id": run.upload_id,
    }
    stored = run.stored()
    assert "collected_at" in stored
    assert stored["cold_start_source"] == {"S": "not measured"}
    assert "cold_starts" not in stored
    assert run.samples("ActiveDuration") == 1
    measured = next(line for line in lines if line["message"] == "workflow measured")
    assert measured["upload_id"] == run.upload_id
    assert measured["pattern"] == pattern.value
    assert measured["execution_id"] == run.execution_arn
    assert measured["cold_start"] in (True, False)


@pytest.mark.parametrize("pattern", [SF, LDF])
def test_a_redelivered_event_changes_nothing(dynamodb, pattern) -> None:
    # GIVEN an event already handled once
    run = Run(pattern, dynamodb)
    run.answer_history(times=2)
    event = status_change(run)
    invoke(run, event)
    first = run.stored()

    # WHEN EventBridge delivers it again
    again = invoke(run, event)

    # THEN the conditional write refuses, the item is as it was, nothing is published twice
    assert again["written"] is False
    assert run.stored() == first
    assert run.samples("ActiveDuration") == 1


@pytest.mark.parametrize("pattern", [SF, LDF])
def test_a_running_execution_is_left_alone(dynamodb, pattern) -> None:
    run = Run(pattern, dynamodb)
    run.answer_history(times=0)
    result = invoke(run, status_change(run, status="RUNNING"))
    assert result == {"collected": False, "status": "RUNNING"}
    assert "collected_at" not in run.stored()


def test_an_execution_that_does_not_own_its_upload_is_not_measured(dynamodb) -> None:
    # A duplicate delivery's execution found the upload claimed by another and ended.
    run = Run(SF, dynamodb)
    run.answer_history()
    event = status_change(run)
    event["detail"]["executionArn"] = run.execution_arn + "-duplicate"
    assert invoke(run, event) == {"collected": False, "status": "SUCCEEDED"}
    assert "collected_at" not in run.stored()


def test_a_history_without_its_end_yet_is_retried(dynamodb) -> None:
    # The event can arrive before the history shows the end: Lambda's async retry tries again.
    run = Run(SF, dynamodb)
    run.answer_history(events=run.data["history"][:20])
    with pytest.raises(TransientError):
        invoke(run, status_change(run))
    assert "collected_at" not in run.stored()


def test_other_events_are_refused(dynamodb) -> None:
    run = Run(SF, dynamodb)
    run.answer_history(times=0)
    upload = sample("s3_object_created_aws.json")
    with pytest.raises(ValueError, match="unexpected event"):
        invoke(run, upload)


@pytest.mark.parametrize("pattern", [SF, LDF])
def test_a_failed_workflow_gets_its_metrics_item_too(dynamodb, repo, pattern) -> None:
    # GIVEN a workflow whose extract step failed for good (a recorded local run's history)
    history = json.loads((EVENTS / f"history_{pattern.value}_extract_failure.json").read_text())
    started = history[0]
    raw = (
        started["executionStartedEventDetails"]["input"]
        if pattern is SF
        else started["ExecutionStartedDetails"]["Input"]["Payload"]
    )
    upload = parse_upload_event(json.loads(raw))
    execution_arn = f"{pattern.value}-failed-execution"
    repo.claim_upload(pattern, upload, execution_arn, T0)
    repo.mark_status(pattern, upload.upload_id, WorkflowStatus.FAILED, T0, error="E", cause="c")
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    durable = RecordedDurableHistory()
    dated = [_dated(event) for event in history]
    if pattern is SF:
        stub = Stubber(sfn)
        stub.add_response("get_execution_history", {"events": dated})
        stub.activate()
    else:
        durable.answers.append(dated)
    collector = MetricsCollector(
        dynamodb=dynamodb,
        table_name=TABLE,
        sfn=sfn,
        lambda_client=durable,  # type: ignore[arg-type]
        settings=Settings(table_name=TABLE),
        clock=FixedClock(),
    )

    # WHEN its execution's failure is announced
    collected = collector.collect_execution(pattern, execution_arn)

    # THEN its METRICS item is written, with the failure's status and what it cost
    assert collected is not None and collected.written
    assert collected.metrics.workflow_status is WorkflowStatus.FAILED
    assert collected.metrics.execution_status == "FAILED"
    assert (collected.metrics.cost_total_usd or 0) > 0
