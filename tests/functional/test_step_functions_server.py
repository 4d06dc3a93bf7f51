"""The local runner in moto's server mode, as the local cloud will use it: a threaded moto server
on 127.0.0.1, ASL execution switched on over its API, handlers reaching it by endpoint."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import boto3
import pytest
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from albumreg.cloud.sfn_runner import deploy, enable_execution, routed_invokes
from handlers.adapters.table_schema import create_table_request
from handlers.config import Settings
from handlers.domain.events import parse_upload_event
from handlers.domain.models import ReviewDecision, WorkflowStatus
from handlers.domain.tenant import Pattern
from handlers.wiring import Dependencies, use
from tests.conftest import FixedClock, make_extraction, s3_event
from tests.fakes import RecordingMetrics, ScriptedPricing, ScriptedRecognizer
from tests.functional.conftest import Workbench
from tests.functional.sfn_harness import SfnHarness

pytestmark = pytest.mark.pattern_sf

TABLE = "albumreg-server-test"
BUCKET = "albumreg-uploads-server"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
    server.start()
    saved_lambda = copy.deepcopy(default_user_config["lambda"])
    saved_sfn = copy.deepcopy(default_user_config["stepfunctions"])
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        # The interpreter's own clients call localhost:$MOTO_PORT; ours use the endpoint.
        monkeypatch.setenv("MOTO_PORT", str(port))
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        enable_execution(url)
        yield url
    finally:
        server.stop()
        # enable_execution changed moto's process-wide config; later in-process mocks need it back.
        default_user_config["lambda"] = saved_lambda
        default_user_config["stepfunctions"] = saved_sfn


def test_sfn_runner_in_server_mode_completes_an_upload(endpoint: str) -> None:
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb")
    dynamodb.create_table(**create_table_request(TABLE))
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    deps = Dependencies(
        Settings(table_name=TABLE, review_timeout_seconds=60, metrics_mode="off"),
        session=session,
        recognizer=ScriptedRecognizer(make_extraction()),
        pricing=ScriptedPricing(),
        metrics=RecordingMetrics(),
        clock=FixedClock(),
    )
    sfn = session.client("stepfunctions")
    with routed_invokes(), use(deps):
        deployment = deploy(session)
        bench = Workbench(deps, deps.repo, deps.recognizer, deps.pricing, deps.metrics, s3)  # type: ignore[arg-type]
        harness = SfnHarness(bench, sfn, deployment)
        s3.put_object(Bucket=BUCKET, Key="uploads/shelf.jpg", Body=b"jpeg")
        event = s3_event(BUCKET, "uploads/shelf.jpg", size=4)
        execution_arn = harness.start(event)
        try:
            harness.decide(harness.wait_for_review(event), ReviewDecision(action="approve"))
            described = harness.finish(execution_arn)
        finally:
            if sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING":
                sfn.stop_execution(executionArn=execution_arn)

    assert described["status"] == "SUCCEEDED"
    record = deps.repo.get_upload(Pattern.STEP_FUNCTIONS, parse_upload_event(event).upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
