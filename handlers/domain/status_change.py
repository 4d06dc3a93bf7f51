"""Execution status-change events: which execution of which pattern ended, and the rules for them.

Step Functions publishes ``Step Functions Execution Status Change`` (source ``aws.states``) and
Lambda ``Durable Execution Status Change`` (source ``aws.lambda``) to the default EventBridge
bus whenever an execution changes status (Step Functions guide: "Automating Step Functions event
delivery with EventBridge"; Lambda guide: "Monitoring durable functions"). The stack's rules and
the local cloud's are built from the patterns here, the local cloud publishes events of the same
shape, and the collector parses them here. Pure: no boto3, no orchestrator SDK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handlers.domain.errors import InvalidUploadError
from handlers.domain.events import parse_upload_event
from handlers.domain.tenant import Pattern

STEP_FUNCTIONS_SOURCE = "aws.states"
STEP_FUNCTIONS_DETAIL_TYPE = "Step Functions Execution Status Change"
DURABLE_SOURCE = "aws.lambda"
DURABLE_DETAIL_TYPE = "Durable Execution Status Change"

TERMINAL_STATUSES: dict[Pattern, tuple[str, ...]] = {
    Pattern.STEP_FUNCTIONS: ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"),
    Pattern.DURABLE: ("SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"),
}
"""The statuses an execution ends in, as each service spells them (RUNNING is the only other)."""


class StatusChangeError(ValueError):
    """The event is not one of the two status-change events this system subscribes to."""


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    source: str
    detail_type: str = Field(alias="detail-type")
    detail: dict[str, Any]


class _StepFunctionsDetail(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    executionArn: str  # noqa: N815 - the event's own field names
    stateMachineArn: str  # noqa: N815
    status: str


class _DurableDetail(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    durableExecutionArn: str  # noqa: N815 - the event's own field names
    functionArn: str  # noqa: N815
    status: str


class ExecutionStatus(BaseModel):
    """One execution's new status, whichever orchestrator ran it.

    Attributes:
        pattern: ``sf`` for Step Functions, ``ldf`` for the durable function.
        execution_arn: the execution (state machine execution or durable execution ARN).
        status: the status as the service spells it.
    """

    model_config = ConfigDict(frozen=True)

    pattern: Pattern
    execution_arn: str
    status: str

    @property
    def ended(self) -> bool:
        """True for a terminal status: the history is complete and can be measured."""
        return self.status in TERMINAL_STATUSES[self.pattern]


def parse_status_change(event: Mapping[str, Any]) -> ExecutionStatus:
    """The execution and status a status-change event announces.

    Raises:
        StatusChangeError: another kind of event, or one missing the fields AWS documents.
    """
    try:
        envelope = _Event.model_validate(event)
        kind = (envelope.source, envelope.detail_type)
        if kind == (STEP_FUNCTIONS_SOURCE, STEP_FUNCTIONS_DETAIL_TYPE):
            sf = _StepFunctionsDetail.model_validate(envelope.detail)
            return ExecutionStatus(
                pattern=Pattern.STEP_FUNCTIONS, execution_arn=sf.executionArn, status=sf.status
            )
        if kind == (DURABLE_SOURCE, DURABLE_DETAIL_TYPE):
            durable = _DurableDetail.model_validate(envelope.detail)
            return ExecutionStatus(
                pattern=Pattern.DURABLE,
                execution_arn=durable.durableExecutionArn,
                status=durable.status,
            )
    except ValidationError as exc:
        raise StatusChangeError(f"not a status-change event AWS documents: {exc}") from exc
    raise StatusChangeError(f"unexpected event {kind[0]!r} / {kind[1]!r}")


def step_functions_status_pattern(state_machine_arn: str) -> dict[str, Any]:
    """EventBridge pattern: this state machine's executions reaching a terminal status."""
    return {
        "source": [STEP_FUNCTIONS_SOURCE],
        "detail-type": [STEP_FUNCTIONS_DETAIL_TYPE],
        "detail": {
            "stateMachineArn": [state_machine_arn],
            "status": list(TERMINAL_STATUSES[Pattern.STEP_FUNCTIONS]),
        },
    }


def durable_status_pattern(function_arn: str) -> dict[str, Any]:
    """EventBridge pattern: this function's durable executions reaching a terminal status.

    The event's ``functionArn`` carries the version that ran (``...:function:NAME:7``), so the
    rule matches the unqualified ARN as a prefix, colon included: ``NAME-other`` never matches.
    """
    return {
        "source": [DURABLE_SOURCE],
        "detail-type": [DURABLE_DETAIL_TYPE],
        "detail": {
            "functionArn": [{"prefix": f"{function_arn}:"}],
            "status": list(TERMINAL_STATUSES[Pattern.DURABLE]),
        },
    }


def started_upload(pattern: Pattern, events: Sequence[Mapping[str, Any]]) -> str | None:
    """The upload an execution worked on, from the input its history starts with.

    Both orchestrators record the execution's input (the S3 event) in their first event; None
    when the history is empty or its input names no valid upload (nothing was recorded then).
    """
    if not events:
        return None
    first = events[0]
    if pattern is Pattern.STEP_FUNCTIONS:
        raw = first.get("executionStartedEventDetails", {}).get("input")
    else:
        raw = first.get("ExecutionStartedDetails", {}).get("Input", {}).get("Payload")
    if not isinstance(raw, str):
        return None
    try:
        document = json.loads(raw)
        return parse_upload_event(document).upload_id if isinstance(document, dict) else None
    except (ValueError, InvalidUploadError):
        return None
