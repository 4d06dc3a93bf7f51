"""The deterministic price agent against the local pricing API: the six sample albums, match
quality, market depth, concurrency; refusals come back as error estimates, an unavailable API
as a transient error for the orchestrator to retry."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from albumreg.cloud.catalog import load_catalog
from albumreg.cloud.fake_discogs import PricingApiServer
from handlers.adapters.pricing.agent import DiscogsPricingAgent
from handlers.adapters.pricing.discogs import DiscogsClient
from handlers.adapters.pricing.quote import REFERENCE_CONDITION, SOURCE_LOWEST, SOURCE_SUGGESTION
from handlers.adapters.pricing.transport import (
    PRICING_HTTP_RETRY,
    PricingUnavailableError,
    RetryRules,
    Timeouts,
    Token,
    Transport,
)
from handlers.domain.errors import TransientError
from handlers.domain.models import Album, unrecognized_album
from handlers.domain.policy import RetryPolicy
from tests.conftest import six_albums
from tests.fakes import VirtualTime

TOKEN = "agent-test-token"


@pytest.fixture
def server():
    with PricingApiServer(token=TOKEN) as running:
        yield running


def agent_for(
    url: str, token: str = TOKEN, clock: VirtualTime | None = None, **transport
) -> DiscogsPricingAgent:
    if clock is not None:
        transport |= {"sleep": clock.sleep, "monotonic": clock.monotonic}
    client = DiscogsClient(
        Transport(url, Token(token), "albumreg-tests", rng=random.Random(3), **transport)
    )
    return DiscogsPricingAgent(client, monotonic=clock.monotonic if clock else time.monotonic)


def catalog_entry(title: str | None, artist: str | None):
    return next(a for a in load_catalog() if (a.title, a.artist) == (title, artist))


def test_agent_prices_the_six_sample_albums(server):
    agent = agent_for(server.url)
    for album in six_albums():
        estimate = agent.estimate(album)
        expected = catalog_entry(album.title, album.artist)
        assert estimate.error is None, estimate.error
        assert estimate.slot == album.slot
        assert estimate.release_id == expected.release_id
        assert estimate.amount == expected.prices[REFERENCE_CONDITION]
        assert (estimate.currency, estimate.source) == ("USD", SOURCE_SUGGESTION)
        assert estimate.confidence >= 0.9
        assert (estimate.requests, estimate.retries) == (3, 0)


def test_agent_confidence_good_match_above_weak_match(server):
    agent = agent_for(server.url)
    good = agent.estimate(Album(slot=1, title="Abbey Road", artist="The Beatles", year=1969))
    weak = agent.estimate(Album(slot=2, title="Abey Rood", artist="Beatles"))
    assert (
        good.release_id == weak.release_id == catalog_entry("Abbey Road", "The Beatles").release_id
    )
    assert good.confidence > weak.confidence > 0


def test_agent_confidence_deep_market_above_thin_market(server):
    deep = catalog_entry("Rumours", "Fleetwood Mac")
    thin = catalog_entry("Cool Struttin'", "Sonny Clark")
    assert deep.num_for_sale > 10 * thin.num_for_sale
    agent = agent_for(server.url)
    deep_estimate = agent.estimate(Album(slot=1, title=deep.title, artist=deep.artist))
    thin_estimate = agent.estimate(Album(slot=2, title=thin.title, artist=thin.artist))
    assert deep_estimate.confidence > thin_estimate.confidence


def test_agent_no_match_is_an_error_estimate(server):
    estimate = agent_for(server.url).estimate(
        Album(slot=3, title="Imaginary Album", artist="Nonexistent Band")
    )
    assert estimate.amount is None
    assert "no matching release" in str(estimate.error)
    assert estimate.requests == 2  # structured search, then the free-text fallback


def test_agent_finds_misread_artist_through_free_text_search(server):
    estimate = agent_for(server.url).estimate(
        Album(slot=1, title="OK Computer", artist="Raidohaed")
    )
    assert estimate.release_id == catalog_entry("OK Computer", "Radiohead").release_id
    assert estimate.requests == 4


def test_agent_skips_unrecognized_album_without_requests(server):
    estimate = agent_for(server.url).estimate(unrecognized_album(4, "blank cover"))
    assert (estimate.amount, estimate.requests) == (None, 0)
    assert "not recognized" in str(estimate.error)
    assert server.stats()["requests"] == 0


def test_agent_falls_back_to_lowest_listing_without_suggestions(server):
    server.set_knobs(suggestions_status=403)
    expected = catalog_entry("Blue", "Joni Mitchell")
    estimate = agent_for(server.url).estimate(Album(slot=4, title="Blue", artist="Joni Mitchell"))
    assert (estimate.amount, estimate.source) == (expected.lowest_price, SOURCE_LOWEST)
    assert estimate.requests == 3


def test_six_agents_run_concurrently(server):
    # GIVEN every request takes 0.5 s, so one agent (search, suggestions, stats) needs >= 1.5 s
    # and six in a row would need 9 s
    server.set_knobs(latency=0.5)
    agent = agent_for(server.url)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=6) as pool:
        estimates = list(pool.map(agent.estimate, six_albums()))
    wall = time.monotonic() - started
    # THEN all six are priced, each spent its own 1.5 s, and together they took about as long
    assert all(e.amount is not None for e in estimates)
    assert [e.slot for e in estimates] == [1, 2, 3, 4, 5, 6]
    assert all(e.duration_ms >= 1500 for e in estimates)
    assert wall < 2.2, f"six agents took {wall:.2f} s"


def test_agent_leaves_an_api_that_keeps_failing_to_the_orchestrator(server):
    server.set_knobs(error_rate=1.0)
    clock = VirtualTime()
    agent = agent_for(server.url, clock=clock)
    with pytest.raises(PricingUnavailableError, match="HTTP 500") as raised:
        agent.estimate(six_albums()[0])
    assert isinstance(raised.value, TransientError)
    # the first GET, retried once quickly: nothing more inside one agent attempt
    assert server.stats()["requests"] == PRICING_HTTP_RETRY.max_attempts
    assert len(clock.slept) == PRICING_HTTP_RETRY.retries


def test_agent_leaves_an_api_that_hangs_to_the_orchestrator(server):
    server.set_knobs(hang_rate=1.0, hang_seconds=3)
    quick = RetryRules(
        policy=RetryPolicy(retries=1, interval_seconds=1, backoff_rate=2, max_delay_seconds=1)
    )
    agent = agent_for(server.url, clock=VirtualTime(), timeouts=Timeouts(0.3, 0.3), rules=quick)
    started = time.monotonic()
    with pytest.raises(PricingUnavailableError, match="timeout"):
        agent.estimate(six_albums()[1])
    assert time.monotonic() - started < 1.5


def test_agent_wrong_token_is_an_error_estimate_without_retries(server):
    estimate = agent_for(server.url, token="wrong").estimate(six_albums()[2])
    assert estimate.amount is None
    assert "HTTP 401" in str(estimate.error)
    assert (estimate.requests, estimate.retries) == (1, 0)


def test_agent_with_mixed_faults_prices_or_raises_transient_never_a_fault_estimate(server):
    # GIVEN a flaky API with a fixed seed: some 500s, some 429s (short Retry-After), no hangs
    server.set_knobs(error_rate=0.3, rate_limit=0.2, retry_after=0, seed=11)
    agent = agent_for(server.url, clock=VirtualTime())
    estimates, transient = [], 0
    for album in six_albums():
        try:
            estimates.append(agent.estimate(album))
        except PricingUnavailableError:
            transient += 1
    # WHEN a fault outlasts the quick retry the attempt ends transient; one that passes is
    # priced. A 5xx or 429 never becomes an error estimate inside the agent.
    assert transient > 0
    assert sum(e.retries for e in estimates) > 0
    assert all(e.amount is not None and e.error is None for e in estimates)
