"""The durable plane's way into the worker pools: the testing SDK's ``Invoker``, over processes.

The SDK's ``LambdaInvoker`` sends each handler invocation to a Lambda endpoint as an ``Invoke``
whose payload is the durable invocation input; this one hands the same payload to the local
Lambda service instead, so the durable handler runs in a worker process and, having no
in-memory client, checkpoints to the plane's web API over HTTP (``AWS_ENDPOINT_URL_LAMBDA``),
as it does against Lambda. A failed invocation (the handler raised, the worker crashed or timed
out, no environment was free) raises, and the plane retries the invocation as the service does.
"""

from __future__ import annotations

import json

from aws_durable_execution_sdk_python.execution import (
    DurableExecutionInvocationInput,
    InitialExecutionState,
)
from aws_durable_execution_sdk_python_testing.checkpoint.processor import (
    DEFAULT_MAX_INVOCATION_PAGE_BYTES,
)
from aws_durable_execution_sdk_python_testing.exceptions import (
    DurableFunctionsTestError,
    ResourceNotFoundException,
)
from aws_durable_execution_sdk_python_testing.execution import (
    Execution,
    OperationPaginatorState,
)
from aws_durable_execution_sdk_python_testing.invoker import InvokeResponse

from albumreg.cloud.lambdas.service import FunctionSpec, LambdaService, TooManyRequestsError


class WorkerInvoker:
    """Runs one durable function's invocations in the local Lambda service's workers.

    Args:
        service: the worker pools.
        function: the durable function (its qualifier is the alias executions run under).
        max_page_bytes: how much of the execution's state the first page carries, as the
            SDK's own invokers page it.
    """

    def __init__(
        self,
        service: LambdaService,
        function: FunctionSpec,
        max_page_bytes: int = DEFAULT_MAX_INVOCATION_PAGE_BYTES,
    ) -> None:
        self._service = service
        self._function = function
        self._max_page_bytes = max_page_bytes

    def create_invocation_input(self, execution: Execution) -> DurableExecutionInvocationInput:
        """The payload Lambda sends: the state's first page and a fresh checkpoint token."""
        paginator = OperationPaginatorState.pin(execution)
        operations, next_marker = paginator.page(None, self._max_page_bytes)
        return DurableExecutionInvocationInput(
            durable_execution_arn=execution.durable_execution_arn,
            checkpoint_token=execution.get_new_checkpoint_token(),
            initial_execution_state=InitialExecutionState(
                operations=operations, next_marker=next_marker or ""
            ),
            updated_operation_ids=list(execution.updated_operation_ids),
        )

    def invoke(
        self,
        function_name: str,
        input: DurableExecutionInvocationInput,
        endpoint_url: str | None = None,
        tenant_id: str | None = None,
        account_id: str | None = None,
        region_name: str | None = None,
    ) -> InvokeResponse:
        """Run the handler once in a worker and return its output.

        The arguments after ``input`` follow the SDK's ``Invoker`` protocol; there is one
        endpoint, one account and one Region here, so they change nothing.

        Raises:
            ResourceNotFoundException: the name is not this invoker's function.
            DurableFunctionsTestError: the invocation failed; the plane retries it.
        """
        if function_name.split(":", 1)[0] != self._function.name:
            raise ResourceNotFoundException(f"Function not found: {function_name}")
        payload = json.dumps(input.to_json_dict()).encode()
        try:
            invocation = self._service.invoke(self._function, payload)
        except TooManyRequestsError as exc:
            raise DurableFunctionsTestError(f"Lambda invocation failed: {exc}") from exc
        if invocation.failure is not None:
            raise DurableFunctionsTestError(
                f"Lambda invocation failed with status 200: {invocation.payload.decode()}"
            )
        return InvokeResponse.from_payload(invocation.payload, invocation.request_id)

    def update_endpoint(self, endpoint_url: str, region_name: str) -> None:
        """Nothing to update: invocations never leave this machine's worker pools."""

    def inherit_endpoint(self, child_execution_arn: str, parent_execution_arn: str) -> None:
        """Nothing to inherit: there is one endpoint, the worker pools."""
