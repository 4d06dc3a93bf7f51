"""Reads each orchestrator's execution history, whole, for ``handlers.domain.timeline``.

Works against AWS and the local cloud alike: the durable history comes from the Lambda API
(``GetDurableExecutionHistory``), the Step Functions one from ``GetExecutionHistory``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.domain.tenant import Pattern
from handlers.domain.timeline import Timeline, durable_timeline, step_functions_timeline

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_stepfunctions import SFNClient

MAX_PAGES = 50
"""A history longer than this many pages is not one of ours; stop rather than loop."""


def step_functions_history(sfn: SFNClient, execution_arn: str) -> list[dict[str, Any]]:
    """Every event of one state machine execution, oldest first."""
    events: list[dict[str, Any]] = []
    paginator = sfn.get_paginator("get_execution_history")
    for page in paginator.paginate(executionArn=execution_arn, PaginationConfig={"MaxItems": 5000}):
        events.extend(dict(event) for event in page["events"])
    return events


def durable_history(
    client: LambdaClient, execution_arn: str, *, include_data: bool = False
) -> list[dict[str, Any]]:
    """Every event of one durable execution, oldest first.

    ``include_data`` asks for the payloads too: the cost model sizes checkpointed data by them.
    """
    events: list[dict[str, Any]] = []
    marker: str | None = None
    for _ in range(MAX_PAGES):
        request: dict[str, Any] = {"DurableExecutionArn": execution_arn}
        if include_data:
            request["IncludeExecutionData"] = True
        if marker:
            request["Marker"] = marker
        page = client.get_durable_execution_history(**request)
        events.extend(dict(event) for event in page.get("Events", []))
        marker = page.get("NextMarker")
        if not marker:
            break
    return events


def read_timeline(
    pattern: Pattern, execution_arn: str, *, sfn: SFNClient, lambda_client: LambdaClient
) -> Timeline | None:
    """The timeline of one execution, or None when its history is still empty."""
    if pattern is Pattern.STEP_FUNCTIONS:
        events = step_functions_history(sfn, execution_arn)
        return step_functions_timeline(events) if events else None
    events = durable_history(lambda_client, execution_arn)
    return durable_timeline(events) if events else None
