"""The LLM price agent's time budget: a visible decision that fits Lambda's 900 s ceiling."""

from __future__ import annotations

import pytest

from handlers.adapters.pricing.llm_agent import TURNS_DEADLINE_SECONDS
from handlers.domain.policy import LLM_AGENT_MAX_TURNS, LLM_AGENT_READ_TIMEOUT_SECONDS
from stack import timeouts


def test_durable_function_fits_six_llm_agents_and_their_retries_without_a_cap() -> None:
    worst = timeouts.price_agents_with_retries_seconds("bedrock")
    assert worst <= timeouts.LAMBDA_MAX_TIMEOUT_SECONDS
    assert timeouts.durable_timeout("bedrock") >= worst


def test_the_deadline_is_what_makes_it_fit(monkeypatch) -> None:
    every_turn = LLM_AGENT_MAX_TURNS * LLM_AGENT_READ_TIMEOUT_SECONDS
    assert every_turn > TURNS_DEADLINE_SECONDS + LLM_AGENT_READ_TIMEOUT_SECONDS
    assert timeouts.llm_turns_seconds() == TURNS_DEADLINE_SECONDS + LLM_AGENT_READ_TIMEOUT_SECONDS
    # Without the deadline every turn may run its full read timeout: refused, not capped.
    monkeypatch.setattr(timeouts, "TURNS_DEADLINE_SECONDS", float("inf"))
    assert timeouts.llm_turns_seconds() == every_turn
    with pytest.raises(timeouts.TimeoutBudgetError, match="900"):
        timeouts.durable_timeout("bedrock")
