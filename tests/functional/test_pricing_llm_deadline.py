"""The LLM price agent starts no Converse turn after its deadline (stubbed model, fake clock)."""

from __future__ import annotations

import random

import pytest

from albumreg.cloud.fake_discogs import PricingApiServer
from handlers.adapters.pricing.discogs import DiscogsClient
from handlers.adapters.pricing.llm_agent import TURNS_DEADLINE_SECONDS, BedrockPricingAgent
from handlers.adapters.pricing.transport import Token, Transport
from tests.functional.test_pricing_llm_agent import ALBUM, MODEL, SEARCH, Conversation, tool_turn


class SteppingClock:
    """A monotonic clock that moves ``step`` seconds on every reading."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def server():
    with PricingApiServer() as running:
        yield running


@pytest.fixture
def conversation():
    talk = Conversation()
    with talk.stubber:
        yield talk


def agent(server, conversation, clock: SteppingClock) -> BedrockPricingAgent:
    client = DiscogsClient(
        Transport(server.url, Token("t"), "albumreg-tests", rng=random.Random(1))
    )
    return BedrockPricingAgent(conversation.client, MODEL, client, monotonic=clock)


def test_llm_agent_starts_no_turn_after_its_deadline(server, conversation):
    # GIVEN a model that keeps searching and turns that each take a third of the deadline
    clock = SteppingClock(TURNS_DEADLINE_SECONDS / 3)
    conversation.script(*(tool_turn(SEARCH) for _ in range(2)))
    # WHEN it prices one album
    estimate = agent(server, conversation, clock).estimate(ALBUM)
    # THEN it stopped at the deadline, well before its eight turns, and says why
    conversation.stubber.assert_no_pending_responses()
    assert len(conversation.requests) == 2
    assert estimate.amount is None
    assert "stopped after 2 turns" in str(estimate.error)
    assert f"{TURNS_DEADLINE_SECONDS:g} s deadline" in str(estimate.error)


def test_llm_agent_gets_every_turn_when_the_model_is_quick(server, conversation):
    clock = SteppingClock(0.5)
    conversation.script(*(tool_turn(SEARCH) for _ in range(8)))
    estimate = agent(server, conversation, clock).estimate(ALBUM)
    assert len(conversation.requests) == 8
    assert "within 8 turns" in str(estimate.error)
