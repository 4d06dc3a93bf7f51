"""The local Lambda service on its own: cold then warm, isolation, timeouts, bounds, and logs.

Handlers come from ``tests.functional.lambda_fixtures`` and run in real worker processes.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import types
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from albumreg.cloud.lambdas.logs import CloudWatchLogsWriter
from albumreg.cloud.lambdas.service import (
    FunctionSpec,
    Invocation,
    LambdaService,
    ServiceSettings,
    TooManyRequestsError,
)

pytestmark = pytest.mark.timeout(120)

FIXTURES = "tests.functional.lambda_fixtures"


def function(handler: str, **changes: Any) -> FunctionSpec:
    return FunctionSpec(name=f"test-{handler}", handler=f"{FIXTURES}.{handler}", **changes)


def result(invocation: Invocation) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(invocation.payload)
    return document


@pytest.fixture
def service() -> Iterator[LambdaService]:
    with LambdaService(ServiceSettings(idle_seconds=60, timeout_scale=1.0)) as running:
        yield running


def test_first_invocation_is_cold_and_second_warm_on_the_same_worker(
    service: LambdaService,
) -> None:
    where = function("where", environment={"SETTING": "from the function"})

    first = service.invoke(where, b'{"n": 1}')
    second = service.invoke(where, b'{"n": 2}')

    assert first.cold and first.init_ms is not None and first.init_ms > 0
    assert not second.cold and second.init_ms is None
    assert second.environment_id == first.environment_id
    assert result(second)["pid"] == result(first)["pid"] != os.getpid()
    assert [result(first)["invocations"], result(second)["invocations"]] == [1, 2]
    assert result(first)["setting"] == "from the function"
    assert result(first)["request_id"] == first.request_id
    assert service.environments_started() == {where.name: 1}


def test_handler_error_fails_the_invocation_and_keeps_the_environment_warm(
    service: LambdaService,
) -> None:
    failing = function("fail")

    first = service.invoke(failing, b"{}")
    second = service.invoke(failing, b"{}")

    assert first.failure == "function" and first.function_error == "Unhandled"
    assert result(first)["errorType"] == "ValueError"
    assert result(first)["errorMessage"] == "no such album"
    assert not second.cold and second.environment_id == first.environment_id


def test_overrunning_the_timeout_kills_the_worker_and_fails_as_lambda_does(
    service: LambdaService,
) -> None:
    slow = function("sleep", timeout_seconds=0.5)

    started = time.monotonic()
    overrun = service.invoke(slow, b'{"seconds": 30}')
    after = service.invoke(slow, b'{"seconds": 0}')

    assert time.monotonic() - started < 15
    assert overrun.failure == "timeout"
    assert result(overrun)["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 0.50 seconds" in result(overrun)["errorMessage"]
    assert after.failure is None and after.cold
    assert after.environment_id != overrun.environment_id


def test_a_worker_that_dies_fails_only_its_invocation(service: LambdaService) -> None:
    crashing = function("exit_process")
    where = function("where")
    warm = service.invoke(where, b"{}")

    crash = service.invoke(crashing, b'{"status": 3}')
    still_warm = service.invoke(where, b"{}")

    assert crash.failure == "crash"
    assert result(crash)["errorType"] == "Runtime.ExitError"
    assert result(crash)["errorMessage"].endswith("Runtime exited with error: exit status 3")
    assert still_warm.failure is None and still_warm.environment_id == warm.environment_id
    assert service.live_environments() == {where.name: 1}


def test_an_import_error_fails_the_init_as_lambda_reports_it(service: LambdaService) -> None:
    missing = FunctionSpec(name="test-missing", handler="tests.functional.no_such_module.handler")

    invocation = service.invoke(missing, b"{}")

    assert invocation.failure == "init" and invocation.cold
    assert result(invocation)["errorType"] == "Runtime.ImportModuleError"
    assert service.live_environments() == {}


def test_idle_environments_are_retired_and_the_next_invocation_is_cold() -> None:
    where = function("where")
    with LambdaService(ServiceSettings(idle_seconds=0.3)) as service:
        first = service.invoke(where, b"{}")
        deadline = time.monotonic() + 10
        while service.live_environments() and time.monotonic() < deadline:
            time.sleep(0.1)
        retired = service.live_environments()
        later = service.invoke(where, b"{}")

    assert retired == {}
    assert later.cold and later.environment_id != first.environment_id


def test_invocations_beyond_the_bounds_wait_then_are_throttled() -> None:
    slow = function("sleep", timeout_seconds=30)
    settings = ServiceSettings(max_environments=4, max_per_function=2, queue_seconds=0.5)
    outcomes: list[Invocation | Exception] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            outcome: Invocation | Exception = pool.invoke(slow, b'{"seconds": 4}')
        except TooManyRequestsError as exc:
            outcome = exc
        with lock:
            outcomes.append(outcome)

    with LambdaService(settings) as pool:
        threads = [threading.Thread(target=call) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        started = pool.environments_started()

    throttled = [o for o in outcomes if isinstance(o, TooManyRequestsError)]
    served = [o for o in outcomes if isinstance(o, Invocation)]
    assert len(throttled) == 1 and len(served) == 2
    assert all(invocation.failure is None for invocation in served)
    assert started == {slow.name: 2}


def test_each_invocation_writes_lambda_format_lines_and_only_a_cold_one_has_init_duration() -> None:
    where = function("where", memory_mb=1024)
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        writer = CloudWatchLogsWriter(logs)
        with LambdaService(log_writer=writer) as service:
            cold = service.invoke(where, b'{"n": 1}')
            warm = service.invoke(where, b'{"n": 2}')
            writer.flush()
        group = f"/aws/lambda/{where.name}"
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        messages = [
            event["message"]
            for stream in streams
            for event in logs.get_log_events(
                logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
            )["events"]
        ]

    assert len(streams) == 1 and "/[$LATEST]" in streams[0]["logStreamName"]
    reports = {line.split("\t")[0]: line for line in messages if line.startswith("REPORT")}
    cold_report = reports[f"REPORT RequestId: {cold.request_id}"]
    warm_report = reports[f"REPORT RequestId: {warm.request_id}"]
    fields = dict(part.split(": ", 1) for part in cold_report.split("\t")[1:])
    assert set(fields) == {
        "Duration",
        "Billed Duration",
        "Memory Size",
        "Max Memory Used",
        "Init Duration",
    }
    assert fields["Memory Size"] == "1024 MB"
    # the worker's own peak, not the parent's size when it was started
    assert 0 < int(fields["Max Memory Used"].removesuffix(" MB")) < 150
    assert float(fields["Init Duration"].removesuffix(" ms")) == pytest.approx(cold.init_ms, 0.01)
    assert "Init Duration" not in warm_report
    for invocation, n in ((cold, 1), (warm, 2)):
        start = messages.index(f"START RequestId: {invocation.request_id} Version: $LATEST")
        end = messages.index(f"END RequestId: {invocation.request_id}")
        assert messages[start + 1 : end] == [f"serving {n}"]


def test_worker_starts_whatever_this_process_installed_as_its_main_module(
    service: LambdaService, tmp_path, monkeypatch
) -> None:
    # GIVEN a main module that a child must never run, as Streamlit's AppTest leaves one behind
    script = tmp_path / "page.py"
    script.write_text("raise SystemExit(1)\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)

    # WHEN a function is invoked cold
    invocation = service.invoke(function("where"), b'{"n": 1}')

    # THEN its worker starts and answers, and this process keeps its main module
    assert invocation.cold and invocation.failure is None
    assert result(invocation)["invocations"] == 1
    assert sys.modules["__main__"] is page
