"""How the dashboard reaches the running system: one ``Backend`` per process.

The adapters come from ``albumreg.client.connect`` like every command's; timelines are read
from the orchestrators' own histories when an execution stored none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from albumreg.client.connect import connect as connect_to_target
from albumreg.client.target import Target
from handlers.adapters.histories import read_timeline
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import Timeline
from handlers.wiring import Dependencies

TimelineReader = Callable[[Pattern, str], Timeline | None]


@dataclass(frozen=True)
class Backend:
    """The running system the dashboard looks at, and how to read execution histories."""

    target: Target
    deps: Dependencies
    timelines: TimelineReader


def connect(session: boto3.session.Session | None = None) -> Backend:
    """Find the local cloud or the deployed stack and build clients for it.

    Args:
        session: a boto3 session to build every client from (the benchmark passes one that
            counts DynamoDB calls); a new one by default.

    Raises:
        TargetError: nothing is running; the message says how to start it.
    """
    connection = connect_to_target(session=session)
    return Backend(connection.target, connection.deps, history_reader(connection.deps))


def history_reader(deps: Dependencies) -> TimelineReader:
    """Read timelines from the orchestrators; a history that is gone reads as None.

    Histories expire (the durable service keeps them for days) and the local cloud keeps no
    Step Functions history across a restart, while the table remembers the executions: neither
    is an error here.
    """

    def read(pattern: Pattern, execution_arn: str) -> Timeline | None:
        try:
            return read_timeline(
                pattern,
                execution_arn,
                sfn=deps.client("stepfunctions"),
                lambda_client=deps.client("lambda"),
            )
        except (ClientError, BotoCoreError):
            return None

    return read
