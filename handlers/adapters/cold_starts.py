"""Cold starts of one workflow, read from its functions' CloudWatch Logs, on AWS and locally alike.

Neither execution history records Lambda's init phase, so the collector reads the logs:

1. the workflow's Powertools JSON lines (``FilterLogEvents`` on the upload id, in the execution's
   time window) with ``"cold_start": true`` and the workflow's ``upload_id`` and ``pattern`` give
   the cold invocations' request ids (``function_request_id``);
2. each such invocation's platform line ``REPORT RequestId: <id> ... Init Duration: <z> ms``
   gives its init duration.

Lambda writes the REPORT line after the invocation's last line, and CloudWatch Logs ingests with a
delay, so a missing REPORT line is waited for a little. Clients are injected.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers.domain.tenant import Pattern

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

NOT_MEASURED = "not measured"
LOG_GROUPS_VARIABLE = "COLD_START_LOG_GROUPS"
"""JSON object: pattern (``sf``, ``ldf``) -> the log group names of that pattern's functions."""
SOURCE_VARIABLE = "COLD_START_SOURCE"
"""What the figures mean where the collector runs; stored beside them."""
WAIT_VARIABLE = "COLD_START_REPORT_WAIT_SECONDS"
DEFAULT_SOURCE = (
    "CloudWatch Logs: Powertools cold_start lines of the workflow, Init Duration of their "
    "REPORT lines"
)
WINDOW_MARGIN = timedelta(seconds=5)
"""Around the execution's start and end: clocks of the log pipeline and the orchestrator differ."""
_INIT_DURATION = re.compile(r"Init Duration:\s*([0-9.]+)\s*ms")


@dataclass(frozen=True)
class ColdStartConfig:
    """Where the collector reads cold starts from (empty ``log_groups``: it does not)."""

    log_groups: dict[Pattern, tuple[str, ...]]
    source: str = DEFAULT_SOURCE
    report_wait_seconds: float = 0.0


def cold_start_config(env: Mapping[str, str]) -> ColdStartConfig:
    """Read the collector's cold-start settings from environment variables.

    Raises:
        ValueError: ``COLD_START_LOG_GROUPS`` is not a JSON object of pattern to names.
    """
    raw = env.get(LOG_GROUPS_VARIABLE, "")
    document = json.loads(raw) if raw else {}
    if not isinstance(document, dict):
        raise ValueError(f"{LOG_GROUPS_VARIABLE} must be a JSON object, got {raw!r}")
    groups = {Pattern(key): tuple(str(name) for name in names) for key, names in document.items()}
    return ColdStartConfig(
        log_groups={pattern: names for pattern, names in groups.items() if names},
        source=env.get(SOURCE_VARIABLE) or DEFAULT_SOURCE,
        report_wait_seconds=float(env.get(WAIT_VARIABLE) or 0.0),
    )


@dataclass(frozen=True)
class ColdStarts:
    """How many of a workflow's invocations were cold, and how long their init phase took.

    Attributes:
        cold_starts: cold invocations, or None when not measured.
        init_durations_s: ``Init Duration`` of each cold invocation whose REPORT line was found.
        source: where the figures come from, or why there are none.
    """

    cold_starts: int | None
    init_durations_s: list[float] = field(default_factory=list)
    source: str = NOT_MEASURED

    def values(self) -> dict[str, Any]:
        """The METRICS item's keys for these figures."""
        return {
            "cold_starts": self.cold_starts,
            "init_durations_s": self.init_durations_s,
            "cold_start_source": self.source,
        }


