"""Retries and retention billed exactly, from crafted histories: what each orchestrator's pricing
rules say a retry, a retried invocation, a long wait and the final result cost."""

from __future__ import annotations

import importlib
import pkgutil
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

import handlers
from handlers.adapters.aws_errors import is_transient, transient_aws_errors
from handlers.domain.cost import US_EAST_1, workflow_cost
from handlers.domain.errors import TransientError
from handlers.domain.names import PRICE_ONE_ALBUM, Step
from handlers.domain.policy import RETRYABLE_ERRORS
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import durable_timeline
from handlers.domain.usage import Retries, Usage, durable_usage, step_functions_usage

GB = 1024**3


def at(second: float) -> str:
    return f"2026-01-01T00:00:{second:06.3f}+00:00"


# --- retention: the execution's own days count too ---


def test_durable_retention_is_execution_plus_retention_days_in_30_day_months() -> None:
    # GIVEN 1 GB written by an execution that waited 16 days for its review, kept 14 days after
    usage = Usage(
        pattern=Pattern.DURABLE,
        durable_bytes_written=GB,
        durable_execution_days=Decimal(16),
        durable_retention_days=14,
    )
    retained = workflow_cost(usage, US_EAST_1).by_item()["durable data retained"]
    # THEN 1 GB x (16 + 14) days / 30 = 1 GB-month, at the table's price per GB-month
    assert retained == 1 * Decimal(16 + 14) / 30 * US_EAST_1.durable_gb_month_retained.usd
    assert retained == US_EAST_1.durable_gb_month_retained.usd


def test_durable_retention_grows_with_the_review_wait() -> None:
    def retained(days: Decimal) -> Decimal:
        usage = Usage(
            pattern=Pattern.DURABLE,
            durable_bytes_written=GB,
            durable_execution_days=days,
            durable_retention_days=7,
        )
        return workflow_cost(usage, US_EAST_1).by_item()["durable data retained"]

    # a minute's wait is billed nearly as the retention alone; a week's wait doubles it
    price = US_EAST_1.durable_gb_month_retained.usd
    assert retained(Decimal(1) / 1440) == (Decimal(1) / 1440 + 7) / 30 * price
    assert retained(Decimal(7)) == 2 * (Decimal(7) / 30 * price)


def test_durable_bytes_written_leave_out_the_final_result() -> None:
    events: list[dict[str, Any]] = [
        {
            "EventType": "ExecutionStarted",
            "Id": "x",
            "EventTimestamp": at(0),
            "ExecutionStartedDetails": {"Input": {"Payload": "abc"}},
        },
        {
            "EventType": "StepSucceeded",
            "Id": "s",
            "EventTimestamp": at(1),
            "StepSucceededDetails": {"Result": {"Payload": "12345"}},
        },
        {
            "EventType": "ExecutionSucceeded",
            "Id": "x",
            "EventTimestamp": at(2),
            "ExecutionSucceededDetails": {"Result": {"Payload": "the answer, returned"}},
        },
    ]
    assert durable_usage(events).checkpoint_bytes == len("abc") + len("12345")


# --- Step Functions: a retry is one more transition and one more invocation ---


def _sf(number: int, kind: str, second: float, previous: int | None = None, **details: Any):
    return {
        "id": number,
        "previousEventId": number - 1 if previous is None else previous,
        "type": kind,
        "timestamp": at(second),
        **details,
    }


def _entered(name: str) -> dict[str, Any]:
    return {"stateEnteredEventDetails": {"name": name}}


def test_step_functions_retries_come_from_failed_attempts_in_the_history() -> None:
    # GIVEN two interleaved Map iterations: one agent retried twice then caught, one fine
    events = [
        _sf(1, "ExecutionStarted", 0.0),
        _sf(2, "MapStateEntered", 0.1, **_entered(Step.PRICE)),
        _sf(3, "TaskStateEntered", 0.2, **_entered(PRICE_ONE_ALBUM)),
        _sf(4, "TaskStateEntered", 0.2, previous=2, **_entered(PRICE_ONE_ALBUM)),
        _sf(5, "LambdaFunctionScheduled", 0.3, previous=3),
        _sf(6, "LambdaFunctionScheduled", 0.3, previous=4),
        _sf(7, "LambdaFunctionStarted", 0.4, previous=5),
        _sf(8, "LambdaFunctionStarted", 0.4, previous=6),
        _sf(9, "LambdaFunctionFailed", 0.5, previous=7),
        _sf(10, "LambdaFunctionSucceeded", 0.6, previous=8),
        _sf(11, "LambdaFunctionScheduled", 1.5, previous=9),
        _sf(12, "LambdaFunctionStarted", 1.6),
        _sf(13, "LambdaFunctionFailed", 1.7),
        _sf(14, "LambdaFunctionScheduled", 3.7),
        _sf(15, "LambdaFunctionStarted", 3.8),
        _sf(16, "LambdaFunctionFailed", 3.9),
        _sf(17, "PassStateEntered", 4.0, **_entered("price-album-failed")),
    ]
    usage = step_functions_usage(events)
    retries = usage.retries
    assert (dict(retries.steps), retries.invocation_retries, retries.lambda_invocations) == (
        {PRICE_ONE_ALBUM: 2},
        0,
        2,
    )
    # measured: failed at 0.5, rescheduled at 1.5; failed at 1.7, rescheduled at 3.7
    assert retries.backoff_seconds == pytest.approx(1.0 + 2.0)
    # 4 states entered + 2 retries, each retry one more transition
    assert usage.billed_units == 4 + usage.retries.billed_units == 6


