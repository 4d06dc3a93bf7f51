"""The local Lambda service: per function, a pool of worker processes that behave like sandboxes.

Each function (name and qualifier) gets execution environments on demand. A new environment is a
process started with ``multiprocessing``'s ``spawn`` method (never ``fork``: the local cloud runs
many threads), which pays its real init (importing the handler's module, reading its settings)
and reports it; it serves one invocation at a time over a ``multiprocessing`` pipe, is reused
while warm and retired after ``idle_seconds`` without work. Concurrency is bounded per function
and in total. A worker that dies mid-invocation, or overruns the function's timeout (it is then
killed), fails that invocation with Lambda's error document while everything else goes on.

Differences from Lambda, on purpose: when the bounds are reached an invocation waits up to
``queue_seconds`` for a free environment before it is throttled (Lambda throttles at once, but
has far more capacity than one machine); the sandbox itself (Firecracker, the runtime's own
start) is not emulated, so ``Init Duration`` is the init of our code in a fresh interpreter.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
import threading
import time
import types
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from albumreg.cloud.lambdas import logs
from albumreg.cloud.lambdas.worker import (
    InitFailed,
    Ready,
    Request,
    Response,
    Setup,
    WorkerSpec,
    serve,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import SpawnProcess

    from albumreg.cloud.lambdas.logs import CloudWatchLogsWriter, LogEvent

logger = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"
INIT_TIMEOUT_SECONDS = 10.0
"""Lambda's limit on an on-demand function's init phase; a longer init counts as a timeout."""
INHERITED_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "PYTHONPATH")
"""The few variables of the host a worker keeps (a Lambda sandbox has its own of each)."""

Failure = Literal["function", "init", "crash", "timeout"]


@dataclass(frozen=True)
class ServiceSettings:
    """Bounds of the local Lambda service.

    Lambda's defaults are 1,000 concurrent executions per account and Region and no limit per
    function. Here a worker is a Python process of about 50-90 MiB that mostly waits on the
    network, so one 2-core machine keeps a few dozen; the total leaves room for every function
    of ten workflows in flight at once (so environments are not reclaimed from one function for
    another all the time), and a function's share stays below it so that one busy function (six
    price agents per Step Functions workflow) cannot starve the others.

    Every AWS API the handlers call is emulated in the local cloud's one process, on cores the
    workers share: a DynamoDB write that takes milliseconds on AWS can wait seconds here when a
    hundred workflows run at once. ``timeout_scale`` gives the functions' timeouts that much
    room, so that an overloaded emulator is not reported as a function overrunning its timeout;
    1.0 enforces them exactly.

    Attributes:
        max_environments: live worker processes, all functions together.
        max_per_function: live worker processes of one function (name and qualifier).
        idle_seconds: an environment without an invocation for this long is retired.
        queue_seconds: how long an invocation waits for a free environment when the bounds
            are reached, before it is throttled (``TooManyRequestsException``).
        timeout_scale: a worker is stopped after this many times its function's timeout.
    """

    max_environments: int = 64
    max_per_function: int = 24
    idle_seconds: float = 300.0
    queue_seconds: float = 300.0
    timeout_scale: float = 3.0


@dataclass(frozen=True)
class FunctionSpec:
    """A function as the service runs it: what ``CreateFunction`` configured.

    Attributes:
        name: the function's name.
        handler: import path of the handler (``package.module.function``).
        environment: the function's environment variables.
        qualifier: version or alias it is invoked with; None for ``$LATEST``.
        timeout_seconds: the function's timeout.
        memory_mb: the function's memory size (reported, not enforced).
        region: the Region its ARN names.
    """

    name: str
    handler: str
    environment: Mapping[str, str] = field(default_factory=dict)
    qualifier: str | None = None
    timeout_seconds: float = 3.0
    memory_mb: int = 128
    region: str = "us-east-1"

    @property
    def key(self) -> tuple[str, str]:
        """What a pool is kept for: the name and the qualifier."""
        return (self.name, self.qualifier or "$LATEST")

    @property
    def version(self) -> str:
        """The version that runs: a numbered qualifier, else ``$LATEST`` (no versions here)."""
        return self.qualifier if self.qualifier and self.qualifier.isdigit() else "$LATEST"

    @property
    def arn(self) -> str:
        """The ARN as invoked (qualified when a qualifier was given)."""
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.name}"
        return f"{arn}:{self.qualifier}" if self.qualifier else arn


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation.

    Attributes:
        request_id: Lambda's request id for it.
        payload: the handler's JSON result, or Lambda's error document.
        failure: None on success; ``function`` when the handler raised, ``init`` when the
            environment could not start, ``crash`` when the process died, ``timeout`` when it
            overran the function's timeout and was killed.
        cold: True when a new environment was started for it.
        init_ms: that environment's init time (cold invocations only).
        duration_ms: the invocation's duration.
        environment_id: the environment that served it.
    """

    request_id: str
    payload: bytes
    failure: Failure | None
    cold: bool
    init_ms: float | None
    duration_ms: float
    environment_id: str

    @property
    def function_error(self) -> str | None:
        """Lambda's ``X-Amz-Function-Error`` value: every failure here is ``Unhandled``."""
        return None if self.failure is None else "Unhandled"


