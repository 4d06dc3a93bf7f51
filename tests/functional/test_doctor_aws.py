"""``albumreg doctor``'s AWS checks against botocore Stubbers and a loopback pricing API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from albumreg.cli.preflight import Check, aws_checks, foundation_model
from albumreg.client.target import Target, TargetError
from albumreg.cloud.fake_discogs import PricingApiServer
from albumreg.tools.price_list import PRICE_LIST_REGION, WANTED

REGION = "us-east-2"
TOKEN = "doctor-test-token"
MODEL = "us.amazon.nova-lite-v1:0"
TARGET = Target(
    bucket="albumreg-uploads",
    table_name="albumreg-table",
    state_machine_arn=f"arn:aws:states:{REGION}:123456789012:stateMachine:sf",
    durable_function=f"arn:aws:lambda:{REGION}:123456789012:function:ldf:live",
    region=REGION,
    source="pulumi stack output",
)


class Clients:
    """One stubbed client per service; each test queues what AWS would answer."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}

    def __call__(self, service: str) -> Any:
        return self.clients[service]

    def stub(self, service: str) -> Stubber:
        if service not in self.stubbers:
            region = PRICE_LIST_REGION if service == "pricing" else REGION
            make: Any = boto3.client
            client = make(
                service,
                region_name=region,
                aws_access_key_id="test",
                aws_secret_access_key="test",
            )
            self.clients[service] = client
            self.stubbers[service] = Stubber(client)
            self.stubbers[service].activate()
        return self.stubbers[service]

    def verify(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()
            stubber.deactivate()


@pytest.fixture
def clients() -> Iterator[Clients]:
    made = Clients()
    yield made
    made.verify()


@pytest.fixture
def pricing_api() -> Iterator[PricingApiServer]:
    with PricingApiServer(token=TOKEN) as server:
        yield server


AVAILABLE = {
    "agreementAvailability": {"status": "AVAILABLE"},
    "authorizationStatus": "AUTHORIZED",
    "entitlementAvailability": "AVAILABLE",
    "regionAvailability": "AVAILABLE",
}


def healthy(clients: Clients, availability: dict[str, Any] = AVAILABLE) -> None:
    clients.stub("sts").add_response(
        "get_caller_identity",
        {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/me", "UserId": "AID"},
    )
    clients.stub("bedrock").add_response(
        "get_foundation_model_availability",
        {"modelId": "amazon.nova-lite-v1:0", **availability},
        {"modelId": "amazon.nova-lite-v1:0"},
    )
    clients.stub("s3").add_response("head_bucket", {}, {"Bucket": TARGET.bucket})
    clients.stub("dynamodb").add_response(
        "describe_table",
        {"Table": {"TableName": TARGET.table_name}},
        {"TableName": "albumreg-table"},
    )
    clients.stub("stepfunctions").add_response(
        "describe_state_machine",
        {
            "stateMachineArn": TARGET.state_machine_arn,
            "name": "sf",
            "definition": "{}",
            "roleArn": "arn:aws:iam::123456789012:role/sf",
            "type": "STANDARD",
            "creationDate": "2026-12-03T00:00:00Z",
        },
        {"stateMachineArn": TARGET.state_machine_arn},
    )
    clients.stub("lambda").add_response(
        "get_function_configuration",
        {"FunctionName": "ldf"},
        {"FunctionName": TARGET.durable_function},
    )


def run(clients: Clients, pricing_api: PricingApiServer, **overrides: Any) -> list[Check]:
    region = overrides.pop("region", REGION)
    options: dict[str, Any] = {
        "vision_model_id": MODEL,
        "pricing_base_url": pricing_api.url,
        "pricing_token": TOKEN,
        "load_target": lambda: TARGET,
        **overrides,
    }
    return list(aws_checks(clients, region, **options))


def test_every_check_passes_on_a_healthy_account_and_stack(clients, pricing_api):
    healthy(clients)
    checks = run(clients, pricing_api)
    assert [c.name for c in checks] == [
        "AWS credentials and Region",
        f"durable functions in {REGION}",
        f"Bedrock access to {MODEL}",
        f"pricing token accepted by {pricing_api.url}",
        "stack outputs",
        "upload bucket",
        "workflow table",
        "state machine",
        "durable function",
    ]
    assert all(c.ok for c in checks), [c.line() for c in checks if not c.ok]
    assert all(c.line().startswith("PASS ") for c in checks)


def test_no_credentials_stops_at_the_first_line_with_its_fix(clients, pricing_api):
    clients.stub("sts").add_client_error("get_caller_identity", "ExpiredToken", "expired")
    (check,) = run(clients, pricing_api)
    assert not check.ok
    assert "ExpiredToken" in check.line()
    assert "-> fix: refresh the credentials" in check.line()


def test_a_model_without_access_fails_with_the_console_fix(clients, pricing_api):
    healthy(
        clients,
        {
            **AVAILABLE,
            "agreementAvailability": {"status": "NOT_AVAILABLE"},
            "authorizationStatus": "NOT_AUTHORIZED",
        },
    )
    checks = {c.name: c for c in run(clients, pricing_api)}
    model = checks[f"Bedrock access to {MODEL}"]
    assert not model.ok
    assert "authorizationStatus=NOT_AUTHORIZED" in model.detail
    assert "Model access" in model.fix


def test_a_region_without_durable_functions_asks_the_price_list(clients, pricing_api):
    healthy(clients)
    for _ in {wanted.service_code for wanted in WANTED}:  # each service asked: no product
        clients.stub("pricing").add_response("get_products", {"PriceList": []})
    checks = {c.name: c for c in run(clients, pricing_api, region="eu-south-2")}
    durable = checks["durable functions in eu-south-2"]
    assert not durable.ok
    assert "us-east-2" in durable.fix


def test_a_rejected_pricing_token_fails(clients, pricing_api):
    healthy(clients)
    checks = {c.name: c for c in run(clients, pricing_api, pricing_token="wrong-token")}
    token = checks[f"pricing token accepted by {pricing_api.url}"]
    assert not token.ok
    assert "401" in token.detail
    assert "discogs.com/settings/developers" in token.fix


def test_without_a_stack_the_outputs_check_says_pulumi_up(clients, pricing_api):
    healthy(clients)
    for service in ("s3", "dynamodb", "stepfunctions", "lambda"):  # never called
        clients.stubbers.pop(service).deactivate()

    def no_stack() -> Target:
        raise TargetError("no running system found")

    checks = run(clients, pricing_api, load_target=no_stack)
    assert checks[-1].name == "stack outputs"
    assert not checks[-1].ok
    assert "pulumi up" in checks[-1].fix


def test_inference_profiles_resolve_to_their_foundation_model():
    assert foundation_model("us.amazon.nova-lite-v1:0") == "amazon.nova-lite-v1:0"
    assert foundation_model("global.anthropic.claude-haiku-4-5") == "anthropic.claude-haiku-4-5"
    assert foundation_model("amazon.nova-lite-v1:0") == "amazon.nova-lite-v1:0"
