"""Run the real state machine locally: moto's ASL interpreter, Lambda tasks run the real handlers.

moto (pinned, 5.2.5) executes ASL when its config says ``execute_state_machine``, but its
Docker-less Lambda only echoes payloads. Two replacements for that echo run the function's own
``Handler`` (an import path such as ``handlers.step_functions.extract_albums``), the way the
Lambda runtime would, and turn an exception into Lambda's error document so the ASL's Retry and
Catch see the exception's class name. Nothing else in moto is changed.

- ``worker_invokes(service)``: the local cloud's. Each invocation runs in a worker process of
  ``albumreg.cloud.lambdas`` (cold and warm starts, the function's environment and timeout, isolated
  crashes), as an execution environment would run it.
- ``routed_invokes()``: the functional tests'. Each invocation runs in the calling thread, so
  a test inside ``mock_aws`` (which a worker process cannot reach) can run the whole machine.

The same three calls serve tests (inside ``mock_aws(config=MOTO_CONFIG)``) and the local cloud
(``ThreadedMotoServer`` in this process, ``MOTO_PORT`` set to its port, ``enable_execution``):

1. ``with routed_invokes():`` (or ``worker_invokes``) for as long as executions may run;
2. ``deploy(session)`` creates the task functions and the state machine from the rendered ASL;
3. ``start(sfn, arn, event, suffix)`` starts an execution named ``<upload_id>-<suffix>``.

Imports no Pulumi; never shipped to Lambda.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import time
import traceback
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.exceptions import JsonRESTError

from albumreg.cloud.lambdas.service import FunctionSpec, LambdaService, TooManyRequestsError
from handlers.config import PricingAgentMode
from handlers.domain.errors import InvalidUploadError
from handlers.domain.events import parse_upload_event
from stack import timeouts
from stack.asl import TASK_FUNCTIONS, load_definition, render, task_substitutions

if TYPE_CHECKING:
    import boto3
    from moto.core.config import DefaultConfig
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import (
        DescribeExecutionOutputTypeDef,
        HistoryEventTypeDef,
    )

MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
"""moto settings for real ASL execution with in-process Lambda: ``mock_aws(config=...)``."""

DEFAULT_PREFIX = "albumreg-sf"
HANDLER_PACKAGES: tuple[str, ...] = ("handlers.",)
"""Only handlers under these packages are imported and run; others keep moto's echo."""

LAMBDA_RUNTIME: Final = "python3.13"
_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class InvokeContext:
    """The few Lambda context attributes a handler may read when it runs in-process."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int


@dataclass(frozen=True)
class Deployment:
    """What ``deploy`` created: the state machine and each task function's ARN by logical name."""

    state_machine_arn: str
    function_arns: dict[str, str]


def _resolve(handler_path: str) -> Handler:
    """The callable a Lambda ``Handler`` setting names (``module.attribute``)."""
    module_name, _, attribute = handler_path.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


def _error_document(exc: BaseException) -> dict[str, Any]:
    """What the Python Lambda runtime returns for an unhandled exception."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


class _ThrottledError(JsonRESTError):
    """Lambda's 429: Step Functions reports it as ``Lambda.TooManyRequestsException``."""

    code = 429

    def __init__(self, message: str) -> None:
        super().__init__("TooManyRequestsException", message)


def _as_step_functions_sees(payload: bytes) -> bytes:
    """A runtime-level failure (crash, timeout) as Step Functions reports it: ``Lambda.Unknown``.

    Step Functions Developer Guide, "Handle Lambda service exceptions": unhandled errors in
    Lambda, including out-of-memory errors and function timeouts, are reported as
    ``Lambda.Unknown``; moto names the task's error after ``errorType``, so it is set here.
    Lambda's own message is kept as the cause.
    """
    document = json.loads(payload)
    unknown = {"errorType": "Lambda.Unknown", "errorMessage": document["errorMessage"]}
    return json.dumps(unknown).encode()