# --- durable: a step retry is one more operation; so is a retried invocation ---


def _step(kind: str, second: float, op: str = "a1", name: str = "price-album-1", **more: Any):
    return {"EventType": kind, "Id": op, "Name": name, "EventTimestamp": at(second), **more}


def _failed(second: float, attempt: int, delay: int | None, op: str = "a1") -> dict[str, Any]:
    retry = {"CurrentAttempt": attempt} | ({"NextAttemptDelaySeconds": delay} if delay else {})
    details = {
        "Error": {"Payload": {"ErrorType": "PricingUnavailableError"}},
        "RetryDetails": retry,
    }
    return _step("StepFailed", second, op, StepFailedDetails=details)


def _invocation(second: float, error: bool = False) -> dict[str, Any]:
    event: dict[str, Any] = {"EventType": "InvocationCompleted", "EventTimestamp": at(second)}
    if error:
        event["InvocationCompletedDetails"] = {
            "StartTimestamp": at(second - 0.5),
            "EndTimestamp": at(second),
            "RequestId": "r",
            "Error": {"Payload": {"ErrorType": "Sandbox.Timedout"}},
        }
    return event


def test_durable_retries_come_from_failed_attempts_and_retried_invocations() -> None:
    # GIVEN one agent failing twice (1 s, then 2 s backoff) and succeeding; an invocation that
    # crashed and was run again by the service; and a review callback that woke the execution
    events = [
        {"EventType": "ExecutionStarted", "Id": "x", "EventTimestamp": at(0)},
        _step("StepStarted", 0.1),
        _failed(0.2, 1, 1),
        _invocation(0.3),
        _step("StepStarted", 1.3),
        _failed(1.4, 2, 2),
        _invocation(1.5),
        _invocation(2.0, error=True),
        _step("StepStarted", 3.5),
        _step("StepSucceeded", 3.6),
        _step("CallbackStarted", 3.7, op="c", name="review-years create callback id"),
        _invocation(3.8),
        _step("CallbackSucceeded", 9.0, op="c", name="review-years create callback id"),
        _invocation(9.5),
    ]
    usage = durable_usage(events)
    # THEN two step retries and one retried invocation; the resume after the callback is no
    # retry, the three invocations before it are
    assert usage.retries == Retries({PRICE_ONE_ALBUM: 2}, 1, 3, 3.0)
    assert usage.retries.billed_units == 3
    assert usage.billed_units == durable_timeline(events).billed_units + 1


def test_durable_last_failed_attempt_is_no_retry() -> None:
    events = [
        {"EventType": "ExecutionStarted", "Id": "x", "EventTimestamp": at(0)},
        _step("StepStarted", 0.1, name="extract-albums"),
        _failed(0.2, 1, 2),
        _invocation(0.3),
        _step("StepStarted", 2.3, name="extract-albums"),
        _failed(2.4, 2, None),
        _invocation(2.5),
    ]
    assert durable_usage(events).retries == Retries({Step.EXTRACT: 1}, 0, 1, 2.0)


# --- the rule: what is transient, and that the ASL can match every transient name ---


def _every_handler_module() -> None:
    for module in pkgutil.walk_packages(handlers.__path__, "handlers."):
        # The OCR recognizer needs the local-only extras; it raises no transient error.
        if not module.name.endswith(".ocr"):
            importlib.import_module(module.name)


def _subclasses(base: type[Exception]) -> set[type[Exception]]:
    found: set[type[Exception]] = set()
    for sub in base.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_transient_error_name_is_retryable_in_the_asl() -> None:
    # Step Functions matches error names, not classes: each subclass must be listed by name.
    _every_handler_module()
    names = {error.__name__ for error in _subclasses(TransientError)} | {"TransientError"}
    assert names <= set(RETRYABLE_ERRORS)
    assert "PricingUnavailableError" in names


def test_retryable_errors_include_lambda_service_faults_aws_lists() -> None:
    # "Handle Lambda service exceptions" in the Step Functions developer guide
    assert {
        "Lambda.ClientExecutionTimeoutException",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
    } <= set(RETRYABLE_ERRORS)


def _client_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "Operation")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_client_error("ProvisionedThroughputExceededException", 400), True),
        (_client_error("ThrottlingException", 400), True),
        (_client_error("SlowDown", 503), True),
        (_client_error("InternalServerError", 500), True),
        (_client_error("RequestTimeout", 400), True),
        (EndpointConnectionError(endpoint_url="https://dynamodb"), True),
        (_client_error("ConditionalCheckFailedException", 400), False),
        (_client_error("NoSuchKey", 404), False),
        (_client_error("AccessDeniedException", 403), False),
        (NoCredentialsError(), False),
        (ValueError("not an AWS error"), False),
    ],
)
def test_is_transient_follows_botocore_standard_mode(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


def test_transient_aws_errors_raises_transient_and_passes_the_rest() -> None:
    @transient_aws_errors
    def write(error: Exception) -> None:
        raise error

    with pytest.raises(TransientError, match="write: ThrottlingException"):
        write(_client_error("ThrottlingException", 400))
    with pytest.raises(ClientError):
        write(_client_error("ConditionalCheckFailedException", 400))
