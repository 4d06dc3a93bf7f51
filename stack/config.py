"""The stack's configuration, read once from Pulumi config and checked before any resource exists.

Every key is declared in ``Pulumi.yaml`` with its type, description and default; the Pulumi
CLI applies those defaults, so this module ``require``s them rather than repeating them.
Pulumi only: never imported by Lambda code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pulumi

from handlers.config import PricingAgentMode, Settings
from handlers.domain.events import UPLOAD_PREFIX
from handlers.domain.policy import DURABLE_EXECUTION_MARGIN_SECONDS
from stack.packaging import MACHINES, Architecture

STATE_MACHINE_LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
PRICING_AGENTS: tuple[PricingAgentMode, ...] = ("discogs", "bedrock")
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827)
"""The values CloudWatch Logs accepts for ``retentionInDays`` (never-expire left out on purpose)."""
DURABLE_MAX_EXECUTION_SECONDS = 31_622_400
"""Lambda's ceiling on a durable execution's timeout (366 days)."""
LAMBDA_MEMORY_RANGE = (128, 10_240)


class StackConfigError(ValueError):
    """A config value is out of range; the message names the key and how to fix it."""


@dataclass(frozen=True)
class StackConfig:
    """The settings of one stack (``pulumi config``), typed and checked.

    Attributes:
        project: the Pulumi project name, used in log group names.
        stack: the stack name (``dev``...), used in log group names.
        region: ``aws:region``; durable functions exist only in some regions.
        review_timeout_seconds: how long both workflows wait for a person.
        vision_model_id: Bedrock model or inference profile that reads the covers.
        pricing_agent: ``discogs`` (deterministic) or ``bedrock`` (LLM with tools).
        pricing_model_id: the model of the ``bedrock`` pricing agent.
        pricing_base_url: the pricing API.
        pricing_token: the pricing API token, a Pulumi secret.
        architecture: Lambda architecture of every function.
        memory_mb: Lambda memory of every function, the same on both sides for a fair comparison.
        state_machine_log_level: Step Functions log level.
        state_machine_include_execution_data: whether logs carry state input and output.
        log_retention_days: retention of every log group.
        upload_expiry_days: uploaded photos are deleted after this many days.
        alarm_email: where alarm notifications go; None for no notifications.
    """

    project: str
    stack: str
    region: str
    review_timeout_seconds: int
    vision_model_id: str
    pricing_agent: PricingAgentMode
    pricing_model_id: str
    pricing_base_url: str
    pricing_token: pulumi.Output[str]
    architecture: Architecture
    memory_mb: int
    state_machine_log_level: str
    state_machine_include_execution_data: bool
    log_retention_days: int
    upload_expiry_days: int
    alarm_email: str | None

    @property
    def durable_execution_timeout_seconds(self) -> int:
        """The durable execution outlives the longest review by the policy's margin."""
        return self.review_timeout_seconds + DURABLE_EXECUTION_MARGIN_SECONDS

    def handler_settings(self, table_name: str, pricing_token_secret: str) -> Settings:
        """What the Lambda handlers read from their environment (see ``Settings.to_env``)."""
        return Settings(
            table_name=table_name,
            upload_prefix=UPLOAD_PREFIX,
            review_timeout_seconds=self.review_timeout_seconds,
            vision_model_id=self.vision_model_id,
            pricing_agent=self.pricing_agent,
            pricing_model_id=self.pricing_model_id,
            pricing_base_url=self.pricing_base_url,
            pricing_token_secret=pricing_token_secret,
            metrics_mode="emf",
        )

    def check(self) -> None:
        """Refuse values AWS would reject at deploy time, or that break the workflow.

        Raises:
            StackConfigError: naming the first bad key.
        """
        _positive("reviewTimeoutSeconds", self.review_timeout_seconds)
        _positive("uploadExpiryDays", self.upload_expiry_days)
        _one_of("pricingAgent", self.pricing_agent, PRICING_AGENTS)
        _one_of("lambdaArchitecture", self.architecture, tuple(MACHINES))
        _one_of("stateMachineLogLevel", self.state_machine_log_level, STATE_MACHINE_LOG_LEVELS)
        _one_of("logRetentionDays", self.log_retention_days, LOG_RETENTION_DAYS)
        low, high = LAMBDA_MEMORY_RANGE
        if not low <= self.memory_mb <= high:
            raise StackConfigError(f"lambdaMemoryMb={self.memory_mb}: Lambda allows {low}..{high}")
        if self.durable_execution_timeout_seconds > DURABLE_MAX_EXECUTION_SECONDS:
            raise StackConfigError(
                f"reviewTimeoutSeconds={self.review_timeout_seconds} plus the durable margin of "
                f"{DURABLE_EXECUTION_MARGIN_SECONDS} s exceeds Lambda's durable limit of "
                f"{DURABLE_MAX_EXECUTION_SECONDS} s"
            )
        if not self.pricing_base_url.startswith("https://"):
            raise StackConfigError("pricingBaseUrl must be an https:// URL on AWS")


def load_config() -> StackConfig:
    """Read the current stack's config (once, from ``__main__``) and check it.

    Raises:
        StackConfigError: a value is out of range.
        pulumi.ConfigMissingError: a key without a default is not set (the token).
    """
    config = pulumi.Config()
    loaded = StackConfig(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        region=pulumi.Config("aws").require("region"),
        review_timeout_seconds=config.require_int("reviewTimeoutSeconds"),
        vision_model_id=config.require("visionModelId"),
        pricing_agent=cast("PricingAgentMode", config.require("pricingAgent")),
        pricing_model_id=config.require("pricingModelId"),
        pricing_base_url=config.require("pricingBaseUrl").rstrip("/"),
        pricing_token=config.require_secret("pricingToken"),
        architecture=cast("Architecture", config.require("lambdaArchitecture")),
        memory_mb=config.require_int("lambdaMemoryMb"),
        state_machine_log_level=config.require("stateMachineLogLevel"),
        state_machine_include_execution_data=config.require_bool(
            "stateMachineIncludeExecutionData"
        ),
        log_retention_days=config.require_int("logRetentionDays"),
        upload_expiry_days=config.require_int("uploadExpiryDays"),
        alarm_email=config.get("alarmEmail") or None,
    )
    loaded.check()
    return loaded


def _positive(key: str, value: int) -> None:
    if value <= 0:
        raise StackConfigError(f"{key}={value}: must be positive")


def _one_of(key: str, value: object, allowed: tuple[object, ...]) -> None:
    if value not in allowed:
        raise StackConfigError(f"{key}={value!r}: expected one of {', '.join(map(str, allowed))}")
