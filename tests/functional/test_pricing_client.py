"""The Discogs client over real HTTP on loopback against the local pricing API, with faults."""

from __future__ import annotations

import logging
import random
import time

import pytest

from albumreg.cloud.catalog import load_catalog
from albumreg.cloud.fake_discogs import PricingApiServer
from handlers.adapters.pricing.discogs import DiscogsClient
from handlers.adapters.pricing.transport import (
    PRICING_HTTP_RETRY,
    PricingRejectedError,
    PricingUnavailableError,
    RetryRules,
    Timeouts,
    Token,
    Transport,
)
from handlers.domain.errors import TransientError
from handlers.domain.policy import RetryPolicy
from tests.fakes import VirtualTime

TOKEN = "sekrit-token-4242"


@pytest.fixture
def server():
    with PricingApiServer(token=TOKEN) as running:
        yield running


def client_for(url: str, token: str = TOKEN, **transport) -> DiscogsClient:
    return DiscogsClient(
        Transport(url, Token(token), "albumreg-tests", rng=random.Random(7), **transport)
    )


def album(title: str):
    return next(a for a in load_catalog() if a.title == title)


def test_client_search_hit_returns_discogs_shaped_release(server):
    client = client_for(server.url)
    meter = client.meter()
    results = client.search(meter, artist="Miles Davis", title="Kind of Blue")
    expected = album("Kind of Blue")
    assert results[0].id == expected.release_id
    assert results[0].artist_and_title == ("Miles Davis", "Kind of Blue")
    assert results[0].release_year == 1959
    assert (meter.requests, meter.retries) == (1, 0)


def test_client_search_no_match_is_empty(server):
    client = client_for(server.url)
    assert client.search(client.meter(), artist="Nonexistent Band", title="Imaginary Album") == []


def test_client_reads_stats_and_suggestions(server):
    client = client_for(server.url)
    meter = client.meter()
    expected = album("OK Computer")
    stats = client.stats(meter, expected.release_id)
    suggestions = client.price_suggestions(meter, expected.release_id)
    assert stats.num_for_sale == expected.num_for_sale
    assert stats.lowest_price is not None
    assert stats.lowest_price.value == expected.lowest_price
    assert {c: m.value for c, m in suggestions.items()} == expected.prices
    assert meter.requests == 2


def test_client_waits_out_retry_after_then_succeeds(server):
    # GIVEN every other request (the first one included) is answered 429 with Retry-After: 1
    server.set_knobs(rate_limit_every=2, retry_after=1)
    client = client_for(server.url)
    meter = client.meter()
    started = time.monotonic()
    results = client.search(meter, artist="The Beatles", title="Abbey Road")
    elapsed = time.monotonic() - started
    assert results[0].id == album("Abbey Road").release_id
    assert (meter.requests, meter.retries) == (2, 1)
    assert 1.0 <= elapsed < 2.5
    assert server.stats()["by_fault"] == {"rate_limit": 1}


def test_client_gives_up_on_retry_after_beyond_ceiling(server):
    server.set_knobs(rate_limit=1.0, retry_after=60)
    clock = VirtualTime()
    client = client_for(server.url, sleep=clock.sleep)
    meter = client.meter()
    with pytest.raises(PricingUnavailableError, match="rate limited for 60 s"):
        client.search(meter, artist="The Beatles", title="Abbey Road")
    assert clock.slept == []
    assert meter.requests == 1


def test_client_retries_500s_until_budget_is_spent(server):
    server.set_knobs(error_rate=1.0)
    clock = VirtualTime()
    # A policy with more retries than the budget allows, so the budget is what stops them.
    many = RetryPolicy(retries=5, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=8)
    client = client_for(
        server.url,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        rules=RetryRules(policy=many, budget_seconds=2.5),
    )
    meter = client.meter()
    with pytest.raises(PricingUnavailableError, match="HTTP 500; pricing budget spent"):
        client.search(meter, artist="The Beatles", title="Abbey Road")
    assert meter.requests >= 2
    assert meter.retries == meter.requests - 1
    assert sum(clock.slept) < 2.5
    # exponential: each delay at least the previous one's lower bound doubled
    assert all(
        later > earlier / 2 for earlier, later in zip(clock.slept, clock.slept[1:], strict=False)
    )
    assert server.stats()["by_fault"]["error"] == meter.requests


def test_client_retries_500s_once_then_leaves_them_to_the_orchestrator(server):
    server.set_knobs(error_rate=1.0)
    clock = VirtualTime()
    client = client_for(server.url, sleep=clock.sleep, monotonic=clock.monotonic)
    meter = client.meter()
    attempts = PRICING_HTTP_RETRY.max_attempts
    with pytest.raises(PricingUnavailableError, match=f"HTTP 500 after {attempts} attempts") as e:
        client.stats(meter, album("Rumours").release_id)
    # Transient: the ASL's Retry and the durable retry strategy repeat the agent.
    assert isinstance(e.value, TransientError)
    assert (meter.requests, meter.retries) == (attempts, PRICING_HTTP_RETRY.retries)
    assert PRICING_HTTP_RETRY.retries <= 1, "at most one quick retry inside the request"
    # one quick, jittered wait of at most the policy's delay
    assert len(clock.slept) == PRICING_HTTP_RETRY.retries
    assert all(0 < delay <= PRICING_HTTP_RETRY.delay_before(1) for delay in clock.slept)


def test_client_hanging_request_hits_read_timeout(server):
    server.set_knobs(hang_rate=1.0, hang_seconds=5)
    clock = VirtualTime()
    client = client_for(
        server.url,
        sleep=clock.sleep,
        timeouts=Timeouts(connect=0.5, read=0.5),
        rules=RetryRules(
            policy=RetryPolicy(retries=1, interval_seconds=1, backoff_rate=2.0, max_delay_seconds=1)
        ),
    )
    meter = client.meter()
    started = time.monotonic()
    with pytest.raises(PricingUnavailableError, match="timeout after 2 attempts"):
        client.search(meter, artist="The Beatles", title="Abbey Road")
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 2.0
    assert meter.requests == 2


@pytest.mark.parametrize("token, release_id, status", [("wrong", None, 401), (TOKEN, 1, 404)])
def test_client_never_retries_other_4xx(server, token, release_id, status):
    clock = VirtualTime()
    client = client_for(server.url, token=token, sleep=clock.sleep)
    meter = client.meter()
    with pytest.raises(PricingRejectedError) as raised:
        client.stats(meter, release_id or album("Blue").release_id)
    assert raised.value.status == status
    assert (meter.requests, meter.retries, clock.slept) == (1, 0, [])
    assert server.stats()["requests"] == 1


def test_client_connection_refused_is_unavailable_not_a_crash():
    with PricingApiServer() as gone:
        url = gone.url
    clock = VirtualTime()
    client = client_for(url, sleep=clock.sleep, monotonic=clock.monotonic)
    attempts = PRICING_HTTP_RETRY.max_attempts
    with pytest.raises(PricingUnavailableError, match=f"connection failed after {attempts} attem"):
        client.search(client.meter(), query="anything")


def test_client_token_stays_out_of_logs_and_errors(server, caplog):
    caplog.set_level(logging.DEBUG)
    server.set_knobs(error_rate=1.0)
    clock = VirtualTime()
    client = client_for(server.url, sleep=clock.sleep, monotonic=clock.monotonic)
    with pytest.raises(PricingUnavailableError) as raised:
        client.search(client.meter(), artist="Prince", title="Purple Rain")
    assert TOKEN not in caplog.text
    assert TOKEN not in str(raised.value)
    assert TOKEN not in repr(client)
    assert "retry" in caplog.text
