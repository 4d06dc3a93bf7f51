"""Every AWS adapter follows the one rule: a fault that may pass is a ``TransientError`` for the
orchestrator to retry, a fault that cannot is refused at once (botocore ``Stubber`` clients)."""

from __future__ import annotations

from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.adapters.review_inbox import OrchestratorReviewInbox
from handlers.adapters.s3_images import S3ImageStore
from handlers.domain.errors import DuplicateUploadError, InvalidImageError, TransientError
from handlers.domain.models import ReviewResult, ReviewState
from handlers.domain.tenant import Pattern
from tests.conftest import T0, six_albums

RESULT = ReviewResult(outcome=ReviewState.APPROVED, albums=six_albums(), decided_at=T0)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("SlowDown", 503, TransientError),
        ("InternalError", 500, TransientError),
        ("NoSuchKey", 404, InvalidImageError),
        ("AccessDenied", 403, ClientError),
    ],
)
def test_s3_read_faults_follow_the_rule(code: str, status: int, expected: type[Exception]) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    with Stubber(s3) as stub:
        stub.add_client_error("get_object", service_error_code=code, http_status_code=status)
        with pytest.raises(expected):
            S3ImageStore(s3).read("bucket", "uploads/a.jpg", 1024)


def test_review_inbox_service_fault_is_transient() -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    lam = boto3.client("lambda", region_name="us-east-1")
    with Stubber(sfn) as stub:
        stub.add_client_error(
            "send_task_success", service_error_code="ServiceUnavailable", http_status_code=503
        )
        with pytest.raises(TransientError, match="busy"):
            OrchestratorReviewInbox(sfn, lam).complete(Pattern.STEP_FUNCTIONS, "tok", RESULT)


class Unreachable:
    """A Lambda client whose endpoint cannot be reached."""

    def send_durable_execution_callback_success(self, **_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://lambda.us-east-1.amazonaws.com")


def test_review_inbox_unreachable_service_is_transient() -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    inbox = OrchestratorReviewInbox(sfn, cast(Any, Unreachable()))
    with pytest.raises(TransientError, match="unreachable"):
        inbox.complete(Pattern.DURABLE, "cb", RESULT)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ProvisionedThroughputExceededException", TransientError),
        ("ThrottlingException", TransientError),
        ("ConditionalCheckFailedException", DuplicateUploadError),
        ("ValidationException", ClientError),
    ],
)
def test_dynamodb_step_writes_follow_the_rule(
    code: str, expected: type[Exception], upload: Any
) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    with Stubber(dynamodb) as stub:
        stub.add_client_error("put_item", service_error_code=code)
        with pytest.raises(expected):
            DynamoDbAlbumRepository(dynamodb, "table").claim_upload(
                Pattern.STEP_FUNCTIONS, upload, "execution-1", T0
            )
