"""Status-change events and their rules: AWS's documented samples against our patterns.

The samples (tests/events/status_change_*.json) are copied from the Step Functions Developer
Guide, "Automating Step Functions event delivery with EventBridge", and the Lambda Developer
Guide, "Monitoring durable functions". Patterns are matched with moto's EventBridge matcher, the
one the local cloud's rules use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from handlers.domain.status_change import (
    StatusChangeError,
    durable_status_pattern,
    parse_status_change,
    started_upload,
    step_functions_status_pattern,
)
from handlers.domain.tenant import PATTERNS, Pattern

EVENTS = Path(__file__).parents[1] / "events"
SF_SAMPLE = "status_change_sf_succeeded.json"
LDF_SAMPLE = "status_change_ldf_running.json"
STATE_MACHINE = "arn:aws:states:us-east-1:012345678912:stateMachine:state-machine"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:my-function"


def sample(name: str, **detail: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    event["detail"] |= detail
    return event


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    matched: bool = EventPattern.load(json.dumps(pattern)).matches_event(event)  # type: ignore[arg-type]
    return matched


def test_step_functions_sample_parses_to_its_execution() -> None:
    status = parse_status_change(sample(SF_SAMPLE))
    assert status.pattern is Pattern.STEP_FUNCTIONS
    assert status.execution_arn.endswith(":execution:state-machine-name:execution-name")
    assert status.status == "SUCCEEDED"
    assert status.ended


def test_durable_sample_parses_to_its_execution() -> None:
    status = parse_status_change(sample(LDF_SAMPLE))
    assert status.pattern is Pattern.DURABLE
    assert "/durable-execution/" in status.execution_arn
    assert (status.status, status.ended) == ("RUNNING", False)
    assert parse_status_change(sample(LDF_SAMPLE, status="STOPPED")).ended


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
def test_step_functions_rule_matches_terminal_statuses_of_its_state_machine(status) -> None:
    rule = step_functions_status_pattern(STATE_MACHINE)
    assert matches(rule, sample(SF_SAMPLE, status=status))
    assert not matches(rule, sample(SF_SAMPLE, status=status, stateMachineArn=STATE_MACHINE + "2"))


def test_step_functions_rule_ignores_running() -> None:
    assert not matches(
        step_functions_status_pattern(STATE_MACHINE), sample("status_change_sf_running.json")
    )


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"])
def test_durable_rule_matches_any_version_of_its_function_only(status) -> None:
    rule = durable_status_pattern(FUNCTION)
    # The sample's functionArn carries the version that ran (":2").
    assert matches(rule, sample(LDF_SAMPLE, status=status))
    assert not matches(rule, sample(LDF_SAMPLE, status=status, functionArn=FUNCTION + "-other:2"))
    assert not matches(rule, sample(LDF_SAMPLE))  # RUNNING


def test_an_upload_event_is_no_status_change() -> None:
    with pytest.raises(StatusChangeError):
        parse_status_change(json.loads((EVENTS / "s3_object_created_aws.json").read_text()))
    with pytest.raises(StatusChangeError):
        parse_status_change(
            {
                "source": "aws.states",
                "detail-type": "Step Functions Execution Status Change",
                "detail": {},
            }
        )


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_upload_comes_from_the_input_the_history_starts_with(pattern) -> None:
    recorded = json.loads((EVENTS / f"collect_{pattern.value}.json").read_text())
    meta = next(item for item in recorded["items"] if item["sk"]["S"] == "META")
    assert started_upload(pattern, recorded["history"]) == meta["upload_id"]["S"]
    assert started_upload(pattern, []) is None
    assert started_upload(pattern, recorded["history"][1:]) is None
