"""The stack's pure parts: policy builders, timeouts, config checks, the ASL render.

No Pulumi engine: these are the functions the components call inside ``apply``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML (via moto[server]) ships no types

from handlers.config import DEFAULT_PRICING_BASE_URL, DEFAULT_VISION_MODEL
from handlers.domain.policy import DEFAULT_REVIEW_TIMEOUT_SECONDS
from stack import asl, timeouts
from stack.access import DURABLE_ACCESS, TASK_ACCESS
from stack.config import StackConfig, StackConfigError
from stack.iam import Account, PolicyError, allow, bedrock_invoke
from stack.step_functions import render_definition
from tests.functional.stack_program import (
    FAKE_TOKEN,
    ConfigDeclarationError,
    effective_config,
)

ROOT = Path(__file__).parents[2]
ACCOUNT = Account(partition="aws", region="us-east-2", account_id="123456789012")


def test_allow_refuses_a_wildcard_action() -> None:
    with pytest.raises(PolicyError, match="wildcard actions"):
        allow("Everything", ["dynamodb:*"], ["arn:aws:dynamodb:us-east-2:1:table/t"])


def test_allow_refuses_star_for_an_action_that_takes_a_resource() -> None:
    with pytest.raises(PolicyError, match="s3:GetObject"):
        allow("Read", ["s3:GetObject", "xray:PutTraceSegments"], ["*"])
    statement = allow("Trace", ["xray:PutTraceSegments"], ["*"])
    assert statement["Resource"] == ["*"]


def test_bedrock_grant_for_a_foundation_model_is_that_model_in_this_region() -> None:
    [statement] = bedrock_invoke("Vision", "amazon.nova-lite-v1:0", ACCOUNT)
    assert statement["Resource"] == [
        "arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-lite-v1:0"
    ]
    assert "Condition" not in statement


def test_bedrock_grant_for_a_geographic_profile_covers_its_regions_via_the_profile() -> None:
    profile, model = bedrock_invoke("Vision", "eu.anthropic.claude-haiku-4-5-v1:0", ACCOUNT)
    profile_arn = (
        "arn:aws:bedrock:us-east-2:123456789012:inference-profile/"
        "eu.anthropic.claude-haiku-4-5-v1:0"
    )
    assert profile["Resource"] == [profile_arn]
    assert model["Resource"] == [
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-v1:0"
    ]
    assert model["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}}


def test_bedrock_grant_for_a_global_profile_adds_the_regionless_model() -> None:
    _, model = bedrock_invoke("Agent", "global.amazon.nova-2-lite-v1:0", ACCOUNT)
    assert "arn:aws:bedrock:::foundation-model/amazon.nova-2-lite-v1:0" in model["Resource"]


def test_bedrock_grant_for_an_application_profile_arn_is_that_arn() -> None:
    arn = "arn:aws:bedrock:us-east-2:123456789012:application-inference-profile/abc123"
    [statement] = bedrock_invoke("Vision", arn, ACCOUNT)
    assert statement["Resource"] == [arn]


def test_durable_function_may_do_what_every_task_does_and_nothing_more() -> None:
    for task in asl.TASK_FUNCTIONS:
        access = TASK_ACCESS[task.name]
        assert (access | DURABLE_ACCESS) == DURABLE_ACCESS, task.name
    assert set(TASK_ACCESS) == {task.name for task in asl.TASK_FUNCTIONS}


def test_durable_timeout_covers_six_agents_with_their_retries_and_the_extract() -> None:
    for agent in ("discogs", "bedrock"):
        longest = max(timeouts.extract_seconds(), timeouts.price_agents_with_retries_seconds(agent))
        assert timeouts.durable_timeout(agent) == int(-(-longest // 1)) <= 900
    assert timeouts.durable_timeout("discogs") >= timeouts.price_agents_with_retries_seconds(
        "discogs"
    )
    assert timeouts.price_timeout("bedrock") > timeouts.price_timeout("discogs")
    assert timeouts.store_timeout() < timeouts.extract_timeout() <= 900


def declared() -> dict[str, dict[str, object]]:
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]


def test_every_key_the_stack_reads_is_declared_with_type_and_description() -> None:
    source = (ROOT / "stack" / "config.py").read_text()
    read = set(re.findall(r'config\.(?:require\w*|get\w*)\(\s*"(\w+)"', source))
    declarations = declared()
    assert read == set(declarations)
    for key, declaration in declarations.items():
        assert declaration.get("type") in {"string", "integer", "boolean"}, key
        assert declaration.get("description"), key
        assert "default" in declaration or declaration.get("secret"), key
    assert declarations["pricingToken"]["secret"] is True
    assert "default" not in declarations["pricingToken"]


def test_declared_defaults_are_the_handlers_defaults() -> None:
    declarations = declared()
    assert declarations["reviewTimeoutSeconds"]["default"] == DEFAULT_REVIEW_TIMEOUT_SECONDS
    assert declarations["visionModelId"]["default"] == DEFAULT_VISION_MODEL
    assert declarations["pricingBaseUrl"]["default"] == DEFAULT_PRICING_BASE_URL


def test_a_stack_without_the_token_or_with_it_in_plain_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigDeclarationError, match="pricingToken is secret and has no value"):
        effective_config(ROOT / "Pulumi.dev.yaml", {})
    plain = tmp_path / "Pulumi.plain.yaml"
    plain.write_text(yaml.safe_dump({"config": {"albumreg:pricingToken": FAKE_TOKEN}}))
    with pytest.raises(ConfigDeclarationError, match="plain text"):
        effective_config(plain, {"albumreg:pricingToken": FAKE_TOKEN})


def valid_config() -> StackConfig:
    return StackConfig(
        project="albumreg",
        stack="test",
        region="us-east-2",
        review_timeout_seconds=3600,
        vision_model_id=DEFAULT_VISION_MODEL,
        pricing_agent="discogs",
        pricing_model_id=DEFAULT_VISION_MODEL,
        pricing_base_url=DEFAULT_PRICING_BASE_URL,
        pricing_token=None,  # type: ignore[arg-type]  # check() never reads it
        architecture="arm64",
        memory_mb=1024,
        state_machine_log_level="ERROR",
        state_machine_include_execution_data=False,
        log_retention_days=14,
        upload_expiry_days=30,
        alarm_email=None,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"architecture": "arm"}, "lambdaArchitecture"),
        ({"state_machine_log_level": "DEBUG"}, "stateMachineLogLevel"),
        ({"log_retention_days": 10}, "logRetentionDays"),
        ({"memory_mb": 64}, "lambdaMemoryMb"),
        ({"review_timeout_seconds": 0}, "reviewTimeoutSeconds"),
        ({"review_timeout_seconds": 31_622_400}, "durable limit"),
        ({"pricing_agent": "ebay"}, "pricingAgent"),
        ({"pricing_base_url": "http://api.discogs.com"}, "https"),
    ],
)
def test_stack_config_check_names_the_bad_key(change: dict[str, object], message: str) -> None:
    valid_config().check()
    with pytest.raises(StackConfigError, match=message):
        dataclasses.replace(valid_config(), **change).check()  # type: ignore[arg-type]


def test_handler_settings_carry_the_config_and_the_secret_arn() -> None:
    settings = valid_config().handler_settings("albums", "arn:secret")
    assert settings.table_name == "albums"
    assert settings.pricing_token_secret == "arn:secret"
    assert settings.pricing_token is None
    assert settings.metrics_mode == "emf"


def test_render_definition_refuses_a_missing_function() -> None:
    arns = {
        task.name: f"arn:aws:lambda:us-east-2:1:function:{task.name}" for task in asl.TASK_FUNCTIONS
    }
    assert "${" not in render_definition(arns)
    arns.pop(asl.TASK_FUNCTIONS[0].name)
    with pytest.raises(KeyError):
        render_definition(arns)
