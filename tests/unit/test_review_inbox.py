"""The review inbox speaks each orchestrator's callback API and maps its refusals."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from handlers.adapters.review_inbox import OrchestratorReviewInbox
from handlers.domain.errors import ReviewExpiredError, TransientError
from handlers.domain.models import ReviewResult, ReviewState
from handlers.domain.tenant import Pattern
from tests.conftest import T0, six_albums

RESULT = ReviewResult(outcome=ReviewState.APPROVED, albums=six_albums(), decided_at=T0)


def clients():
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    lam = boto3.client("lambda", region_name="us-east-1")
    return sfn, lam


def test_step_functions_review_sends_task_success() -> None:
    sfn, lam = clients()
    with Stubber(sfn) as stub:
        stub.add_response(
            "send_task_success", {}, {"taskToken": "tok", "output": RESULT.model_dump_json()}
        )
        OrchestratorReviewInbox(sfn, lam).complete(Pattern.STEP_FUNCTIONS, "tok", RESULT)
        stub.assert_no_pending_responses()


def test_durable_review_sends_callback_success() -> None:
    sfn, lam = clients()
    with Stubber(lam) as stub:
        stub.add_response(
            "send_durable_execution_callback_success",
            {},
            {"CallbackId": "cb", "Result": RESULT.model_dump_json().encode()},
        )
        OrchestratorReviewInbox(sfn, lam).complete(Pattern.DURABLE, "cb", RESULT)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("code", ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"])
def test_step_functions_gone_token_is_expired(code: str) -> None:
    sfn, lam = clients()
    with Stubber(sfn) as stub:
        stub.add_client_error("send_task_success", service_error_code=code)
        with pytest.raises(ReviewExpiredError, match=code):
            OrchestratorReviewInbox(sfn, lam).complete(Pattern.STEP_FUNCTIONS, "x", RESULT)


def test_durable_forged_callback_id_is_expired() -> None:
    sfn, lam = clients()
    with Stubber(lam) as stub:
        stub.add_client_error(
            "send_durable_execution_callback_success",
            service_error_code="ResourceNotFoundException",
        )
        with pytest.raises(ReviewExpiredError):
            OrchestratorReviewInbox(sfn, lam).complete(Pattern.DURABLE, "forged", RESULT)


def test_throttled_completion_is_transient() -> None:
    sfn, lam = clients()
    with Stubber(lam) as stub:
        stub.add_client_error(
            "send_durable_execution_callback_success",
            service_error_code="TooManyRequestsException",
        )
        with pytest.raises(TransientError):
            OrchestratorReviewInbox(sfn, lam).complete(Pattern.DURABLE, "cb", RESULT)
