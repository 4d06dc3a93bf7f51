"""Pricing API faults (latency, 500s, 429s, hangs, outage: the local API's knobs) against both
orchestrators, with the production price agent over real HTTP and short injected timeouts: every
execution completes, unpriced albums carry an error, HTTP attempts stay within the policy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from handlers.adapters.pricing.agent import DiscogsPricingAgent
from handlers.adapters.pricing.discogs import DiscogsClient
from handlers.adapters.pricing.transport import RetryRules, Timeouts, Token, Transport
from handlers.config import USER_AGENT
from handlers.domain.models import ReviewDecision, WorkflowStatus
from handlers.domain.policy import ALBUMS_PER_IMAGE, PRICING_HTTP_RETRY
from handlers.domain.records import UploadRecord
from handlers.domain.reviews import submit_review
from local.pricing_api import PricingApiServer
from tests.functional.conftest import Workbench
from tests.functional.reliability_patterns import (
    COMPLETED,
    Orchestration,
    swapped,
    upload_id_of,
    wait_for_review,
)

TOKEN = "reliability-pricing-token"
ATTEMPTS_PER_GET = PRICING_HTTP_RETRY.max_attempts
GETS_PER_ALBUM = 4
"""At most: structured search, free-text search, price suggestions, marketplace stats."""
SHORT_TIMEOUTS = Timeouts(connect=0.5, read=0.25)
SHORT_BUDGET = RetryRules(budget_seconds=1.5)


@pytest.fixture
def api() -> Iterator[PricingApiServer]:
    with PricingApiServer(token=TOKEN) as server:
        yield server


@dataclass
class Sleeps:
    """The transport's backoff sleeps, recorded (six agents append from their threads)."""

    requested: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.requested.append(seconds)
        time.sleep(min(seconds, 0.01))


def real_agent(url: str, sleeps: Sleeps, **transport: Any) -> DiscogsPricingAgent:
    """The production agent and client; only timeouts, budget and sleep are the test's."""
    return DiscogsPricingAgent(
        DiscogsClient(Transport(url, Token(TOKEN), USER_AGENT, sleep=sleeps.sleep, **transport))
    )


def priced_run(
    orchestration: Orchestration, bench: Workbench, agent: DiscogsPricingAgent
) -> UploadRecord:
    """Upload, approve the review through the gateway, price, and return what was stored."""
    event = bench.upload()
    upload_id = upload_id_of(event)
    with swapped(bench, pricing=agent):
        handle = orchestration.start(event)
        wait_for_review(bench.repo, orchestration.pattern, upload_id)
        submit_review(
            orchestration.pattern,
            upload_id,
            ReviewDecision(action="approve"),
            repo=bench.repo,
            inbox=orchestration.inbox(),
            clock=bench.deps.clock,
        )
        ending = orchestration.finish(handle)
    assert ending.status == "SUCCEEDED"
    assert orchestration.outcome(handle, ending) == COMPLETED
    record = bench.repo.get_upload(orchestration.pattern, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    assert len(record.albums) == ALBUMS_PER_IMAGE
    # An album either has a price or says why not: none is lost in between.
    assert all((a.price is None) == bool(a.price_error) for a in record.albums)
    assert record.metrics["albums_priced"] == sum(a.price is not None for a in record.albums)
    return record


def _requests(record: UploadRecord) -> int:
    return int(record.metrics["pricing_requests"])  # type: ignore[arg-type]


def _retries(record: UploadRecord) -> int:
    return int(record.metrics["pricing_retries"])  # type: ignore[arg-type]


def test_pricing_latency_prices_every_album_without_retries(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    api.set_knobs(latency=0.05, jitter=0.05, seed=1)

    record = priced_run(orchestration, workbench, real_agent(api.url, Sleeps()))

    assert all(album.price is not None for album in record.albums)
    assert (_requests(record), _retries(record)) == (3 * ALBUMS_PER_IMAGE, 0)


def test_pricing_500s_are_retried_within_the_policy(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    api.set_knobs(error_rate=0.3, seed=11)
    sleeps = Sleeps()

    record = priced_run(orchestration, workbench, real_agent(api.url, sleeps))

    # Every 500 was either retried after a backoff, or was the last allowed attempt of an
    # album that then carries the error: nothing was retried beyond the policy.
    served_500 = api.stats()["by_status"].get("500", 0)
    gave_up = [a for a in record.albums if a.price is None]
    assert served_500 > 0
    assert served_500 == _retries(record) + len(gave_up)
    assert len(sleeps.requested) == _retries(record)
    assert all(
        f"HTTP 500 after {ATTEMPTS_PER_GET} attempts" in (a.price_error or "") for a in gave_up
    )
    assert _requests(record) <= ALBUMS_PER_IMAGE * GETS_PER_ALBUM * ATTEMPTS_PER_GET
    assert max(sleeps.requested) <= PRICING_HTTP_RETRY.max_delay_seconds


def test_pricing_429_waits_out_retry_after_then_prices(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    api.set_knobs(rate_limit_every=3, retry_after=1)
    sleeps = Sleeps()

    record = priced_run(orchestration, workbench, real_agent(api.url, sleeps))

    limited = api.stats()["by_status"]["429"]
    gave_up = [a for a in record.albums if a.price is None]
    assert limited > 0
    assert sleeps.requested == [1.0] * _retries(record), "each retry waits its Retry-After"
    assert limited == _retries(record) + len(gave_up)
    assert all(
        f"HTTP 429 after {ATTEMPTS_PER_GET} attempts" in (a.price_error or "") for a in gave_up
    )
    assert len(gave_up) < ALBUMS_PER_IMAGE


def test_pricing_retry_after_beyond_the_ceiling_is_an_outage_not_a_wait(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    api.set_knobs(rate_limit=1.0, retry_after=600)
    sleeps = Sleeps()

    record = priced_run(orchestration, workbench, real_agent(api.url, sleeps))

    assert sleeps.requested == []
    assert (_requests(record), _retries(record)) == (ALBUMS_PER_IMAGE, 0)
    assert all("rate limited for 600 s" in (a.price_error or "") for a in record.albums)


def test_pricing_hangs_end_in_error_estimates_within_the_budget(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    # GIVEN an API that accepts every request and then stalls past the client's read timeout
    api.set_knobs(hang_rate=1.0, hang_seconds=2.0)
    agent = real_agent(api.url, Sleeps(), timeouts=SHORT_TIMEOUTS, rules=SHORT_BUDGET)

    started = time.monotonic()
    record = priced_run(orchestration, workbench, agent)

    # THEN every agent gave up on its own budget, and the workflow still completed
    assert all(album.price is None for album in record.albums)
    assert all("timeout" in (album.price_error or "") for album in record.albums)
    assert _requests(record) <= ALBUMS_PER_IMAGE * ATTEMPTS_PER_GET
    assert time.monotonic() - started < 10 * SHORT_BUDGET.budget_seconds


def test_pricing_total_outage_completes_with_six_error_estimates(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    # GIVEN the API's address with nothing listening any more
    with PricingApiServer(token=TOKEN) as gone:
        url = gone.url
    sleeps = Sleeps()

    record = priced_run(orchestration, workbench, real_agent(url, sleeps))

    assert all("connection failed" in (a.price_error or "") for a in record.albums)
    assert _requests(record) == ALBUMS_PER_IMAGE * ATTEMPTS_PER_GET
    assert _retries(record) == ALBUMS_PER_IMAGE * PRICING_HTTP_RETRY.retries
    assert len(sleeps.requested) == ALBUMS_PER_IMAGE * PRICING_HTTP_RETRY.retries