class TooManyRequestsError(Exception):
    """No environment became free within ``queue_seconds``: Lambda's throttling error."""


class _Environment:
    """The service's handle on one worker process."""

    def __init__(
        self,
        function: FunctionSpec,
        environment_id: str,
        process: SpawnProcess,
        connection: Connection,
        stream: str,
    ) -> None:
        self.function = function
        self.id = environment_id
        self.process = process
        self.connection = connection
        self.stream = stream
        self.last_used = time.monotonic()
        # The service's close() and an invocation's own failure may stop it at the same time.
        self._stopping = threading.Lock()

    def retire(self) -> None:
        """Close the pipe (the worker returns) and make sure the process is gone."""
        with self._stopping:
            self.connection.close()
            self.process.join(timeout=2)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(timeout=2)

    def kill(self) -> None:
        """Stop the process at once, as Lambda stops a sandbox that overran its timeout."""
        with self._stopping:
            self.process.kill()
            self.process.join(timeout=5)
            self.connection.close()


class LambdaService:
    """Worker pools for every function invoked through it.

    Args:
        settings: the bounds.
        runtime_environment: variables every worker gets besides its function's own (on the
            local cloud: the endpoints and credentials); ``configure`` may add to them later.
        setup: run in each worker before its handler is imported (picklable).
        log_writer: where Lambda-format log lines go; None writes none.
    """

    def __init__(
        self,
        settings: ServiceSettings | None = None,
        *,
        runtime_environment: Mapping[str, str] | None = None,
        setup: Setup | None = None,
        log_writer: CloudWatchLogsWriter | None = None,
    ) -> None:
        self.settings = settings or ServiceSettings()
        self._runtime = dict(runtime_environment or {})
        self._setup = setup
        self._logs = log_writer
        self._spawn = multiprocessing.get_context("spawn")
        self._condition = threading.Condition()
        self._idle: dict[tuple[str, str], list[_Environment]] = {}
        self._live: Counter[tuple[str, str]] = Counter()
        self._environments: dict[str, _Environment] = {}
        self._started: Counter[str] = Counter()
        self._closed = threading.Event()
        self._peak_memory_mb = 0.0
        self._reaper = threading.Thread(target=self._reap, name="lambda-reaper", daemon=True)
        self._reaper.start()

    def configure(self, runtime_environment: Mapping[str, str]) -> None:
        """Add runtime variables for environments started from now on."""
        with self._condition:
            self._runtime.update(runtime_environment)

    # --- invoking -----------------------------------------------------------------------

    def invoke(self, function: FunctionSpec, payload: bytes) -> Invocation:
        """Run one invocation in a warm environment, or a new one; blocks until it ends.

        Raises:
            TooManyRequestsError: the bounds stayed reached for ``queue_seconds``.
        """
        request_id = str(uuid.uuid4())
        environment, reserved = self._acquire(function)
        init_ms: float | None = None
        if environment is None:
            started = self._start(function, reserved)
            if isinstance(started, Invocation):
                return started
            environment, init_ms = started
        return self._run(environment, request_id, payload, init_ms)

    def _acquire(self, function: FunctionSpec) -> tuple[_Environment | None, str]:
        """A warm environment, or a reserved slot (its id) for a new one."""
        key = function.key
        give_up = time.monotonic() + self.settings.queue_seconds
        victim: _Environment | None = None
        with self._condition:
            while True:
                if self._closed.is_set():
                    raise RuntimeError("the local Lambda service is closed")
                idle = self._idle.get(key)
                if idle:
                    # The most recently used: the others may then reach their idle timeout.
                    return idle.pop(), ""
                if self._live[key] < self.settings.max_per_function:
                    if sum(self._live.values()) < self.settings.max_environments:
                        break
                    victim = self._oldest_idle()
                    if victim is not None:
                        self._forget(victim)
                        break
                remaining = give_up - time.monotonic()
                if remaining <= 0:
                    raise TooManyRequestsError(
                        f"Rate Exceeded: no free execution environment for {function.name} "
                        f"within {self.settings.queue_seconds:.0f} s"
                    )
                self._condition.wait(remaining)
            environment_id = uuid.uuid4().hex
            self._live[key] += 1
            self._started[function.name] += 1
        if victim is not None:
            # Another function's idle environment makes room, as Lambda reclaims idle sandboxes.
            victim.retire()
        return None, environment_id

    def _oldest_idle(self) -> _Environment | None:
        candidates = [env for envs in self._idle.values() for env in envs]
        return min(candidates, key=lambda env: env.last_used, default=None)

    def _forget(self, environment: _Environment) -> None:
        """Drop an environment from the books (caller holds the condition)."""
        key = environment.function.key
        idle = self._idle.get(key, [])
        if environment in idle:
            idle.remove(environment)
        self._environments.pop(environment.id, None)
        self._live[key] -= 1
        self._condition.notify_all()

    def _start(
        self, function: FunctionSpec, environment_id: str
    ) -> tuple[_Environment, float] | Invocation:
        """Spawn a worker and wait for its init; an init failure fails the invocation."""
        created = logs.utc_now()
        stream = logs.log_stream(function.version, environment_id, created)
        group = logs.log_group(function.name)
        parent, child = self._spawn.Pipe()
        process = self._spawn.Process(
            target=serve,
            args=(child, self._worker_spec(function, group, stream)),
            name=f"lambda-{function.name}-{environment_id[:8]}",
            daemon=True,
        )
        started = time.perf_counter()
        with _without_main_module():
            process.start()
        child.close()
        environment = _Environment(function, environment_id, process, parent, stream)
        with self._condition:
            self._environments[environment_id] = environment
        limit = max(INIT_TIMEOUT_SECONDS, function.timeout_seconds)
        message: Ready | InitFailed | None = None
        timed_out = False
        try:
            if parent.poll(limit):
                message = parent.recv()
            else:
                timed_out = True
        except (EOFError, OSError):
            message = None
        if isinstance(message, Ready):
            self._write(function, stream, message.lines)
            return environment, message.init_ms
        init_ms = (time.perf_counter() - started) * 1000
        environment.kill()
        with self._condition:
            self._forget(environment)
        request_id = str(uuid.uuid4())
        if isinstance(message, InitFailed):
            error = message.error
            if error.get("errorType") in {"ImportError", "ModuleNotFoundError"}:
                error = error | {"errorType": "Runtime.ImportModuleError"}
            self._write(function, stream, message.lines)
            failure: Failure = "init"
        elif timed_out:
            error = _timeout_error(request_id, limit)
            failure = "timeout"
        else:
            error = _exit_error(request_id, process.exitcode)
            failure = "crash"
        self._write(function, stream, [(_now_ms(), str(error.get("errorMessage", "")))])
        return Invocation(request_id, _json(error), failure, True, init_ms, 0.0, environment_id)

    def _run(
        self, environment: _Environment, request_id: str, payload: bytes, init_ms: float | None
    ) -> Invocation:
        function = environment.function
        timeout = function.timeout_seconds * self.settings.timeout_scale
        deadline = time.time() + timeout
        lines: list[LogEvent] = [(_now_ms(), logs.start_line(request_id, function.version))]
        started = time.perf_counter()
        response: Response | None = None
        timed_out = False
        try:
            environment.connection.send(Request(request_id, payload, deadline))
            if environment.connection.poll(timeout):
                response = environment.connection.recv()
            else:
                timed_out = True
        except (EOFError, OSError, BrokenPipeError):
            response = None
        duration_ms = (time.perf_counter() - started) * 1000
        if response is not None:
            self._release(environment)
            lines += response.lines
            lines += [(_now_ms(), logs.end_line(request_id))]
            lines += [
                (
                    _now_ms(),
                    logs.report_line(
                        request_id,
                        response.duration_ms,
                        function.memory_mb,
                        response.max_memory_mb,
                        init_ms,
                    ),
                )
            ]
            self._write(function, environment.stream, lines)
            return Invocation(
                request_id,
                response.payload,
                "function" if response.failed else None,
                init_ms is not None,
                init_ms,
                response.duration_ms,
                environment.id,
            )
        environment.kill()
        with self._condition:
            self._forget(environment)
        if timed_out:
            error = _timeout_error(request_id, timeout)
            failure: Failure = "timeout"
            stamp = f"{logs.utc_now():%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z"
            lines.append(
                (_now_ms(), f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds")
            )
        else:
            error = _exit_error(request_id, environment.process.exitcode)
            failure = "crash"
            lines.append((_now_ms(), str(error["errorMessage"])))
        lines.append((_now_ms(), logs.end_line(request_id)))
        lines.append(
            (
                _now_ms(),
                logs.report_line(request_id, duration_ms, function.memory_mb, 0, init_ms),
            )
        )
        self._write(function, environment.stream, lines)
        return Invocation(
            request_id,
            _json(error),
            failure,
            init_ms is not None,
            init_ms,
            duration_ms,
            environment.id,
        )

    def _release(self, environment: _Environment) -> None:
        with self._condition:
            if self._closed.is_set():
                return
            environment.last_used = time.monotonic()
            self._idle.setdefault(environment.function.key, []).append(environment)
            self._condition.notify_all()

    def _worker_spec(self, function: FunctionSpec, group: str, stream: str) -> WorkerSpec:
        inherited = {name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ}
        with self._condition:
            runtime = dict(self._runtime)
        reserved = {
            # Lambda's reserved variables that code may read (Lambda guide: "Defined runtime
            # environment variables").
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": function.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": group,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "_HANDLER": function.handler,
        }
        return WorkerSpec(
            handler=function.handler,
            environment=inherited | runtime | reserved | dict(function.environment),
            function_name=function.name,
            function_version=function.version,
            invoked_function_arn=function.arn,
            memory_mb=function.memory_mb,
            log_group=group,
            log_stream=stream,
            setup=self._setup,
        )

    def _write(self, function: FunctionSpec, stream: str, lines: list[LogEvent]) -> None:
        if self._logs is not None:
            self._logs.write(logs.log_group(function.name), stream, lines)

    # --- housekeeping -------------------------------------------------------------------

    def _reap(self) -> None:
        """Retire environments idle for too long; sample memory for the peak."""
        while not self._closed.wait(0.5):
            now = time.monotonic()
            expired: list[_Environment] = []
            with self._condition:
                for idle in self._idle.values():
                    for environment in list(idle):
                        if now - environment.last_used > self.settings.idle_seconds:
                            expired.append(environment)
                for environment in expired:
                    self._forget(environment)
                pids = [env.process.pid for env in self._environments.values()]
            for environment in expired:
                environment.retire()
            total = resident_mb([os.getpid(), *(pid for pid in pids if pid is not None)])
            self._peak_memory_mb = max(self._peak_memory_mb, total)

    @property
    def peak_memory_mb(self) -> float:
        """The highest resident memory of this process and its workers together, sampled."""
        return self._peak_memory_mb

    def environments_started(self) -> dict[str, int]:
        """Cold starts so far, by function name."""
        with self._condition:
            return dict(self._started)

    def live_environments(self) -> dict[str, int]:
        """Worker processes alive now, by function name."""
        with self._condition:
            counts: Counter[str] = Counter()
            for (name, _), live in self._live.items():
                counts[name] += live
            return {name: count for name, count in counts.items() if count}

    def close(self) -> None:
        """Stop every worker and the reaper; invocations still running fail as crashes."""
        self._closed.set()
        with self._condition:
            environments = list(self._environments.values())
            self._environments.clear()
            self._idle.clear()
            self._live.clear()
            self._condition.notify_all()
        for environment in environments:
            environment.kill()
        self._reaper.join(timeout=5)
        if self._logs is not None:
            self._logs.close()

    def __enter__(self) -> LambdaService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _timeout_error(request_id: str, seconds: float) -> dict[str, Any]:
    """Lambda's response to an invocation that overran the function's timeout."""
    message = f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds"
    return {"errorType": "Sandbox.Timedout", "errorMessage": message}


_MAIN_MODULE_LOCK = threading.Lock()
"""Serialises the moment a worker is started without the main module (``sys.modules``)."""


@contextmanager
def _without_main_module() -> Iterator[None]:
    """Start a worker as if this process had no main script: a sandbox never runs the caller's.

    ``spawn`` makes each child import the parent's ``__main__`` (by module name or file) before
    anything else. That would pre-load whatever the starting program imports, and it breaks
    when something replaced ``__main__``: Streamlit's script runner (the dashboard's AppTest,
    ``albumreg bench-dashboard``) installs the page as ``__main__`` and leaves it there, and a
    child that re-runs a Streamlit page exits at once. A bare module, for the instant of the
    start, gives ``spawn`` nothing to import.
    """
    with _MAIN_MODULE_LOCK:
        saved = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = saved


def _exit_error(request_id: str, exitcode: int | None) -> dict[str, Any]:
    """Lambda's response when the runtime process died during an invocation."""
    if exitcode is not None and exitcode < 0:
        reason = f"signal: {_signal_name(-exitcode)}"
    else:
        reason = f"exit status {exitcode}"
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
    }


_SIGNAL_WORDS = {6: "aborted", 9: "killed", 11: "segmentation fault", 15: "terminated"}
"""How Lambda's runtime interface words the signals a Python process usually dies of."""


def _signal_name(number: int) -> str:
    return _SIGNAL_WORDS.get(number, f"signal {number}")


def resident_mb(pids: Sequence[int]) -> float:
    """Resident memory of these processes together, in MiB, from ``/proc`` (Linux).

    A process that cannot be read (gone, or no ``/proc``) counts 0.
    """
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text(encoding="ascii").split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def _now_ms() -> int:
    return int(time.time() * 1000)


def _json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document).encode()
