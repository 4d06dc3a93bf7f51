"""The execution inspector's parsing, on histories recorded from the local cloud (tests/events).

``*_vision_throttled``: the vision model throttled each workflow's first extract attempt and
the orchestrator retried it; ``*_extract_failure``: the model returned nothing usable, which is
not retried, and the workflow failed after recording the failure.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from albumreg.client.inspector import (
    CAUGHT,
    FAILED,
    SUCCEEDED,
    ExecutionTrace,
    console_url,
    durable_trace,
    inspect_upload,
    label,
    step_functions_trace,
    time_axis,
)
from handlers.domain.names import RECORD_FAILURE, Step
from handlers.domain.policy import EXTRACT_RETRY
from handlers.domain.records import UploadSummary
from handlers.domain.tenant import Pattern

EVENTS = Path(__file__).parents[1] / "events"
SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE


def history(pattern: Pattern, scenario: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(
        (EVENTS / f"history_{pattern.value}_{scenario}.json").read_text()
    )
    return events


def trace(pattern: Pattern, scenario: str) -> ExecutionTrace:
    parse = step_functions_trace if pattern is SF else durable_trace
    return parse(history(pattern, scenario), f"{pattern.value}-arn")


def operation(found: ExecutionTrace, name: str) -> Any:
    return next(op for op in found.operations if op.name == name)


@pytest.mark.parametrize("pattern", [SF, LDF], ids=["sf", "ldf"])
def test_throttled_extract_shows_the_failed_attempt_its_error_and_the_retry(
    pattern: Pattern,
) -> None:
    found = trace(pattern, "vision_throttled")

    extract = operation(found, Step.EXTRACT)
    first, second = extract.attempts
    assert found.status == "SUCCEEDED"
    assert found.retries == {Step.EXTRACT.value: 1}
    assert (first.status, first.error) == (FAILED, "TransientError")
    assert first.cause is not None and first.cause.startswith("ThrottlingException")
    assert second.status == SUCCEEDED and second.number == 2
    assert extract.status == SUCCEEDED
    # The orchestrator waited the policy's first interval (durable records it, sf measures it).
    assert first.retry_delay_seconds == pytest.approx(EXTRACT_RETRY.delay_before(1), abs=0.05)
    assert second.retry_delay_seconds is None


@pytest.mark.parametrize("pattern", [SF, LDF], ids=["sf", "ldf"])
def test_extract_failure_is_not_retried_and_the_execution_fails_with_the_cause(
    pattern: Pattern,
) -> None:
    found = trace(pattern, "extract_failure")

    extract = operation(found, Step.EXTRACT)
    assert [a.error for a in extract.attempts] == ["RecognitionError"]
    assert extract.attempts[0].retry_delay_seconds is None
    assert found.status == "FAILED"
    assert found.cause == "the vision model returned nothing usable (scenario fault)"
    assert operation(found, RECORD_FAILURE).status == SUCCEEDED
    assert found.retries == {}
    assert [op for op, _ in found.failed_attempts] == [extract]


def test_step_functions_failure_is_caught_and_the_fail_state_ends_the_execution() -> None:
    found = trace(SF, "extract_failure")

    assert operation(found, Step.EXTRACT).status == CAUGHT
    fail = operation(found, "workflow-failed")
    assert (fail.kind, fail.status, fail.end) == ("Fail", FAILED, found.ended_at)
    assert found.error == "RecognitionError"


def test_durable_execution_error_names_the_sdk_wrapper_and_keeps_the_message() -> None:
    found = trace(LDF, "extract_failure")

    assert found.error == "StepError"
    assert all(op.name for op in found.operations)


@pytest.mark.parametrize("pattern", [SF, LDF], ids=["sf", "ldf"])
def test_happy_history_lists_every_step_in_start_order_without_retries(pattern: Pattern) -> None:
    found = trace(pattern, "happy")

    top = [op.name for op in found.operations if op.parent is None]
    steps = [name for name in top if name in set(Step)]
    assert steps == [step.value for step in Step]
    assert found.retries == {}
    agents = [op for op in found.operations if op.parent == Step.PRICE]
    assert len(agents) == 6
    assert all(op.status == SUCCEEDED and len(op.attempts) == 1 for op in agents)
    assert [op.start for op in found.operations] == sorted(op.start for op in found.operations)


def test_step_functions_map_iterations_are_numbered_in_their_labels() -> None:
    found = trace(SF, "happy")

    labels = sorted(label(op) for op in found.operations if op.parent == Step.PRICE)
    assert labels == [f"price-albums / price-album #{n}" for n in range(1, 7)]


def test_console_url_of_a_state_machine_execution_is_its_details_page() -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:execution:albumreg:abc-1"

    url = console_url(SF, arn, "eu-west-1")

    assert url == (
        "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1"
        f"#/v2/executions/details/{arn}"
    )


def test_console_url_of_a_durable_execution_opens_its_function() -> None:
    arn = (
        "arn:aws:lambda:eu-west-1:123456789012:function:albumreg-durable:7/durable-execution/"
        "upload-1/0f1e"
    )

    url = console_url(LDF, arn, "eu-west-1")

    assert url == (
        "https://eu-west-1.console.aws.amazon.com/lambda/home?region=eu-west-1"
        "#/functions/albumreg-durable"
    )


class _Repo:
    def __init__(self, summaries: dict[Pattern, UploadSummary]) -> None:
        self.summaries = summaries

    def get_summary(self, pattern: Pattern, upload_id: str) -> UploadSummary | None:
        return self.summaries.get(pattern)


def _summary(pattern: Pattern, execution_id: str | None) -> UploadSummary:
    when = datetime(2026, 12, 3, tzinfo=UTC)
    return UploadSummary.model_validate(
        {
            "pattern": pattern,
            "upload_id": "u-1",
            "bucket": "b",
            "key": "uploads/a.jpg",
            "status": "FAILED",
            "received_at": when,
            "updated_at": when,
            "execution_id": execution_id,
        }
    )


def test_inspect_upload_reads_each_history_once_and_links_only_on_aws() -> None:
    # GIVEN a Step Functions execution with a history and a durable side that never started
    reads: list[tuple[Pattern, str]] = []

    def read(pattern: Pattern, execution_id: str) -> list[dict[str, Any]]:
        reads.append((pattern, execution_id))
        return history(pattern, "extract_failure")

    repo = _Repo({SF: _summary(SF, "arn:aws:states:us-east-1:1:execution:m:x")})

    local = inspect_upload(repo, read, "u-1")  # type: ignore[arg-type]
    remote = inspect_upload(repo, read, "u-1", region="us-east-1")  # type: ignore[arg-type]

    assert reads == [(SF, "arn:aws:states:us-east-1:1:execution:m:x")] * 2
    assert local.side(SF).trace is not None and local.side(SF).console is None
    assert remote.side(SF).console is not None
    assert local.side(LDF).trace is None and local.side(LDF).summary is None


def test_time_axis_puts_both_executions_on_one_origin_with_the_retry_delay() -> None:
    # GIVEN both throttled executions of one upload
    traces = {SF: trace(SF, "vision_throttled"), LDF: trace(LDF, "vision_throttled")}

    def read(pattern: Pattern, execution_id: str) -> list[dict[str, Any]]:
        return history(pattern, "vision_throttled")

    repo = _Repo({p: _summary(p, f"{p.value}-arn") for p in traces})
    inspection = inspect_upload(repo, read, "u-1")  # type: ignore[arg-type]

    bars = time_axis(inspection)

    origin = min(found.started_at for found in traces.values())
    for pattern, found in traces.items():
        first = operation(found, Step.EXTRACT).attempts[0]
        mine = [bar for bar in bars if bar.pattern is pattern and bar.row == Step.EXTRACT]
        assert mine[0].start == (first.start - origin).total_seconds()
    delays = [bar for bar in bars if bar.kind == "retry delay"]
    assert {bar.pattern for bar in delays} == {SF, LDF}
    for bar in delays:
        assert bar.row == Step.EXTRACT
        assert bar.end - bar.start == pytest.approx(EXTRACT_RETRY.delay_before(1), abs=0.05)
    failed = [bar for bar in bars if bar.kind == "failed attempt"]
    assert len(failed) == 2 and all("TransientError" in bar.detail for bar in failed)


def test_inspect_command_prints_both_sides_with_retries_errors_and_links() -> None:
    from albumreg.cli.commands.inspect import render

    def read(pattern: Pattern, execution_id: str) -> list[dict[str, Any]]:
        return history(pattern, "vision_throttled")

    repo = _Repo(
        {p: _summary(p, f"arn:aws:states:us-east-1:1:execution:m:{p.value}") for p in (SF, LDF)}
    )
    inspection = inspect_upload(repo, read, "u-1", region="us-east-1")  # type: ignore[arg-type]

    text = render(inspection)

    sf_part, ldf_part = text.split("== Durable functions")
    assert sf_part.count("retries: extract-albums 1") == 1
    assert "retries: extract-albums 1" in ldf_part
    assert "console: https://us-east-1.console.aws.amazon.com/states/home" in sf_part
    extract = next(line for line in sf_part.splitlines() if line.startswith("extract-albums"))
    assert "#1 TransientError: ThrottlingException" in extract
    assert " 2 " in extract and "2 s" in extract


def test_a_task_waiting_for_a_person_is_drawn_as_the_invoke_then_the_wait() -> None:
    found = trace(SF, "happy")
    (attempt,) = operation(found, Step.REVIEW).attempts

    def read(pattern: Pattern, execution_id: str) -> list[dict[str, Any]]:
        return history(pattern, "happy")

    repo = _Repo({SF: _summary(SF, "sf-arn")})
    bars = [b for b in time_axis(inspect_upload(repo, read, "u-1")) if b.row == Step.REVIEW]  # type: ignore[arg-type]

    # The invoke returned (TaskSubmitted) long before the person answered (TaskSucceeded).
    assert attempt.waiting_from is not None and attempt.end is not None
    assert attempt.start < attempt.waiting_from < attempt.end
    assert [b.kind for b in bars] == ["attempt", "waiting"]
    assert bars[0].end == bars[1].start