Invoker = Callable[[Any, str | None, bytes, dict[str, Any]], bytes]
"""Runs one invocation of a moto ``LambdaFunction`` whose handler is ours: ``(function,
qualifier, body, response headers) -> payload``; it may set Lambda's response headers."""


@contextmanager
def _invokes_through(run: Invoker, packages: Sequence[str]) -> Iterator[None]:
    """Send moto's Lambda invokes of our handlers to ``run`` until the block ends.

    Patches moto's Docker-less Lambda backend class, so it applies to ``mock_aws`` and to a
    ``ThreadedMotoServer`` in this process alike. The function must exist (as on AWS, an
    unknown function is ``ResourceNotFoundException``); one whose handler is outside
    ``packages`` gets moto's own echo. Blocks may nest (each restores what it replaced) but
    must not interleave across threads.
    """
    original = LambdaSimpleBackend.invoke

    def invoke(
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> str | bytes | None:
        function = self.get_function(function_name, qualifier)
        if not function.handler or not function.handler.startswith(tuple(packages)):
            return original(self, function_name, qualifier, body, headers, response_headers)
        data = body.encode() if isinstance(body, str) else body or b""
        payload = run(function, qualifier, data, response_headers)
        response_headers["Content-Length"] = str(len(payload))
        return payload

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    try:
        yield
    finally:
        LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]


def worker_invokes(
    service: LambdaService, packages: Sequence[str] = HANDLER_PACKAGES
) -> AbstractContextManager[None]:
    """Run Lambda invokes in the service's worker processes until the block ends.

    Each function runs with the environment, timeout and memory size it was created with. A
    crash or a timeout fails that invocation only (``Lambda.Unknown`` to Step Functions); a
    throttle is Lambda's ``TooManyRequestsException``.
    """

    def run(
        function: Any, qualifier: str | None, body: bytes, response_headers: dict[str, Any]
    ) -> bytes:
        spec = FunctionSpec(
            name=function.function_name,
            handler=function.handler,
            environment=dict(function.environment_vars),
            qualifier=qualifier,
            timeout_seconds=float(function.timeout),
            memory_mb=int(function.memory_size),
            region=function.region,
        )
        try:
            invocation = service.invoke(spec, body)
        except TooManyRequestsError as exc:
            raise _ThrottledError(str(exc)) from exc
        payload = invocation.payload
        if invocation.failure in ("crash", "timeout"):
            payload = _as_step_functions_sees(payload)
        if invocation.function_error is not None:
            response_headers["x-amz-function-error"] = invocation.function_error
        response_headers["x-amz-executed-version"] = spec.version
        return payload

    return _invokes_through(run, packages)


def routed_invokes(packages: Sequence[str] = HANDLER_PACKAGES) -> AbstractContextManager[None]:
    """Run Lambda invokes through the functions' real handlers until the block ends.

    Invocations run synchronously in the calling thread, whatever the invocation type: a Map's
    six iterations are six threads.
    """

    def run(
        function: Any, qualifier: str | None, body: bytes, response_headers: dict[str, Any]
    ) -> bytes:
        handler = _resolve(function.handler)
        context = InvokeContext(
            function.function_name,
            function.function_arn,
            str(uuid.uuid4()),
            function.memory_size,
        )
        try:
            result = handler(json.loads(body) if body else {}, context)
        except Exception as exc:  # the Lambda runtime reports every exception the same way
            response_headers["x-amz-function-error"] = "Unhandled"
            result = _error_document(exc)
        return json.dumps(result).encode()

    return _invokes_through(run, packages)


