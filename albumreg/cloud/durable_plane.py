"""The durable execution control plane on 127.0.0.1, running the real durable handler.

Composed from the durable testing SDK's own parts (the executor, scheduler, store and web API of
``dex-local-runner``). Handler invocations go through an ``Invoker``: the local cloud passes one
that runs the handler in a worker process of ``albumreg.cloud.lambdas`` (the handler then
checkpoints to this plane's API over loopback HTTP, as it does against Lambda); tests may pass the
handler itself, which then runs in this process through the SDK's in-process invoker. The public API
(callbacks, executions, history, checkpoints) is served over HTTP, so the CLI and the dashboard
use plain boto3 with ``AWS_ENDPOINT_URL_LAMBDA`` pointing here, as they would use Lambda on AWS.
Emulated: ARNs are plain identifiers, and payload limits are not enforced.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Self

from aws_durable_execution_sdk_python_testing.checkpoint.processor import CheckpointProcessor
from aws_durable_execution_sdk_python_testing.child_dispatcher import UnconfiguredChildDispatcher
from aws_durable_execution_sdk_python_testing.client import InMemoryServiceClient
from aws_durable_execution_sdk_python_testing.clock import RealClock
from aws_durable_execution_sdk_python_testing.executor import Executor
from aws_durable_execution_sdk_python_testing.invoker import InProcessInvoker, Invoker
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput
from aws_durable_execution_sdk_python_testing.scheduler import Scheduler
from aws_durable_execution_sdk_python_testing.stores.base import ExecutionStore
from aws_durable_execution_sdk_python_testing.stores.memory import InMemoryExecutionStore
from aws_durable_execution_sdk_python_testing.threads import DaemonThreadPool
from aws_durable_execution_sdk_python_testing.web.server import WebServer, WebServiceConfig
from aws_durable_execution_sdk_python_testing.worker.registry import ExecutionRegistry

from handlers.domain.policy import DURABLE_RETENTION_DAYS

ACCOUNT_ID = "123456789012"


class DurablePlane:
    """One durable function behind the emulated control plane's HTTP API.

    Args:
        handler: the ``@durable_execution`` handler, called in this process as Lambda would
            call it; or an ``Invoker`` that runs it elsewhere (a worker process).
        function_name: the name executions are listed under.
        host: address to bind; loopback unless told otherwise.
        port: TCP port, or 0 for an ephemeral one.
        region: the region the plane reports.
        store: where executions are kept; in memory unless given (the SDK also ships SQLite
            and filesystem stores).
        max_concurrent_invocations: handler invocations in flight at once, all executions
            together; the SDK's executor allows as many as a thread pool's default (the CPU
            count plus 4), far below what Lambda runs.
    """

    def __init__(
        self,
        handler: Callable[..., Any] | Invoker,
        function_name: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "us-east-1",
        store: ExecutionStore | None = None,
        max_concurrent_invocations: int | None = None,
    ) -> None:
        self.function_name = function_name
        self._handler = handler
        self._store = store
        self._max_invocations = max_concurrent_invocations
        self._host = host
        self._port = port
        self._region = region
        self._server: WebServer | None = None
        self._executor: Executor | None = None
        self._registry: ExecutionRegistry | None = None
        self._scheduler: Scheduler | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Build the plane and serve its API on a background thread."""
        store = self._store if self._store is not None else InMemoryExecutionStore()
        scheduler = Scheduler()
        scheduler.start()
        registry = ExecutionRegistry(store, scheduler)
        clock = RealClock()
        processor = CheckpointProcessor(store=store, scheduler=scheduler, clock=clock)
        invoker: Invoker
        if callable(self._handler):
            invoker = InProcessInvoker(
                self._handler, InMemoryServiceClient(processor, registry), region=self._region
            )
        else:
            invoker = self._handler
        executor = Executor(
            store=store,
            scheduler=scheduler,
            invoker=invoker,
            checkpoint_processor=processor,
            registry=registry,
            clock=clock,
            child_dispatcher=UnconfiguredChildDispatcher(),
            region=self._region,
        )
        if self._max_invocations is not None:
            # The executor builds its invocation pool with no size; replacing it before the
            # first execution starts is the only way to size it (SDK pinned in constraints.txt).
            executor._invocation_pool = DaemonThreadPool(
                max_workers=self._max_invocations, thread_name_prefix="durable-invocation"
            )
        processor.add_execution_observer(executor)
        processor.set_chained_invoke_preflight(executor.preflight_chained_invoke)
        server = WebServer(
            WebServiceConfig(host=self._host, port=self._port, log_level=logging.WARNING),
            executor,
        )
        self._scheduler, self._registry, self._executor, self._server = (
            scheduler,
            registry,
            executor,
            server,
        )
        self._thread = threading.Thread(
            target=server.serve_forever, name="durable-plane", daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        """Base URL of the plane's Lambda-compatible API."""
        if self._server is None:
            raise RuntimeError("the durable plane is not started")
        port = self._server.server_address[1]
        return f"http://{self._host}:{port}"

    def start_execution(self, name: str, event: dict[str, Any], timeout_seconds: int) -> str:
        """Start one execution with ``event`` as its input, as an async Invoke would.

        Returns:
            The execution's ARN.
        """
        if self._executor is None:
            raise RuntimeError("the durable plane is not started")
        output = self._executor.start_execution(
            StartDurableExecutionInput(
                account_id=ACCOUNT_ID,
                function_name=self.function_name,
                function_qualifier="live",
                execution_name=name,
                execution_timeout_seconds=timeout_seconds,
                execution_retention_period_days=DURABLE_RETENTION_DAYS,
                input=json.dumps(event),
            )
        )
        if output.execution_arn is None:
            raise RuntimeError(f"the durable plane did not start execution {name}")
        return output.execution_arn

    def stop(self) -> None:
        """Stop serving and release the executor's threads."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._executor is not None:
            self._executor.shutdown()
        if self._registry is not None:
            self._registry.shutdown()
        if self._scheduler is not None:
            self._scheduler.stop()
        self._server = self._executor = self._registry = self._scheduler = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
