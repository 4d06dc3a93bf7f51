"""Lambda timeouts derived from the workflow's retry and timeout policy, never typed in twice.

A function's timeout must cover the longest single invocation it can have; those follow
from ``handlers.domain.policy``. Pure: no Pulumi, no AWS.
"""

from __future__ import annotations

import math

from handlers.adapters.pricing.llm_agent import TURNS_DEADLINE_SECONDS
from handlers.config import PricingAgentMode
from handlers.domain.policy import (
    AWS_CALLS_ALLOWANCE_SECONDS,
    LLM_AGENT_MAX_TURNS,
    LLM_AGENT_READ_TIMEOUT_SECONDS,
    PRICE_RETRY,
    PRICING_BUDGET_SECONDS,
    VISION_CONNECT_TIMEOUT_SECONDS,
    VISION_CORRECTIVE_RETRIES,
    VISION_READ_TIMEOUT_SECONDS,
    VISION_THROTTLE_RETRY,
    RetryPolicy,
)

LAMBDA_MAX_TIMEOUT_SECONDS = 900
"""Lambda's ceiling on one invocation."""


class TimeoutBudgetError(ValueError):
    """An invocation's worst case exceeds Lambda's ceiling: the policy must change, not the cap."""


def _delays(policy: RetryPolicy) -> float:
    return sum(policy.delay_before(retry) for retry in range(1, policy.retries + 1))


def vision_call_seconds() -> float:
    """One Converse call with the recognizer's own throttling retries (they sleep in-process)."""
    per_attempt = VISION_CONNECT_TIMEOUT_SECONDS + VISION_READ_TIMEOUT_SECONDS
    return VISION_THROTTLE_RETRY.max_attempts * per_attempt + _delays(VISION_THROTTLE_RETRY)


def extract_seconds() -> float:
    """One attempt of extract-albums: read the photo, ask the model (and correct it once), store."""
    return (1 + VISION_CORRECTIVE_RETRIES) * vision_call_seconds() + AWS_CALLS_ALLOWANCE_SECONDS


def price_attempt_seconds(agent: PricingAgentMode) -> float:
    """One attempt of one price agent.

    The deterministic agent stops its HTTP retries at the pricing budget; the LLM agent adds
    its Converse turns on top of its API calls.
    """
    llm_turns = llm_turns_seconds() if agent == "bedrock" else 0
    return PRICING_BUDGET_SECONDS + llm_turns + AWS_CALLS_ALLOWANCE_SECONDS


def llm_turns_seconds() -> float:
    """The LLM agent's longest time in Converse: every turn, or its deadline plus a last turn."""
    every_turn = LLM_AGENT_MAX_TURNS * LLM_AGENT_READ_TIMEOUT_SECONDS
    return min(every_turn, TURNS_DEADLINE_SECONDS + LLM_AGENT_READ_TIMEOUT_SECONDS)


def price_agents_with_retries_seconds(agent: PricingAgentMode) -> float:
    """Six agents at once, each through all of its retries and their delays.

    Durable step retries usually suspend the invocation; budgeting as if they ran in-process
    keeps the function safe whichever way the SDK schedules them.
    """
    return PRICE_RETRY.max_attempts * price_attempt_seconds(agent) + _delays(PRICE_RETRY)


def _seconds(value: float) -> int:
    """Whole seconds of a worst case that Lambda can run.

    Raises:
        TimeoutBudgetError: the worst case is over Lambda's ceiling; capping it would let the
            invocation be killed mid-step, so the retry or turn policy has to shrink instead.
    """
    seconds = math.ceil(value)
    if seconds > LAMBDA_MAX_TIMEOUT_SECONDS:
        raise TimeoutBudgetError(
            f"a worst case of {seconds} s exceeds Lambda's {LAMBDA_MAX_TIMEOUT_SECONDS} s: "
            "lower the retries, turns or read timeouts in handlers.domain.policy"
        )
    return seconds


def extract_timeout() -> int:
    """Timeout of the extract-albums task function."""
    return _seconds(extract_seconds())


def price_timeout(agent: PricingAgentMode) -> int:
    """Timeout of the price-album task function (Step Functions retries it, not Lambda)."""
    return _seconds(price_attempt_seconds(agent))


def store_timeout() -> int:
    """Timeout of the task functions that only write to DynamoDB."""
    return _seconds(AWS_CALLS_ALLOWANCE_SECONDS)


def task_timeout(name: str, agent: PricingAgentMode) -> int:
    """Lambda timeout of one Step Functions task function (by its ASL name), from what it does.

    The stack sets it and the local cloud gives its emulated functions the same.
    """
    if name == "extract-albums":
        return extract_timeout()
    if name == "price-album":
        return price_timeout(agent)
    return store_timeout()


def durable_timeout(agent: PricingAgentMode) -> int:
    """Timeout of the durable function: its longest invocation is the extract or the price map."""
    return _seconds(max(extract_seconds(), price_agents_with_retries_seconds(agent)))
