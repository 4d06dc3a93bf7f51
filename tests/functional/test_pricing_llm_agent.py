"""The Bedrock tool-use price agent with a scripted Converse conversation (botocore Stubber),
its tools executed against the local pricing API."""

from __future__ import annotations

import copy
import random
import time
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from albumreg.cloud.catalog import load_catalog
from albumreg.cloud.fake_discogs import PricingApiServer
from handlers.adapters.pricing.discogs import DiscogsClient
from handlers.adapters.pricing.llm_agent import (
    SEARCH_TOOL,
    STATS_TOOL,
    SUBMIT_TOOL,
    SUGGESTIONS_TOOL,
    BedrockPricingAgent,
)
from handlers.adapters.pricing.quote import REFERENCE_CONDITION
from handlers.adapters.pricing.transport import (
    PricingUnavailableError,
    RetryRules,
    Token,
    Transport,
)
from handlers.domain.errors import TransientError
from handlers.domain.models import Album

MODEL = "us.amazon.nova-lite-v1:0"
ABBEY_ROAD = next(a for a in load_catalog() if a.title == "Abbey Road")
ALBUM = Album(slot=2, title="Abbey Road", artist="The Beatles", year=1969)


def tool_turn(*calls: tuple[str, object], tokens: tuple[int, int] = (100, 20)) -> dict[str, Any]:
    """One assistant turn calling the given tools."""
    content = [{"text": "Let me look."}] + [
        {"toolUse": {"toolUseId": f"t{i}-{name}", "name": name, "input": payload}}
        for i, (name, payload) in enumerate(calls)
    ]
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": tokens[0], "outputTokens": tokens[1], "totalTokens": sum(tokens)},
        "metrics": {"latencyMs": 5},
    }


def text_turn(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 50, "outputTokens": 10, "totalTokens": 60},
        "metrics": {"latencyMs": 5},
    }


SEARCH = (SEARCH_TOOL, {"artist": "The Beatles", "title": "Abbey Road"})
SUBMIT = (
    SUBMIT_TOOL,
    {"release_id": ABBEY_ROAD.release_id, "match_confidence": 0.95, "reason": "same"},
)


class Conversation:
    """A stubbed bedrock-runtime client that also records every Converse request."""

    def __init__(self) -> None:
        self.client = boto3.client("bedrock-runtime", region_name="us-east-1")
        self.stubber = Stubber(self.client)
        self.requests: list[dict[str, Any]] = []
        self.client.meta.events.register(
            "provide-client-params.bedrock-runtime.Converse", self._record
        )

    def _record(self, params, **_):
        self.requests.append(copy.deepcopy(params))

    def script(self, *turns: dict[str, Any]) -> Conversation:
        for turn in turns:
            self.stubber.add_response("converse", turn)
        return self

    def tool_results(self, request: int) -> list[dict[str, Any]]:
        """The toolResult blocks sent with Converse request number ``request``."""
        last = self.requests[request]["messages"][-1]
        return [block["toolResult"] for block in last["content"] if "toolResult" in block]


@pytest.fixture
def server():
    with PricingApiServer() as running:
        yield running


@pytest.fixture
def conversation():
    talk = Conversation()
    with talk.stubber:
        yield talk


def agent_for(server, conversation, max_turns: int = 8, **transport) -> BedrockPricingAgent:
    client = DiscogsClient(
        Transport(server.url, Token("t"), "albumreg-tests", rng=random.Random(1), **transport)
    )
    return BedrockPricingAgent(conversation.client, MODEL, client, max_turns=max_turns)


def test_llm_agent_executes_tools_and_prices_chosen_release(server, conversation):
    conversation.script(
        tool_turn(SEARCH),
        tool_turn((SUGGESTIONS_TOOL, {"release_id": ABBEY_ROAD.release_id})),
        tool_turn(SUBMIT),
    )
    estimate = agent_for(server, conversation).estimate(ALBUM)
    conversation.stubber.assert_no_pending_responses()
    # the amount comes from the market data, not from the model
    assert estimate.error is None
    assert estimate.amount == ABBEY_ROAD.prices[REFERENCE_CONDITION]
    assert estimate.release_id == ABBEY_ROAD.release_id
    assert estimate.source == "llm+discogs:price_suggestions"
    assert 0.9 <= estimate.confidence <= 0.95
    assert (estimate.usage.input_tokens, estimate.usage.output_tokens) == (300, 60)
    # search + suggestions by the model, stats fetched at submit; suggestions not fetched twice
    assert estimate.requests == 3
    assert server.stats()["by_path"] == {
        "/database/search": 1,
        "/marketplace/price_suggestions": 1,
        "/marketplace/stats": 1,
    }
    found = conversation.tool_results(1)[0]
    assert found["status"] == "success"
    assert found["content"][0]["json"]["results"][0]["release_id"] == ABBEY_ROAD.release_id
    suggested = conversation.tool_results(2)[0]["content"][0]["json"]
    assert suggested[REFERENCE_CONDITION]["value"] == float(ABBEY_ROAD.prices[REFERENCE_CONDITION])
    assert conversation.requests[0]["inferenceConfig"]["maxTokens"] > 0
    assert conversation.requests[0]["modelId"] == MODEL


