"""Resumes a paused workflow on either orchestrator with the same ``ReviewResult`` JSON.

Step Functions gets ``SendTaskSuccess``; durable functions get
``SendDurableExecutionCallbackSuccess``. A token nobody waits for any more is refused at once;
a fault botocore counts as transient is raised as ``TransientError``: the same call may succeed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from handlers.adapters.aws_errors import describe, is_transient
from handlers.domain.errors import ReviewExpiredError, TransientError
from handlers.domain.models import ReviewResult
from handlers.domain.tenant import Pattern

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_stepfunctions import SFNClient

# What each service answers when nobody waits for the token any more: it timed out, was used
# already, or was never issued (a forged token).
_GONE = frozenset(
    {
        "TaskDoesNotExist",
        "TaskTimedOut",
        "InvalidToken",
        "ResourceNotFoundException",
        "CallbackTimeoutException",
        "InvalidParameterValueException",
    }
)
HTTP_NOT_FOUND = 404
"""The status of Lambda's ResourceNotFoundException, which the local control plane sends bare."""


class OrchestratorReviewInbox:
    """``ReviewInbox`` over the two orchestrators' callback APIs (clients injected)."""

    def __init__(self, stepfunctions: SFNClient, lambda_client: LambdaClient) -> None:
        self._sfn = stepfunctions
        self._lambda = lambda_client

    def complete(self, pattern: Pattern, token: str, result: ReviewResult) -> None:
        """Send ``result`` to the execution waiting on ``token``.

        Raises:
            ReviewExpiredError: the execution no longer waits on this token.
            TransientError: the service throttled, failed or could not be reached; the same
                call may succeed later.
        """
        payload = result.model_dump_json()
        try:
            if pattern is Pattern.STEP_FUNCTIONS:
                self._sfn.send_task_success(taskToken=token, output=payload)
            else:
                self._lambda.send_durable_execution_callback_success(
                    CallbackId=token, Result=payload.encode()
                )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            # The local durable control plane answers "404" where Lambda names the error.
            if code in _GONE or status == HTTP_NOT_FOUND:
                raise ReviewExpiredError(
                    f"the {pattern.label} execution no longer waits for this review ({code})"
                ) from exc
            if is_transient(exc):
                raise TransientError(f"{pattern.label} is busy ({code}); try again") from exc
            raise
        except BotoCoreError as exc:
            if is_transient(exc):
                raise TransientError(
                    f"{pattern.label} is unreachable ({describe(exc)}); try again"
                ) from exc
            raise
