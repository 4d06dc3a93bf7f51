"""Usage read from recorded histories of real local runs, and DynamoDB units from item sizes."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML (via moto[server]) ships no types

from handlers.config import DEFAULT_LAMBDA_ARCHITECTURE, DEFAULT_LAMBDA_MEMORY_MB
from handlers.domain.names import Step
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import moment
from handlers.domain.usage import (
    DURABLE_HANDLER,
    Invocation,
    TableWrite,
    Usage,
    durable_usage,
    item_size,
    step_functions_usage,
    workflow_read_units,
    workflow_writes,
)
from handlers.domain.workflow_metrics import StoredUsage

ROOT = Path(__file__).parents[2]
EVENTS = ROOT / "tests" / "events"


def load(name: str) -> list[dict[str, Any]]:
    return json.loads((EVENTS / name).read_text())


def test_step_functions_usage_counts_every_lambda_invocation() -> None:
    usage = step_functions_usage(load("history_sf_happy.json"))
    names = [invocation.name for invocation in usage.invocations]
    # extract, the review request (invoke.waitForTaskToken), six agents, store
    assert names == [Step.EXTRACT, Step.REVIEW, *["price-album"] * 6, Step.STORE]
    assert usage.lambda_requests == 9
    assert usage.timing == "recorded"
    assert usage.extract_attempts == 1
    assert usage.billed_units == 11


def test_step_functions_usage_bills_rounded_milliseconds() -> None:
    usage = step_functions_usage(load("history_sf_happy.json"))
    # Started -> end, in ms: extract 12.636->14.382 = 1746; review TaskStarted 14.402 ->
    # TaskSubmitted 14.458 = 56; agents 393, 360, 398, 400, 394, 393; store 16.453->16.624 = 171
    assert usage.billed_ms == 1746 + 56 + 393 + 360 + 398 + 400 + 394 + 393 + 171
    # 4311 ms at 1024 MB = 4.311 GB-s; at 512 MB half that
    assert usage.gb_seconds(1024) == Decimal("4.311")
    assert usage.gb_seconds(512) == Decimal("2.1555")


def test_step_functions_work_is_the_critical_path_outside_the_review() -> None:
    usage = step_functions_usage(load("history_sf_happy.json"))
    # extract 1.746 + slowest agent (slot 3) 0.400 + store 0.171; the review's invoke is in
    # the human wait, the five faster agents run beside the slowest
    assert usage.work_seconds == pytest.approx(1.746 + 0.400 + 0.171)


def _sf_event(number: int, kind: str, second: float, **details: Any) -> dict[str, Any]:
    """One Step Functions history event, chained to the one before it."""
    return {
        "id": number,
        "previousEventId": number - 1,
        "type": kind,
        "timestamp": f"2026-01-01T00:00:{second:06.3f}+00:00",
        **details,
    }


def test_step_functions_usage_counts_a_retried_task_twice() -> None:
    entered = {"stateEnteredEventDetails": {"name": "extract-albums"}}
    events = [
        _sf_event(1, "ExecutionStarted", 0.0),
        _sf_event(2, "TaskStateEntered", 0.1, **entered),
        _sf_event(3, "LambdaFunctionScheduled", 0.1),
        _sf_event(4, "LambdaFunctionStarted", 0.2),
        _sf_event(5, "LambdaFunctionFailed", 0.7),
        _sf_event(6, "LambdaFunctionScheduled", 2.7),
        _sf_event(7, "LambdaFunctionStarted", 2.8),
        _sf_event(8, "LambdaFunctionSucceeded", 3.0),
    ]
    usage = step_functions_usage(events)
    # two attempts: 0.2->0.7 (500 ms) and 2.8->3.0 (200 ms); the 2 s backoff is not work
    assert [invocation.billed_ms for invocation in usage.invocations] == [500, 200]
    assert usage.work_seconds == pytest.approx(0.7)
    assert usage.extract_attempts == 2
    # one state entered plus one retry
    assert usage.billed_units == 2


def test_durable_usage_estimates_invocations_without_details() -> None:
    usage = durable_usage(load("history_ldf_happy.json"))
    assert usage.timing == "estimated"
    assert [invocation.name for invocation in usage.invocations] == [DURABLE_HANDLER] * 2
    # first: ExecutionStarted 12.620932 -> InvocationCompleted 15.578945 = 2958.013 ms -> 2959;
    # resume: the callback (16.328079) only wakes it; the handler's first event is the review
    # context closing at 16.350006 -> InvocationCompleted 16.737716 = 387.710 ms -> 388
    assert [invocation.billed_ms for invocation in usage.invocations] == [2959, 388]
    assert usage.billed_units == 13


def test_durable_work_is_top_level_steps_plus_slowest_agent() -> None:
    usage = durable_usage(load("history_ldf_happy.json"))
    # extract 12.906630->15.462675 = 2.556045; store 16.576420->16.636799 = 0.060379;
    # slowest agents (5 and 6): 16.451668->16.467916 = 0.016248; the review submitter runs
    # inside the review's context, in the human wait
    assert usage.work_seconds == pytest.approx(2.556045 + 0.060379 + 0.016248)
    assert usage.extract_attempts == 1


def test_durable_usage_uses_recorded_invocation_times() -> None:
    events: list[dict[str, Any]] = [
        {"EventType": "ExecutionStarted", "Id": "x", "EventTimestamp": "2026-01-01T00:00:00+00:00"},
        {
            "EventType": "InvocationCompleted",
            "EventTimestamp": "2026-01-01T00:00:01.500+00:00",
            "InvocationCompletedDetails": {
                "StartTimestamp": "2026-01-01T00:00:00.250+00:00",
                "EndTimestamp": "2026-01-01T00:00:01.4995+00:00",
            },
        },
    ]
    usage = durable_usage(events)
    assert usage.timing == "recorded"
    # 0.250 -> 1.4995 = 1249.5 ms, billed 1250
    assert [invocation.billed_ms for invocation in usage.invocations] == [1250]


def test_durable_step_retries_count_each_attempt_not_the_backoff() -> None:
    def event(kind: str, at: str) -> dict[str, Any]:
        return {"EventType": kind, "Id": "s1", "Name": "extract-albums", "EventTimestamp": at}

    events = [
        {"EventType": "ExecutionStarted", "Id": "x", "EventTimestamp": "2026-01-01T00:00:00+00:00"},
        event("StepStarted", "2026-01-01T00:00:00.100+00:00"),
        event("StepFailed", "2026-01-01T00:00:00.400+00:00"),
        event("StepStarted", "2026-01-01T00:00:02.400+00:00"),
        event("StepSucceeded", "2026-01-01T00:00:02.500+00:00"),
    ]
    usage = durable_usage(events)
    # 0.3 s + 0.1 s of work; the 2 s between attempts is backoff
    assert usage.work_seconds == pytest.approx(0.4)
    assert usage.extract_attempts == 2


def test_durable_checkpoint_bytes_sum_every_payload() -> None:
    events = [
        {
            "EventType": "ExecutionStarted",
            "Id": "x",
            "EventTimestamp": "2026-01-01T00:00:00+00:00",
            "ExecutionStartedDetails": {"Input": {"Payload": "abc"}},
        },
        {
            "EventType": "StepSucceeded",
            "Id": "s",
            "EventTimestamp": "2026-01-01T00:00:01+00:00",
            "StepSucceededDetails": {"Result": {"Payload": "é", "Truncated": False}},
        },
        {
            "EventType": "StepFailed",
            "Id": "t",
            "EventTimestamp": "2026-01-01T00:00:02+00:00",
            "StepFailedDetails": {"Error": {"Payload": {"ErrorType": "E"}}},
        },
    ]
    # "abc" 3 bytes + "é" 2 bytes (UTF-8) + '{"ErrorType": "E"}' 18 bytes
    assert durable_usage(events).checkpoint_bytes == 3 + 2 + 18


def test_invocation_bills_at_least_one_millisecond() -> None:
    at = moment("2026-01-01T00:00:00+00:00")
    assert Invocation("x", at, at).billed_ms == 1


def test_item_size_follows_dynamodb_rules() -> None:
    item: dict[str, dict[str, Any]] = {
        "pk": {"S": "sf#UPLOAD#abc"},
        "n": {"N": "123.45"},
        "b": {"BOOL": True},
        "l": {"L": [{"S": "ab"}, {"N": "7"}]},
        "m": {"M": {"k": {"S": "v"}}},
    }
    # pk: 2 + 13; n: 1 + (5 digits -> 3 bytes + 1); b: 1 + 1;
    # l: 1 + 3 + (1 + 2) + (1 + 2); m: 1 + 3 + (1 + 1 + 1)
    assert item_size(item) == 15 + 5 + 2 + 10 + 7


def _item(size: int) -> dict[str, Any]:
    """An item of exactly ``size`` bytes: name "a" (1 byte) plus a string value."""
    return {"a": {"S": "x" * (size - 1)}}


def test_completed_workflow_writes_follow_the_repository() -> None:
    items = {"META": _item(600), "REVIEW": _item(1500), "METRICS": _item(200)}
    items |= {f"ALBUM#{slot}": _item(300) for slot in range(1, 7)}
    writes = workflow_writes(items, "COMPLETED", "APPROVED")
    assert [(w.operation, w.item) for w in writes][:3] == [
        ("claim", "META"),
        ("extract", "META"),
        ("extract", "ALBUM#1"),
    ]
    units = sum(write.units for write in writes)
    # claim META: 1 KB + 1 index put = 2
    # extract (transaction x2): META 2 + index key change 2x1 = 4; six albums 6 x 2 = 12
    # open review: REVIEW 2 KB (1500 B) + index put 2 = 4
    # resolve review: 2 + index key change 2x2 = 6
    # store (transaction x2): META 2 + 2 = 4; REVIEW 4 + index 2 = 6; albums 12; METRICS 2
    assert units == 2 + (4 + 12) + 4 + 6 + (4 + 6 + 12 + 2)


def test_rejected_upload_without_review_is_claim_and_status() -> None:
    writes = workflow_writes({"META": _item(100)}, "REJECTED", None)
    assert writes == [
        TableWrite("claim", "META", 100, index_writes=1),
        TableWrite("mark-status", "META", 100, index_writes=2),
    ]
    # 1 + 1 index, then 1 + 2 index
    assert sum(write.units for write in writes) == 2 + 3


def test_read_units_only_for_a_persons_decision() -> None:
    review = {"REVIEW": _item(5000)}
    # a person's decision reads the review once, strongly consistent: 5000 B -> 2 x 4 KB
    assert workflow_read_units(review, "APPROVED") == 2
    assert workflow_read_units(review, "TIMED_OUT") == 0
    assert workflow_read_units({}, None) == 0


def test_lambda_defaults_match_the_stack() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert declared["lambdaMemoryMb"]["default"] == DEFAULT_LAMBDA_MEMORY_MB
    assert declared["lambdaArchitecture"]["default"] == DEFAULT_LAMBDA_ARCHITECTURE


def test_durable_resume_starts_when_the_handler_writes_not_when_woken() -> None:
    def event(kind: str, second: float) -> dict[str, Any]:
        return {
            "EventType": kind,
            "Id": "x",
            "EventTimestamp": f"2026-01-01T00:00:{second:06.3f}+00:00",
        }

    events = [
        event("ExecutionStarted", 0.0),
        event("InvocationCompleted", 1.0),
        event("CallbackSucceeded", 5.0),
        event("ContextSucceeded", 20.0),
        event("InvocationCompleted", 20.5),
    ]
    # 0 -> 1.0 s; the callback at 5 s woke it, the handler first wrote at 20 s: 20 -> 20.5 s
    assert [i.billed_ms for i in durable_usage(events).invocations] == [1000, 500]


def test_stored_usage_has_every_usage_field_but_the_pattern() -> None:
    # The stored form is written beside the dataclass; this keeps the two from drifting apart.
    wanted = {spec.name for spec in dataclasses.fields(Usage)} - {"pattern"}
    assert set(StoredUsage.model_fields) == wanted
    usage = Usage(pattern=Pattern.DURABLE, durable_operations=13, lambda_gb_seconds=Decimal("1.5"))
    assert StoredUsage.of(usage).usage(Pattern.DURABLE) == usage