def test_llm_agent_turn_limit_enforced(server, conversation):
    conversation.script(*(tool_turn(SEARCH) for _ in range(3)))
    estimate = agent_for(server, conversation, max_turns=3).estimate(ALBUM)
    conversation.stubber.assert_no_pending_responses()
    assert len(conversation.requests) == 3
    assert estimate.amount is None
    assert "within 3 turns" in str(estimate.error)
    assert estimate.usage.input_tokens == 300
    assert estimate.requests == 3


def test_llm_agent_reports_malformed_tool_input_to_the_model(server, conversation):
    conversation.script(
        tool_turn((STATS_TOOL, {"release_id": "abc"}), ("buy_record", {"release_id": 1})),
        tool_turn((SUBMIT_TOOL, {"release_id": ABBEY_ROAD.release_id, "match_confidence": 0.9})),
        tool_turn((SEARCH_TOOL, {}), (SUBMIT_TOOL, {"release_id": 5, "match_confidence": 7})),
        tool_turn(SEARCH),
        tool_turn(SUBMIT),
    )
    estimate = agent_for(server, conversation).estimate(ALBUM)
    conversation.stubber.assert_no_pending_responses()
    assert estimate.amount == ABBEY_ROAD.prices[REFERENCE_CONDITION]
    first = conversation.tool_results(1)
    assert [r["status"] for r in first] == ["error", "error"]
    assert "release_id" in first[0]["content"][0]["json"]["error"]
    assert "unknown tool 'buy_record'" in first[1]["content"][0]["json"]["error"]
    # an id the API never returned is not priced, even if it exists
    assert (
        "did not come from search_releases"
        in conversation.tool_results(2)[0]["content"][0]["json"]["error"]
    )
    assert [r["status"] for r in conversation.tool_results(3)] == ["error", "error"]
    assert estimate.requests == 3  # nothing malformed reached the API


def test_llm_agent_nudges_a_text_answer_and_accepts_no_match(server, conversation):
    conversation.script(
        text_turn("I think it is worth about $1000."),
        tool_turn(
            (SUBMIT_TOOL, {"release_id": None, "match_confidence": 0.0, "reason": "not listed"})
        ),
    )
    estimate = agent_for(server, conversation).estimate(ALBUM)
    assert estimate.amount is None
    assert "no matching release" in str(estimate.error)
    assert "not listed" in str(estimate.error)
    assert conversation.requests[1]["messages"][-1]["content"] == [
        {"text": "Answer by calling submit_release."}
    ]


def test_llm_agent_confidence_capped_by_name_similarity(server, conversation):
    rumours = next(a for a in load_catalog() if a.title == "Rumours")
    conversation.script(
        tool_turn((SEARCH_TOOL, {"query": "Fleetwood Mac"})),
        tool_turn((SUBMIT_TOOL, {"release_id": rumours.release_id, "match_confidence": 1.0})),
    )
    estimate = agent_for(server, conversation).estimate(ALBUM)
    assert estimate.release_id == rumours.release_id
    assert estimate.confidence < 0.5


def test_llm_agent_bedrock_throttling_is_left_to_the_orchestrator(server, conversation):
    conversation.stubber.add_client_error(
        "converse", service_error_code="ThrottlingException", http_status_code=429
    )
    with pytest.raises(TransientError, match="ThrottlingException"):
        agent_for(server, conversation).estimate(ALBUM)


def test_llm_agent_bedrock_refusal_is_an_error_estimate(server, conversation):
    conversation.stubber.add_client_error(
        "converse", service_error_code="AccessDeniedException", http_status_code=403
    )
    estimate = agent_for(server, conversation).estimate(ALBUM)
    assert estimate.amount is None
    assert "AccessDeniedException" in str(estimate.error)


def test_llm_agent_pricing_outage_is_left_to_the_orchestrator(server, conversation):
    server.set_knobs(error_rate=1.0)
    conversation.script(tool_turn(SEARCH))
    agent = agent_for(
        server, conversation, sleep=lambda _: None, rules=RetryRules(budget_seconds=5)
    )
    started = time.monotonic()
    with pytest.raises(PricingUnavailableError, match="HTTP 500"):
        agent.estimate(ALBUM)
    assert time.monotonic() - started < 2
    assert len(conversation.requests) == 1


def test_llm_agent_skips_unrecognized_album(server, conversation):
    estimate = agent_for(server, conversation).estimate(
        Album(slot=6, unrecognized=True, note="blank")
    )
    assert estimate.amount is None
    assert conversation.requests == []
