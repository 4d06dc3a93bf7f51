"""Pricing API faults (latency, 500s, 429s, hangs, outage: the local API's knobs) against both
orchestrators, with the production price agent over real HTTP and short injected timeouts.

A fault that may pass is retried once inside the request, then by the orchestrator with
``PRICE_RETRY``; every execution completes, and an agent whose attempts run out ends as the
same error estimate on both sides. Attempts are read from the histories.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from albumreg.cloud.fake_discogs import PricingApiServer
from handlers.adapters.pricing.agent import DiscogsPricingAgent
from handlers.adapters.pricing.discogs import DiscogsClient
from handlers.adapters.pricing.transport import (
    PRICING_HTTP_RETRY,
    PricingUnavailableError,
    RetryRules,
    Timeouts,
    Token,
    Transport,
)
from handlers.config import USER_AGENT
from handlers.domain.models import WorkflowStatus
from handlers.domain.policy import ALBUMS_PER_IMAGE, PRICE_RETRY
from handlers.domain.records import UploadRecord
from tests.functional.conftest import Workbench, swapped
from tests.functional.reliability.patterns import (
    COMPLETED,
    Orchestration,
    run_with_approval,
    upload_id_of,
)

TOKEN = "reliability-pricing-token"
ATTEMPTS_PER_GET = PRICING_HTTP_RETRY.max_attempts
GETS_PER_ALBUM = 4
"""At most: structured search, free-text search, price suggestions, marketplace stats."""
UNAVAILABLE = PricingUnavailableError.__name__
"""The error estimate of an agent whose attempts ran out, the same on both orchestrators."""
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
) -> tuple[UploadRecord, str]:
    """Upload, approve the review, price; what was stored and the execution's handle."""
    event = bench.upload()
    upload_id = upload_id_of(event)
    with swapped(bench, pricing=agent):
        run = run_with_approval(orchestration, event)
        handle, ending = run.handle, run.ending
    assert ending.status == "SUCCEEDED"
    assert orchestration.outcome(handle, ending) == COMPLETED
    record = bench.repo.get_upload(orchestration.pattern, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED
    assert len(record.albums) == ALBUMS_PER_IMAGE
    # An album either has a price or says why not: none is lost in between.
    assert all((a.price is None) == bool(a.price_error) for a in record.albums)
    assert record.metrics is not None
    assert record.metrics.albums_priced == sum(a.price is not None for a in record.albums)
    return record, handle


def failed_attempts(orchestration: Orchestration, handle: str, record: UploadRecord) -> int:
    """Agent attempts that ended in a transient error: every attempt but the last of each."""
    exhausted = sum(album.price is None for album in record.albums)
    return sum(orchestration.agent_attempts(handle)) - ALBUMS_PER_IMAGE + exhausted


def _requests(record: UploadRecord) -> int:
    assert record.metrics is not None
    return record.metrics.pricing_requests


def _retries(record: UploadRecord) -> int:
    assert record.metrics is not None
    return record.metrics.pricing_retries


def test_pricing_latency_prices_every_album_without_retries(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    api.set_knobs(latency=0.05, jitter=0.05, seed=1)

    record, handle = priced_run(orchestration, workbench, real_agent(api.url, Sleeps()))

    assert all(album.price is not None for album in record.albums)
    assert (_requests(record), _retries(record)) == (3 * ALBUMS_PER_IMAGE, 0)
    assert orchestration.agent_attempts(handle) == [1] * ALBUMS_PER_IMAGE


def test_pricing_500s_are_retried_once_in_the_request_then_by_the_orchestrator(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    api.set_knobs(error_rate=0.3, seed=11)
    sleeps = Sleeps()

    record, handle = priced_run(orchestration, workbench, real_agent(api.url, sleeps))

    # Every 500 was either retried once in the request after a quick wait, or ended the agent's
    # attempt as a transient error that the orchestrator retried or, at the end, caught.
    served_500 = api.stats()["by_status"].get("500", 0)
    assert served_500 > 0
    assert served_500 == len(sleeps.requested) + failed_attempts(orchestration, handle, record)
    assert all(n <= PRICE_RETRY.max_attempts for n in orchestration.agent_attempts(handle))
    assert all(a.price is not None or a.price_error == UNAVAILABLE for a in record.albums)
    assert max(sleeps.requested) <= PRICING_HTTP_RETRY.delay_before(1)


def test_pricing_429_waits_out_a_short_retry_after(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    api.set_knobs(rate_limit_every=3, retry_after=1)
    sleeps = Sleeps()

    record, handle = priced_run(orchestration, workbench, real_agent(api.url, sleeps))

    limited = api.stats()["by_status"]["429"]
    assert limited > 0
    assert sleeps.requested == [1.0] * len(sleeps.requested), "each wait is the Retry-After"
    assert limited == len(sleeps.requested) + failed_attempts(orchestration, handle, record)
    assert all(a.price is not None or a.price_error == UNAVAILABLE for a in record.albums)


def test_pricing_retry_after_beyond_the_ceiling_is_left_to_the_orchestrator(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    api.set_knobs(rate_limit=1.0, retry_after=600)
    sleeps = Sleeps()

    record, handle = priced_run(orchestration, workbench, real_agent(api.url, sleeps))

    # No wait inside the request: each attempt ends at once, the orchestrator backs off.
    assert sleeps.requested == []
    assert orchestration.agent_attempts(handle) == [PRICE_RETRY.max_attempts] * ALBUMS_PER_IMAGE
    assert api.stats()["requests"] == ALBUMS_PER_IMAGE * PRICE_RETRY.max_attempts
    assert [album.price_error for album in record.albums] == [UNAVAILABLE] * ALBUMS_PER_IMAGE


def test_pricing_hangs_end_in_error_estimates_within_the_budget(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    # GIVEN an API that accepts every request and then stalls past the client's read timeout
    api.set_knobs(hang_rate=1.0, hang_seconds=2.0)
    agent = real_agent(api.url, Sleeps(), timeouts=SHORT_TIMEOUTS, rules=SHORT_BUDGET)

    started = time.monotonic()
    record, handle = priced_run(orchestration, workbench, agent)

    # THEN every attempt gave up on its own budget, the orchestrator retried each agent to the
    # policy, and the workflow still completed
    assert [album.price_error for album in record.albums] == [UNAVAILABLE] * ALBUMS_PER_IMAGE
    assert orchestration.agent_attempts(handle) == [PRICE_RETRY.max_attempts] * ALBUMS_PER_IMAGE
    per_attempt = SHORT_BUDGET.budget_seconds + SHORT_TIMEOUTS.read
    assert time.monotonic() - started < 10 + PRICE_RETRY.max_attempts * per_attempt


def test_pricing_refused_token_is_an_error_estimate_without_any_retry(
    orchestration: Orchestration, workbench: Workbench, api: PricingApiServer
) -> None:
    sleeps = Sleeps()
    agent = DiscogsPricingAgent(
        DiscogsClient(Transport(api.url, Token("not-the-token"), USER_AGENT, sleep=sleeps.sleep))
    )

    record, handle = priced_run(orchestration, workbench, agent)

    # 401 cannot pass: one request per agent, no wait, no orchestrator retry
    assert all("HTTP 401" in (album.price_error or "") for album in record.albums)
    assert api.stats()["requests"] == ALBUMS_PER_IMAGE
    assert (sleeps.requested, orchestration.agent_attempts(handle)) == (
        [],
        [1] * ALBUMS_PER_IMAGE,
    )
    assert orchestration.usage(handle).retries.billed_units == 0


def test_pricing_total_outage_completes_with_six_error_estimates(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    # GIVEN the API's address with nothing listening any more
    with PricingApiServer(token=TOKEN) as gone:
        url = gone.url
    sleeps = Sleeps()

    record, handle = priced_run(orchestration, workbench, real_agent(url, sleeps))

    assert [album.price_error for album in record.albums] == [UNAVAILABLE] * ALBUMS_PER_IMAGE
    assert orchestration.agent_attempts(handle) == [PRICE_RETRY.max_attempts] * ALBUMS_PER_IMAGE
    # each attempt: the first GET, retried once quickly
    attempts = ALBUMS_PER_IMAGE * PRICE_RETRY.max_attempts
    assert len(sleeps.requested) == attempts * PRICING_HTTP_RETRY.retries
