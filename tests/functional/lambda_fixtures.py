"""Tiny handlers for the local Lambda service's tests: they report where they ran, or misbehave.

Imported by worker processes (by the ``Handler`` path), so module state is per environment.
"""

from __future__ import annotations

import os
import time
from typing import Any

from aws_durable_execution_sdk_python import (
    DurableContext,
    StepContext,
    durable_execution,
    durable_step,
)

_INVOCATIONS = 0


def where(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Which process served this, how many invocations it has served, and what it was given."""
    global _INVOCATIONS  # noqa: PLW0603 - per-environment state is what the tests look at
    _INVOCATIONS += 1
    print(f"serving {event.get('n')}")
    return {
        "pid": os.getpid(),
        "invocations": _INVOCATIONS,
        "request_id": context.aws_request_id,
        "setting": os.environ.get("SETTING"),
    }


def sleep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Sleeps as long as asked: a handler that overruns a short timeout."""
    time.sleep(float(event["seconds"]))
    return {"slept": event["seconds"]}


def exit_process(event: dict[str, Any], context: Any) -> None:
    """Ends the process mid-invocation, as a crash in native code would."""
    os._exit(int(event.get("status", 3)))


def fail(event: dict[str, Any], context: Any) -> None:
    """Raises, as a handler with a bug does."""
    raise ValueError("no such album")


@durable_step
def _process_id(step_context: StepContext) -> int:
    return os.getpid()


@durable_execution
def durable_where(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    """A durable handler with one step that records which process ran it."""
    pid = context.step(_process_id(), name="where")
    return {"pid": pid, "greeting": event["greeting"]}
