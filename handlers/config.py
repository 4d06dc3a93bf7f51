"""Settings read once from the environment: the Pulumi stack and the local cloud set the same names.

Only ``handlers.wiring`` calls ``Settings.from_env``; everything else receives values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from handlers.domain.events import MAX_IMAGE_BYTES, UPLOAD_PREFIX
from handlers.domain.policy import DEFAULT_REVIEW_TIMEOUT_SECONDS

PricingAgentMode = Literal["discogs", "bedrock"]
MetricsMode = Literal["emf", "api", "off"]
LambdaArchitecture = Literal["arm64", "x86_64"]
T = TypeVar("T", bound=str)

DEFAULT_VISION_MODEL = "us.amazon.nova-lite-v1:0"
DEFAULT_PRICING_BASE_URL = "https://api.discogs.com"
USER_AGENT = "albumreg/0.1 (+vinyl album registration)"

# --- Lambda sizing, for the cost model ---
DEFAULT_LAMBDA_MEMORY_MB = 1024
"""Memory of every function; the stack's ``lambdaMemoryMb`` default (a test holds them equal)."""
DEFAULT_LAMBDA_ARCHITECTURE: LambdaArchitecture = "arm64"
"""Architecture of every function; the stack's ``lambdaArchitecture`` default."""


class ConfigError(ValueError):
    """A required setting is missing or malformed; the message names the variable."""


def _choice(env: Mapping[str, str], name: str, default: T, allowed: tuple[T, ...]) -> T:
    value = env.get(name, default)
    for option in allowed:
        if value == option:
            return option
    raise ConfigError(f"{name}={value!r}; expected one of {', '.join(allowed)}")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the handlers need to know about where they run.

    Attributes:
        table_name: the single DynamoDB table (``TABLE_NAME``).
        upload_prefix: key prefix that starts workflows (``UPLOAD_PREFIX``).
        review_timeout_seconds: how long the human step waits (``REVIEW_TIMEOUT_SECONDS``).
        max_image_bytes: uploads above this are rejected (``MAX_IMAGE_BYTES``).
        vision_model_id: Bedrock model or inference profile id (``VISION_MODEL_ID``).
        pricing_agent: ``discogs`` (deterministic) or ``bedrock`` (LLM tool use)
            (``PRICING_AGENT``).
        pricing_model_id: model of the LLM pricing agent (``PRICING_MODEL_ID``).
        pricing_base_url: the Discogs API or the local pricing API (``PRICING_BASE_URL``).
        pricing_token_secret: Secrets Manager secret id holding the token, on AWS
            (``PRICING_TOKEN_SECRET``).
        pricing_token: the token itself, for the local cloud only (``PRICING_TOKEN``).
        metrics_mode: ``emf`` in Lambda, ``api`` (PutMetricData) locally, or ``off``
            (``METRICS_MODE``).
        lambda_memory_mb: memory of the functions, which the cost model multiplies billed
            duration by (``LAMBDA_MEMORY_MB``).
        lambda_architecture: ``arm64`` or ``x86_64``; the duration price depends on it
            (``LAMBDA_ARCHITECTURE``).
    """

    table_name: str
    upload_prefix: str = UPLOAD_PREFIX
    review_timeout_seconds: int = DEFAULT_REVIEW_TIMEOUT_SECONDS
    max_image_bytes: int = MAX_IMAGE_BYTES
    vision_model_id: str = DEFAULT_VISION_MODEL
    pricing_agent: PricingAgentMode = "discogs"
    pricing_model_id: str = DEFAULT_VISION_MODEL
    pricing_base_url: str = DEFAULT_PRICING_BASE_URL
    pricing_token_secret: str | None = None
    pricing_token: str | None = None
    metrics_mode: MetricsMode = "emf"
    lambda_memory_mb: int = DEFAULT_LAMBDA_MEMORY_MB
    lambda_architecture: LambdaArchitecture = DEFAULT_LAMBDA_ARCHITECTURE

    def __repr__(self) -> str:
        """Never print the token, even in a traceback."""
        shown = "***" if self.pricing_token else None
        return (
            f"Settings(table_name={self.table_name!r}, vision_model_id={self.vision_model_id!r}, "
            f"pricing_agent={self.pricing_agent!r}, pricing_base_url={self.pricing_base_url!r}, "
            f"pricing_token={shown!r}, review_timeout_seconds={self.review_timeout_seconds})"
        )

    def to_env(self) -> dict[str, str]:
        """The environment variables ``from_env`` reads back into these settings.

        The Pulumi stack sets a function's environment from this, so the deployed names and
        the names read here cannot drift apart. Unset optional values are left out.
        """
        values: dict[str, str | int | None] = {
            "TABLE_NAME": self.table_name,
            "UPLOAD_PREFIX": self.upload_prefix,
            "REVIEW_TIMEOUT_SECONDS": self.review_timeout_seconds,
            "MAX_IMAGE_BYTES": self.max_image_bytes,
            "VISION_MODEL_ID": self.vision_model_id,
            "PRICING_AGENT": self.pricing_agent,
            "PRICING_MODEL_ID": self.pricing_model_id,
            "PRICING_BASE_URL": self.pricing_base_url,
            "PRICING_TOKEN_SECRET": self.pricing_token_secret,
            "PRICING_TOKEN": self.pricing_token,
            "METRICS_MODE": self.metrics_mode,
            "LAMBDA_MEMORY_MB": self.lambda_memory_mb,
            "LAMBDA_ARCHITECTURE": self.lambda_architecture,
        }
        return {name: str(value) for name, value in values.items() if value is not None}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every setting; a clear ``ConfigError`` names what is wrong."""
        env = os.environ if env is None else env
        table_name = env.get("TABLE_NAME", "")
        if not table_name:
            raise ConfigError("TABLE_NAME is not set")
        return cls(
            table_name=table_name,
            upload_prefix=env.get("UPLOAD_PREFIX", UPLOAD_PREFIX),
            review_timeout_seconds=_positive_int(
                env, "REVIEW_TIMEOUT_SECONDS", DEFAULT_REVIEW_TIMEOUT_SECONDS
            ),
            max_image_bytes=_positive_int(env, "MAX_IMAGE_BYTES", MAX_IMAGE_BYTES),
            vision_model_id=env.get("VISION_MODEL_ID", DEFAULT_VISION_MODEL),
            pricing_agent=_choice(env, "PRICING_AGENT", "discogs", ("discogs", "bedrock")),
            pricing_model_id=env.get("PRICING_MODEL_ID", DEFAULT_VISION_MODEL),
            pricing_base_url=env.get("PRICING_BASE_URL", DEFAULT_PRICING_BASE_URL).rstrip("/"),
            pricing_token_secret=env.get("PRICING_TOKEN_SECRET") or None,
            pricing_token=env.get("PRICING_TOKEN") or None,
            metrics_mode=_choice(env, "METRICS_MODE", "emf", ("emf", "api", "off")),
            lambda_memory_mb=_positive_int(env, "LAMBDA_MEMORY_MB", DEFAULT_LAMBDA_MEMORY_MB),
            lambda_architecture=_choice(
                env, "LAMBDA_ARCHITECTURE", DEFAULT_LAMBDA_ARCHITECTURE, ("arm64", "x86_64")
            ),
        )
