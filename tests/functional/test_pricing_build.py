"""``build_pricing``: the token from settings or Secrets Manager (moto), and the agent chosen."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from moto import mock_aws

from albumreg.cloud.fake_discogs import PricingApiServer
from handlers.adapters.pricing import BedrockPricingAgent, DiscogsPricingAgent, build_pricing
from handlers.config import ConfigError, Settings
from tests.conftest import six_albums

TOKEN = "secret-manager-token-77"


@pytest.fixture
def server():
    with PricingApiServer(token=TOKEN) as running:
        yield running


@pytest.fixture
def session():
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


def secret(session, value: str) -> str:
    """A fresh secret id per test: tokens are cached per process, by secret id."""
    name = f"albumreg/discogs-{uuid.uuid4().hex[:8]}"
    session.client("secretsmanager").create_secret(Name=name, SecretString=value)
    return name


def settings(url: str, **overrides) -> Settings:
    return Settings(table_name="t", pricing_base_url=url, **overrides)


@pytest.mark.parametrize("stored", [TOKEN, json.dumps({"token": TOKEN})])
def test_build_pricing_reads_token_from_secrets_manager(server, session, stored):
    agent = build_pricing(
        settings(server.url, pricing_token_secret=secret(session, stored)), session
    )
    assert isinstance(agent, DiscogsPricingAgent)
    estimate = agent.estimate(six_albums()[1])
    assert estimate.error is None
    assert estimate.amount is not None


def test_build_pricing_reads_secret_once_per_process(server, session):
    name = secret(session, TOKEN)
    build_pricing(settings(server.url, pricing_token_secret=name), session)
    session.client("secretsmanager").delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    again = build_pricing(settings(server.url, pricing_token_secret=name), session)
    assert again.estimate(six_albums()[0]).error is None


def test_build_pricing_prefers_local_token(server, session):
    agent = build_pricing(
        settings(server.url, pricing_token=TOKEN, pricing_token_secret="missing"), session
    )
    assert agent.estimate(six_albums()[2]).error is None


def test_build_pricing_without_token_is_a_config_error(session):
    with pytest.raises(ConfigError, match="PRICING_TOKEN"):
        build_pricing(settings("http://127.0.0.1:9"), session)


@pytest.mark.parametrize("stored", ["  ", json.dumps({"user": "x"}), "[1, 2]"])
def test_build_pricing_rejects_secret_without_token(session, stored):
    name = secret(session, stored)
    with pytest.raises(ConfigError, match=r"no usable token|no SecretString"):
        build_pricing(settings("http://127.0.0.1:9", pricing_token_secret=name), session)


def test_build_pricing_bedrock_mode_builds_llm_agent(session):
    agent = build_pricing(
        settings(
            "http://127.0.0.1:9",
            pricing_token=TOKEN,
            pricing_agent="bedrock",
            pricing_model_id="m-1",
        ),
        session,
    )
    assert isinstance(agent, BedrockPricingAgent)
    assert "m-1" in repr(agent)
    assert TOKEN not in repr(agent)
