"""The cold-start reader on crafted log events in moto's CloudWatch Logs.

The lines follow what Lambda writes (and the local worker functions write likewise): the
handler's Powertools JSON lines, then ``REPORT RequestId: <id>\\tDuration: ...`` with
``\\tInit Duration: <z> ms`` after a cold start.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from handlers.adapters.cold_starts import (
    NOT_MEASURED,
    ColdStartReader,
    cold_start_config,
)
from handlers.domain.tenant import Pattern

SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE
UPLOAD = "6e6e159784dac8618ccb8fc2"
T0 = datetime(2026, 11, 27, 11, 31, 42, tzinfo=UTC)
GROUPS = {SF: ("/albumreg/dev/sf-extract-albums", "/albumreg/dev/sf-price-album")}


def powertools(request_id: str, cold: bool, upload_id: str = UPLOAD, pattern: str = "sf") -> str:
    return json.dumps(
        {
            "level": "INFO",
            "message": "invocation",
            "service": "album-registration",
            "cold_start": cold,
            "function_request_id": request_id,
            "upload_id": upload_id,
            "pattern": pattern,
        }
    )


def report(request_id: str, init_ms: float | None) -> str:
    line = (
        f"REPORT RequestId: {request_id}\tDuration: 812.40 ms\tBilled Duration: 813 ms"
        "\tMemory Size: 1024 MB\tMax Memory Used: 161 MB"
    )
    return line + (f"\tInit Duration: {init_ms} ms" if init_ms is not None else "")


@pytest.fixture
def logs(aws: None) -> Any:
    return boto3.client("logs", region_name="us-east-1")


def write(logs: Any, group: str, lines: list[str], at: datetime = T0) -> None:
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    stream = f"2026/11/27/[$LATEST]{len(lines)}{abs(hash(tuple(lines))) % 10_000}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    start = int(at.timestamp() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": start + i, "message": line} for i, line in enumerate(lines)],
    )


def test_cold_invocations_of_the_workflow_and_their_init_durations(logs) -> None:
    # GIVEN extract cold, two price agents cold and one warm, and another upload's cold start
    write(logs, GROUPS[SF][0], [powertools("r-extract", True), report("r-extract", 1234.5)])
    write(
        logs,
        GROUPS[SF][1],
        [
            powertools("r-p1", True),
            report("r-p1", 310.0),
            powertools("r-p2", False),
            report("r-p2", None),
            powertools("r-p3", True),
            report("r-p3", 295.25),
            powertools("r-other", True, upload_id="f" * 24),
            report("r-other", 400.0),
            powertools("r-ldf", True, pattern="ldf"),
        ],
    )
    reader = ColdStartReader(logs, GROUPS, "crafted")

    # WHEN the workflow's cold starts are read for its window
    found = reader.read(SF, UPLOAD, T0, T0 + timedelta(seconds=30))

    # THEN only its own cold invocations count, each with its Init Duration in seconds
    assert found.cold_starts == 3
    assert found.init_durations_s == [1.2345, 0.31, 0.29525]
    assert found.values() == {
        "cold_starts": 3,
        "init_durations_s": [1.2345, 0.31, 0.29525],
        "cold_start_source": "crafted",
    }


def test_lines_outside_the_window_are_not_read(logs) -> None:
    write(logs, GROUPS[SF][0], [powertools("r-old", True), report("r-old", 900.0)], at=T0)
    reader = ColdStartReader(logs, GROUPS, "crafted")
    later = T0 + timedelta(hours=1)
    assert reader.read(SF, UPLOAD, later, later + timedelta(seconds=30)).cold_starts == 0


def test_a_missing_report_line_is_waited_for_then_left_out(logs) -> None:
    write(logs, GROUPS[SF][0], [powertools("r-late", True)])
    waits: list[float] = []
    reader = ColdStartReader(logs, GROUPS, "crafted", report_wait_seconds=0.05, sleep=waits.append)
    found = reader.read(SF, UPLOAD, T0, T0 + timedelta(seconds=30))
    assert found.cold_starts == 1
    assert found.init_durations_s == []
    assert waits


def test_a_pattern_without_log_groups_is_not_measured(logs) -> None:
    found = ColdStartReader(logs, GROUPS, "crafted").read(LDF, UPLOAD, T0, T0)
    assert (found.cold_starts, found.source) == (None, NOT_MEASURED)


def test_without_any_log_group_yet_it_says_not_measured(logs) -> None:
    found = ColdStartReader(logs, GROUPS, "crafted").read(SF, UPLOAD, T0, T0)
    assert found.cold_starts is None
    assert found.source.startswith(NOT_MEASURED)


def test_a_function_never_invoked_has_no_log_group_and_no_cold_start(logs) -> None:
    write(logs, GROUPS[SF][0], [powertools("r-extract", True), report("r-extract", 800.0)])
    found = ColdStartReader(logs, GROUPS, "crafted").read(SF, UPLOAD, T0, T0)
    assert (found.cold_starts, found.init_durations_s) == (1, [0.8])


def test_config_comes_from_the_environment() -> None:
    config = cold_start_config(
        {
            "COLD_START_LOG_GROUPS": json.dumps({"sf": ["/a", "/b"], "ldf": []}),
            "COLD_START_SOURCE": "local worker processes",
            "COLD_START_REPORT_WAIT_SECONDS": "2.5",
        }
    )
    assert config.log_groups == {SF: ("/a", "/b")}
    assert (config.source, config.report_wait_seconds) == ("local worker processes", 2.5)
    assert cold_start_config({}).log_groups == {}
    with pytest.raises(ValueError, match="JSON object"):
        cold_start_config({"COLD_START_LOG_GROUPS": "[]"})
