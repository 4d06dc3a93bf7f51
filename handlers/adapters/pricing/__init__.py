"""Price agents behind the ``PricingSource`` port, and the one function that builds them.

Lambda code: imports boto3/botocore, urllib3 and pydantic only, never rapidfuzz or anything
from ``local``. The token is read once per process and never logged.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from botocore.config import Config

from handlers.adapters.pricing.agent import DiscogsPricingAgent
from handlers.adapters.pricing.discogs import DiscogsClient
from handlers.adapters.pricing.llm_agent import BedrockPricingAgent
from handlers.adapters.pricing.transport import (
    PRICING_CONNECT_TIMEOUT_SECONDS,
    PRICING_HTTP_RETRY,
    Token,
    Transport,
)
from handlers.config import USER_AGENT, ConfigError, Settings
from handlers.domain.policy import LLM_AGENT_READ_TIMEOUT_SECONDS
from handlers.domain.ports import PricingSource

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_secretsmanager import SecretsManagerClient

__all__ = ["BedrockPricingAgent", "DiscogsPricingAgent", "build_pricing"]

LLM_CLIENT_CONFIG = Config(
    connect_timeout=PRICING_CONNECT_TIMEOUT_SECONDS,
    read_timeout=LLM_AGENT_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "max_attempts": PRICING_HTTP_RETRY.max_attempts},
)
"""Bedrock's own standard retries handle throttling of the agent's Converse turns."""

_TOKENS: dict[str, Token] = {}
_TOKENS_LOCK = threading.Lock()


def build_pricing(settings: Settings, session: boto3.session.Session) -> PricingSource:
    """The price agent the settings ask for, over one shared HTTP pool.

    Args:
        settings: ``pricing_agent`` picks the agent, ``pricing_base_url`` the API, and
            ``pricing_token`` or ``pricing_token_secret`` the token.
        session: where the Secrets Manager and Bedrock clients come from.

    Raises:
        ConfigError: no token configured, or the secret holds none.
    """
    token = _token(settings, session)
    client = DiscogsClient(
        Transport(base_url=settings.pricing_base_url, token=token, user_agent=USER_AGENT)
    )
    if settings.pricing_agent == "bedrock":
        bedrock = session.client("bedrock-runtime", config=LLM_CLIENT_CONFIG)
        return BedrockPricingAgent(bedrock, settings.pricing_model_id, client)
    return DiscogsPricingAgent(client)


def _token(settings: Settings, session: boto3.session.Session) -> Token:
    if settings.pricing_token:
        return Token(settings.pricing_token)
    secret_id = settings.pricing_token_secret
    if not secret_id:
        raise ConfigError("set PRICING_TOKEN_SECRET (on AWS) or PRICING_TOKEN (locally)")
    with _TOKENS_LOCK:
        # Once per process: six agents share it, and warm invocations skip the API call.
        if secret_id not in _TOKENS:
            _TOKENS[secret_id] = read_secret_token(session.client("secretsmanager"), secret_id)
        return _TOKENS[secret_id]


def read_secret_token(secrets: SecretsManagerClient, secret_id: str) -> Token:
    """The token from a secret holding either the bare token or ``{"token": "..."}``.

    Raises:
        ConfigError: the secret has no string value or no usable token.
    """
    value = secrets.get_secret_value(SecretId=secret_id).get("SecretString")
    if not value:
        raise ConfigError(f"secret {secret_id} has no SecretString")
    text = value.strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("token", ""))
        except (ValueError, AttributeError):
            text = ""
    try:
        return Token(text)
    except ValueError:
        raise ConfigError(f"secret {secret_id} holds no usable token") from None
