"""Every handler line of a run is Powertools JSON that carries the workflow's correlation keys.

One happy run per pattern, on the same emulators as the other functional tests; the lines are
what Lambda would put in CloudWatch Logs (see ``powertools_lines``). The collector finds cold
starts by these keys, so a line without them would hide a cold invocation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handlers import durable
from handlers.domain.events import parse_upload_event
from handlers.domain.models import ReviewDecision
from handlers.domain.tenant import Pattern
from tests.functional.conftest import Workbench
from tests.functional.durable_harness import DurableHarness, durable_runner
from tests.functional.powertools_lines import captured_lines
from tests.functional.sfn_harness import deployed_state_machine, state_machine_account

REQUIRED = ("upload_id", "pattern", "cold_start", "function_request_id", "service")


@pytest.fixture
def aws() -> Iterator[None]:
    """Overrides the plain moto account: this one executes state machines."""
    with state_machine_account():
        yield


def workflow_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The handlers' own lines (the test's moto and SDK loggers write elsewhere)."""
    return [line for line in lines if line.get("service") == "album-registration"]


def test_step_functions_lines_carry_the_workflow_keys(workbench: Workbench) -> None:
    with captured_lines() as lines, deployed_state_machine(workbench) as harness:
        event = workbench.upload()
        execution_arn = harness.start(event)
        harness.decide(harness.wait_for_review(event), ReviewDecision(action="approve"))
        assert harness.finish(execution_arn)["status"] == "SUCCEEDED"

    upload_id = parse_upload_event(event).upload_id
    logged = workflow_lines(lines)
    steps = {line.get("step") for line in logged}
    assert {"extract-albums", "review-years", "price-albums", "store-results"} <= steps
    for line in logged:
        assert all(key in line for key in REQUIRED), line
        assert (line["upload_id"], line["pattern"]) == (upload_id, Pattern.STEP_FUNCTIONS.value)
    # The tasks the ASL passes the execution id to log it. (Request ids are not compared: here the
    # six agents run as threads of one process and share its logger; in Lambda and in the local
    # workers each invocation has a process of its own.)
    by_step = {line["step"]: line for line in logged if "step" in line}
    for step in ("extract-albums", "review-years", "store-results"):
        assert by_step[step]["execution_id"] == execution_arn, step


def test_durable_lines_carry_the_workflow_keys(workbench: Workbench) -> None:
    with durable_runner(durable.handler) as runner, captured_lines() as lines:
        harness = DurableHarness(runner, workbench.deps)
        event = workbench.upload()
        arn = harness.start(event)
        harness.wait_for_review(arn)
        upload_id = parse_upload_event(event).upload_id
        harness.decide(upload_id, ReviewDecision(action="approve"))
        harness.finish(arn)

    logged = workflow_lines(lines)
    assert logged
    for line in logged:
        assert all(key in line for key in REQUIRED), line
        assert (line["upload_id"], line["pattern"]) == (upload_id, Pattern.DURABLE.value)
        assert line["execution_id"]
    # Lines through the durable context's replay-safe logger carry the SDK's keys too.
    closed = [line for line in logged if line["message"] == "review closed"]
    assert len(closed) == 1
    assert closed[0]["executionArn"] == closed[0]["execution_id"]
    assert closed[0]["outcome"] == "APPROVED"
