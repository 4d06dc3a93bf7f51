"""What Lambda writes to CloudWatch Logs around each invocation, written the same way locally.

Lambda puts each execution environment's output in a stream of the group ``/aws/lambda/<name>``:
the function's own lines, framed by ``START``, ``END`` and ``REPORT`` lines, and the ``REPORT``
line of a cold invocation carries ``Init Duration``. Readers of those logs (the metrics
collector finds cold starts there) therefore read local runs as they read AWS ones. Lines are
shipped by a background thread, as Lambda delivers logs asynchronously.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

logger = logging.getLogger(__name__)

LogEvent = tuple[int, str]
"""Epoch milliseconds and one line."""


def log_group(function_name: str) -> str:
    """The group Lambda writes a function's output to by default."""
    return f"/aws/lambda/{function_name}"


def log_stream(version: str, environment_id: str, created: datetime) -> str:
    """One stream per execution environment: ``YYYY/MM/DD/[version]id``, as Lambda names it."""
    return f"{created:%Y/%m/%d}/[{version}]{environment_id}"


def start_line(request_id: str, version: str) -> str:
    """The line Lambda writes when an invocation starts."""
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    """The line Lambda writes when an invocation ends."""
    return f"END RequestId: {request_id}"


def billed_ms(duration_ms: float, init_ms: float | None) -> int:
    """Lambda bills in 1 ms steps and, since August 2025, the init phase of on-demand functions.

    AWS Compute Blog, "AWS Lambda standardizes billing for INIT Phase".
    """
    return math.ceil(duration_ms + (init_ms or 0.0))


def report_line(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_ms: float | None,
) -> str:
    """The ``REPORT`` line; ``Init Duration`` appears on a cold invocation only."""
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed_ms(duration_ms, init_ms)} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {max_memory_mb} MB"
    )
    if init_ms is not None:
        line += f"\tInit Duration: {init_ms:.2f} ms"
    return line


class CloudWatchLogsWriter:
    """Ships log events to CloudWatch Logs from one background thread.

    Args:
        client: a CloudWatch Logs client (moto's, on the local cloud).
    """

    def __init__(self, client: CloudWatchLogsClient) -> None:
        self._client = client
        self._queue: queue.Queue[tuple[str, str, Sequence[LogEvent]] | None] = queue.Queue()
        self._known: set[tuple[str, str]] = set()
        self._groups: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="lambda-logs", daemon=True)
        self._thread.start()

    def write(self, group: str, stream: str, events: Sequence[LogEvent]) -> None:
        """Queue events for one stream; they are sent in order, soon."""
        if events:
            self._queue.put((group, stream, list(events)))

    def flush(self) -> None:
        """Wait until everything queued so far has been sent."""
        self._queue.join()

    def close(self) -> None:
        """Send what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            # Everything already waiting goes out in the same calls: one per stream.
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                self._send([entry for entry in batch if entry is not None])
            finally:
                for _ in batch:
                    self._queue.task_done()
            if None in batch:
                return

    def _send(self, batch: Sequence[tuple[str, str, Sequence[LogEvent]]]) -> None:
        streams: dict[tuple[str, str], list[LogEvent]] = defaultdict(list)
        for group, stream, events in batch:
            streams[(group, stream)].extend(events)
        for (group, stream), events in streams.items():
            try:
                self._ensure(group, stream)
                self._client.put_log_events(
                    logGroupName=group,
                    logStreamName=stream,
                    logEvents=[
                        {"timestamp": timestamp, "message": message}
                        for timestamp, message in sorted(events, key=lambda event: event[0])
                    ],
                )
            except (BotoCoreError, ClientError) as exc:
                # Lost log lines must not fail an invocation, as on Lambda.
                logger.warning("could not write %d log events to %s: %s", len(events), group, exc)

    def _ensure(self, group: str, stream: str) -> None:
        if group not in self._groups:
            with contextlib.suppress(self._client.exceptions.ResourceAlreadyExistsException):
                self._client.create_log_group(logGroupName=group)
            self._groups.add(group)
        if (group, stream) not in self._known:
            with contextlib.suppress(self._client.exceptions.ResourceAlreadyExistsException):
                self._client.create_log_stream(logGroupName=group, logStreamName=stream)
            self._known.add((group, stream))


def utc_now() -> datetime:
    """Now, in UTC (stream names use the UTC date, as Lambda's do)."""
    return datetime.now(UTC)