def enable_execution(endpoint_url: str, timeout: float = 5.0) -> None:
    """Switch a running moto server to ASL execution and Docker-less Lambda.

    The interpreter's own clients call ``localhost:$MOTO_PORT``: set ``MOTO_PORT`` to the
    server's port in this process before starting executions.
    """
    request = urllib.request.Request(  # noqa: S310 - the caller's loopback moto server
        f"{endpoint_url.rstrip('/')}/moto-api/config",
        data=json.dumps(MOTO_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
        response.read()


def placeholder_zip() -> bytes:
    """A tiny code package for moto's CreateFunction to store, never run.

    Every function's handler is imported from this checkout (``albumreg.cloud.lambdas``).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "handlers run from the checkout; see albumreg/cloud/lambdas\n")
    return buffer.getvalue()


def deploy(
    session: boto3.session.Session,
    *,
    prefix: str = DEFAULT_PREFIX,
    environment: Mapping[str, str] | None = None,
    endpoint_url: str | None = None,
    memory_mb: int = 128,
    agent: PricingAgentMode = "discogs",
) -> Deployment:
    """Create a role, the task functions of ``TASK_FUNCTIONS`` and the state machine.

    Args:
        session: where to create them (moto, in-process or a server).
        prefix: names of the role, the functions (``<prefix>-<name>``) and the state machine.
        environment: stored as the functions' variables, as the stack would; worker processes
            run with them, in-process handlers read this process's environment or the
            dependencies installed with ``use``.
        endpoint_url: the moto server, when ``AWS_ENDPOINT_URL_*`` does not already say so.
        memory_mb: every function's memory size.
        agent: the price agent, which sets the price function's timeout as on the stack.
    """
    iam = session.client("iam", endpoint_url=endpoint_url)
    lambda_client = session.client("lambda", endpoint_url=endpoint_url)
    sfn = session.client("stepfunctions", endpoint_url=endpoint_url)
    role_arn = iam.create_role(RoleName=prefix, AssumeRolePolicyDocument=_ROLE_POLICY)["Role"][
        "Arn"
    ]
    code = placeholder_zip()
    arns: dict[str, str] = {}
    for function in TASK_FUNCTIONS:
        created = lambda_client.create_function(
            FunctionName=f"{prefix}-{function.name}",
            Runtime=LAMBDA_RUNTIME,
            Role=role_arn,
            Handler=function.handler,
            Code={"ZipFile": code},
            Environment={"Variables": dict(environment or {})},
            Timeout=timeouts.task_timeout(function.name, agent),
            MemorySize=memory_mb,
        )
        arns[function.name] = created["FunctionArn"]
    definition = render(load_definition(), task_substitutions(arns))
    machine = sfn.create_state_machine(
        name=prefix, definition=definition, roleArn=role_arn, type="STANDARD"
    )
    return Deployment(machine["stateMachineArn"], arns)


def execution_name(event: Mapping[str, Any], suffix: str) -> str:
    """``<upload_id>-<suffix>``: moto needs a name, and the upload id makes it findable.

    An event that names no valid object still gets a stable name, from a hash of its JSON, so
    the execution runs and its extract step rejects the event where it is recorded.
    """
    try:
        stem = parse_upload_event(dict(event)).upload_id
    except InvalidUploadError:
        digest = hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode())
        stem = f"unparsed-{digest.hexdigest()[:16]}"
    return f"{stem}-{suffix}"[:80]


def start(sfn: SFNClient, state_machine_arn: str, event: Mapping[str, Any], suffix: str) -> str:
    """Start one execution for one S3 event; returns its ARN."""
    response = sfn.start_execution(
        stateMachineArn=state_machine_arn,
        name=execution_name(event, suffix),
        input=json.dumps(event),
    )
    return response["executionArn"]


def wait_for_execution(
    sfn: SFNClient, execution_arn: str, timeout: float = 30.0, poll: float = 0.05
) -> DescribeExecutionOutputTypeDef:
    """Poll until the execution leaves RUNNING.

    Raises:
        TimeoutError: still running after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_arn} still RUNNING after {timeout} s")
        time.sleep(poll)


def history(sfn: SFNClient, execution_arn: str) -> list[HistoryEventTypeDef]:
    """Every event of one execution, oldest first, across pages."""
    events: list[HistoryEventTypeDef] = []
    paginator = sfn.get_paginator("get_execution_history")
    for page in paginator.paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events
