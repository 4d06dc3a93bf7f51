"""The inside of one local execution environment: a spawned process that serves one function.

Started by ``albumreg.cloud.lambdas.service`` with the ``spawn`` start method (a fresh interpreter,
as a new Lambda sandbox starts one), it applies the function's environment, pays its init (imports
the handler's module, which builds what it builds at import) and reports that time, then serves
one invocation at a time over its ``multiprocessing`` connection until the connection closes.
What the handler prints (stdout, stderr, Powertools' JSON lines) is collected per invocation
and sent back with the result, for the service to write to CloudWatch Logs as Lambda does.

Imports only the standard library at module level, so the measured init is our code's alone.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import resource
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

Setup = Callable[[], None]
"""Run in the worker after the environment is applied and before the handler is imported."""


@dataclass(frozen=True)
class WorkerSpec:
    """What a new environment needs to know about its function.

    Attributes:
        handler: import path, as Lambda's ``Handler`` setting spells it (``package.module.fn``).
        environment: the complete process environment (function variables and runtime ones).
        function_name: the function's name, for the context object.
        function_version: ``$LATEST`` or a version number.
        invoked_function_arn: the ARN the context reports.
        memory_mb: the function's memory size, for the context object.
        log_group: CloudWatch Logs group of the function.
        log_stream: this environment's stream.
        setup: optional callable run before the import (the local cloud's benchmark knobs).
    """

    handler: str
    environment: dict[str, str]
    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_mb: int
    log_group: str
    log_stream: str
    setup: Setup | None = None


@dataclass(frozen=True)
class Ready:
    """Init finished: its duration and what it printed."""

    init_ms: float
    lines: list[tuple[int, str]]


@dataclass(frozen=True)
class InitFailed:
    """Init raised: Lambda's error document for it, and what it printed."""

    error: dict[str, Any]
    init_ms: float
    lines: list[tuple[int, str]]


@dataclass(frozen=True)
class Request:
    """One invocation: its request id, JSON payload and deadline (epoch seconds)."""

    request_id: str
    payload: bytes
    deadline: float


@dataclass(frozen=True)
class Response:
    """One invocation's outcome.

    Attributes:
        payload: the handler's JSON result, or Lambda's error document.
        failed: True when the handler raised (Lambda's ``FunctionError: Unhandled``).
        duration_ms: time in the handler.
        max_memory_mb: the process's peak resident memory so far.
        lines: what the invocation printed, with epoch milliseconds.
    """

    payload: bytes
    failed: bool
    duration_ms: float
    max_memory_mb: int
    lines: list[tuple[int, str]]


@dataclass(frozen=True)
class LambdaContext:
    """The context object the Python runtime passes to a handler."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    client_context: Any = None
    identity: Any = None
    tenant_id: str | None = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds before the function's timeout, as the runtime reports them."""
        return max(0, int((self.deadline - time.time()) * 1000))


class LineCollector(io.TextIOBase):
    """A text stream that keeps each written line with its time, until drained.

    Installed as ``sys.stdout`` and ``sys.stderr`` before anything is imported, so loggers
    that bind the stream at import (Powertools does) write here too. Thread-safe: a handler's
    threads (six price agents) print at once.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._partial = ""
        self._lines: list[tuple[int, str]] = []

    def writable(self) -> bool:
        """A write-only stream."""
        return True

    def write(self, text: str) -> int:
        """Keep complete lines; a partial line waits for its end."""
        with self._lock:
            pieces = (self._partial + text).split("\n")
            self._partial = pieces.pop()
            now = int(time.time() * 1000)
            self._lines.extend((now, piece) for piece in pieces if piece)
        return len(text)

    def drain(self) -> list[tuple[int, str]]:
        """Every line since the last drain, a trailing partial line included."""
        with self._lock:
            if self._partial:
                self._lines.append((int(time.time() * 1000), self._partial))
                self._partial = ""
            lines, self._lines = self._lines, []
        return lines


def error_document(exc: BaseException) -> dict[str, Any]:
    """What the Python Lambda runtime returns for an unhandled exception."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def resolve(handler_path: str) -> Callable[[Any, Any], Any]:
    """Import the handler's module and return the function the ``Handler`` setting names."""
    module_name, _, attribute = handler_path.rpartition(".")
    handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module_name), attribute)
    return handler


def _max_memory_mb() -> int:
    """This process's peak resident memory, as "Max Memory Used" reports it.

    ``VmHWM`` (Linux) belongs to the process's own address space; ``ru_maxrss`` survives the
    exec that started this interpreter, so it would report the parent's size at the fork.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:  # noqa: PTH123
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024 + 1
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024) + 1


def serve(connection: Connection, spec: WorkerSpec) -> None:
    """The worker process's whole life: init, then one invocation at a time.

    Args:
        connection: this end of the pipe to the service.
        spec: the function this environment serves.
    """
    started = time.perf_counter()
    os.environ.clear()
    os.environ.update(spec.environment)
    output = LineCollector()
    sys.stdout = sys.stderr = output
    try:
        if spec.setup is not None:
            spec.setup()
        handler = resolve(spec.handler)
    except Exception as exc:  # an init error is reported, as Lambda reports it, not raised
        init_ms = (time.perf_counter() - started) * 1000
        connection.send(InitFailed(error_document(exc), init_ms, output.drain()))
        return
    connection.send(Ready((time.perf_counter() - started) * 1000, output.drain()))
    while True:
        try:
            request: Request = connection.recv()
        except EOFError:  # the service closed the pipe: the environment is retired
            return
        connection.send(_invoke(handler, spec, request, output))


def _invoke(
    handler: Callable[[Any, Any], Any], spec: WorkerSpec, request: Request, output: LineCollector
) -> Response:
    context = LambdaContext(
        function_name=spec.function_name,
        function_version=spec.function_version,
        invoked_function_arn=spec.invoked_function_arn,
        memory_limit_in_mb=spec.memory_mb,
        aws_request_id=request.request_id,
        log_group_name=spec.log_group,
        log_stream_name=spec.log_stream,
        deadline=request.deadline,
    )
    started = time.perf_counter()
    failed = False
    try:
        event = json.loads(request.payload) if request.payload else {}
        result = handler(event, context)
        payload = json.dumps(result).encode()
    except Exception as exc:  # the runtime reports every exception the same way
        failed = True
        payload = json.dumps(error_document(exc)).encode()
        # The Python runtime's text-format log line for an unhandled exception.
        print(f"[ERROR] {type(exc).__name__}: {exc}")
    duration_ms = (time.perf_counter() - started) * 1000
    return Response(payload, failed, duration_ms, _max_memory_mb(), output.drain())