class ColdStartReader:
    """Reads a workflow's cold starts from the log groups of its pattern's functions.

    Args:
        logs: CloudWatch Logs client.
        log_groups: the log groups of each pattern's functions.
        source: what the figures mean where this runs (stored with them).
        report_wait_seconds: how long to wait for REPORT lines not yet ingested.
        sleep: waits between reads (tests pass a fake).
    """

    def __init__(
        self,
        logs: CloudWatchLogsClient,
        log_groups: Mapping[Pattern, Sequence[str]],
        source: str,
        *,
        report_wait_seconds: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._logs = logs
        self._groups = {pattern: tuple(groups) for pattern, groups in log_groups.items()}
        self._source = source
        self._wait = report_wait_seconds
        self._sleep = sleep

    def read(
        self, pattern: Pattern, upload_id: str, started_at: datetime, ended_at: datetime
    ) -> ColdStarts:
        """The cold starts of one workflow, or "not measured" with the reason."""
        groups = self._groups.get(pattern, ())
        if not groups:
            return ColdStarts(None, [], NOT_MEASURED)
        start, end = started_at - WINDOW_MARGIN, ended_at + WINDOW_MARGIN
        try:
            # A function never invoked has no log group yet (Lambda creates it on first write).
            existing = [group for group in groups if self._exists(group)]
            if not existing:
                return ColdStarts(None, [], f"{NOT_MEASURED} (no log group of {pattern.value})")
            cold = self._cold_invocations(existing, pattern, upload_id, start, end)
            durations = self._init_durations(existing, cold, start)
        except (ClientError, BotoCoreError) as exc:
            return ColdStarts(None, [], f"{NOT_MEASURED} (CloudWatch Logs: {exc})")
        return ColdStarts(
            len(cold), [durations[rid] for rid in cold if rid in durations], self._source
        )

    def _cold_invocations(
        self,
        groups: Sequence[str],
        pattern: Pattern,
        upload_id: str,
        start: datetime,
        end: datetime,
    ) -> list[str]:
        """Request ids of the workflow's invocations that Powertools logged as cold, in order."""
        cold: list[str] = []
        for group in groups:
            for message in self._messages(group, f'"{upload_id}"', start, end):
                line = _json(message)
                if (
                    line.get("cold_start") is True
                    and line.get("upload_id") == upload_id
                    and line.get("pattern") == pattern.value
                ):
                    request_id = str(line.get("function_request_id") or "")
                    if request_id and request_id not in cold:
                        cold.append(request_id)
        return cold

    def _init_durations(
        self, groups: Sequence[str], request_ids: Sequence[str], start: datetime
    ) -> dict[str, float]:
        """Seconds of init per request id, from REPORT lines; waits a little for late ones."""
        found: dict[str, float] = {}
        deadline = time.monotonic() + self._wait
        while True:
            now = datetime.now(start.tzinfo)
            for request_id in [rid for rid in request_ids if rid not in found]:
                for group in groups:
                    phrase = f'"REPORT RequestId: {request_id}"'
                    for message in self._messages(group, phrase, start, now + WINDOW_MARGIN):
                        match = _INIT_DURATION.search(message)
                        if message.startswith("REPORT") and match:
                            found[request_id] = float(match.group(1)) / 1000.0
            if len(found) == len(request_ids) or time.monotonic() >= deadline:
                return found
            self._sleep(1.0)

    def _exists(self, group: str) -> bool:
        try:
            self._logs.filter_log_events(logGroupName=group, limit=1)
        except self._logs.exceptions.ResourceNotFoundException:
            return False
        return True

    def _messages(self, group: str, pattern: str, start: datetime, end: datetime) -> Iterator[str]:
        paginator = self._logs.get_paginator("filter_log_events")
        pages = paginator.paginate(
            logGroupName=group,
            filterPattern=pattern,
            startTime=int(start.timestamp() * 1000),
            endTime=int(end.timestamp() * 1000),
        )
        for page in pages:
            for event in page.get("events", []):
                yield str(event.get("message", "")).strip()


def _json(message: str) -> dict[str, Any]:
    """A Powertools line as a dict; anything else (platform lines, plain prints) as empty."""
    if not message.startswith("{"):
        return {}
    try:
        parsed = json.loads(message)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
