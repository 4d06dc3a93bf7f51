"""The deterministic price agent: search, match, read the market, quote. The default mode.

Implements the ``PricingSource`` port. A missing match or a refusal goes into the estimate at
once, so one album never fails the other five; an unavailable API raises
``PricingUnavailableError`` (transient), which the orchestrator retries and, when its attempts
run out, turns into the same error estimate on both sides. Runs in Lambda: must not import
rapidfuzz or anything from ``local``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from handlers.adapters.pricing.discogs import DiscogsClient, MarketStats, Money, SearchResult
from handlers.adapters.pricing.matching import Candidate, Match, best_match
from handlers.adapters.pricing.quote import Quote, quote
from handlers.adapters.pricing.transport import Meter, PricingRejectedError
from handlers.domain.errors import PricingError
from handlers.domain.models import Album, PriceEstimate, TokenUsage

logger = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 500


def to_candidate(result: SearchResult) -> Candidate:
    """A search result as the matcher sees it."""
    artist, title = result.artist_and_title
    return Candidate(result.id, artist, title, result.release_year)


@dataclass(frozen=True)
class Market:
    """What the marketplace says about one release; either part may be missing."""

    suggestions: dict[str, Money] | None
    stats: MarketStats | None


def fetch_market(
    suggestions: Callable[[], dict[str, Money] | None], stats: Callable[[], MarketStats | None]
) -> Market:
    """Suggestions and statistics of one release, tolerating a refusal of either one.

    Discogs refuses price suggestions to accounts without seller settings; the lowest listing
    is then the fallback. Only when both are refused is the refusal an error. The two getters
    let the LLM agent reuse what its tools already fetched.

    Raises:
        PricingRejectedError: both calls refused.
        PricingUnavailableError: the API is unavailable (transient).
    """
    try:
        offered = suggestions()
    except PricingRejectedError:
        offered = None
    try:
        market = stats()
    except PricingRejectedError:
        if offered is None:
            raise
        market = None
    return Market(offered, market)


def find_release(
    client: DiscogsClient, meter: Meter, artist: str, title: str, year: int | None
) -> Match | None:
    """Structured search first; if nothing clears the floors, Discogs' free-text search.

    The free-text query forgives misread words that the structured fields do not.
    """
    results = client.search(meter, artist=artist, title=title)
    match = best_match(artist, title, year, _candidates(results))
    if match is None:
        results = client.search(meter, query=f"{artist} {title}")
        match = best_match(artist, title, year, _candidates(results))
    return match


def _candidates(results: Iterable[SearchResult]) -> list[Candidate]:
    return [to_candidate(result) for result in results]


def estimate_from(
    album: Album,
    *,
    started: float,
    now: float,
    meter: Meter,
    found: Quote | None = None,
    release_id: int | None = None,
    error: str | None = None,
    source: str | None = None,
    usage: TokenUsage | None = None,
) -> PriceEstimate:
    """Assemble the estimate both agents return, with what was spent to get it."""
    return PriceEstimate(
        slot=album.slot,
        amount=found.amount if found else None,
        currency=found.currency if found else "USD",
        confidence=found.confidence if found else 0.0,
        source=source or (found.source if found else "none"),
        release_id=release_id,
        error=None if found else (error or "no price")[:ERROR_MAX_LENGTH],
        requests=meter.requests,
        retries=meter.retries,
        duration_ms=max(0, round((now - started) * 1000)),
        usage=usage or TokenUsage(),
    )


class DiscogsPricingAgent:
    """``PricingSource`` over the Discogs API (or the local one). Thread-safe: no state per call.

    Args:
        client: the shared API client.
        monotonic: clock for ``duration_ms``, injected for tests.
    """

    def __init__(
        self, client: DiscogsClient, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._monotonic = monotonic

    def __repr__(self) -> str:
        return f"DiscogsPricingAgent({self._client!r})"

    def estimate(self, album: Album) -> PriceEstimate:
        """Price one album; a failure retrying cannot fix comes back with ``error`` set.

        Raises:
            PricingUnavailableError: the API is unavailable; the orchestrator retries the agent.
        """
        started = self._monotonic()
        meter = self._client.meter()
        found: Quote | None = None
        release_id: int | None = None
        error: str | None = None
        if album.unrecognized or not album.title or not album.artist:
            error = "album not recognized: nothing to price"
        else:
            try:
                match = find_release(self._client, meter, album.artist, album.title, album.year)
                if match is None:
                    error = f"no matching release for {album.artist} - {album.title}"
                else:
                    release_id = match.candidate.release_id
                    market = fetch_market(
                        partial(self._client.price_suggestions, meter, release_id),
                        partial(self._client.stats, meter, release_id),
                    )
                    found = quote(match.score, market.suggestions, market.stats)
                    if found is None:
                        error = f"release {release_id} has no price suggestion and none for sale"
            except PricingError as exc:
                error = str(exc)
        result = estimate_from(
            album,
            started=started,
            now=self._monotonic(),
            meter=meter,
            found=found,
            release_id=release_id,
            error=error,
        )
        logger.info(
            "priced slot %d: release=%s amount=%s confidence=%.2f requests=%d retries=%d "
            "ms=%d error=%s",
            album.slot,
            result.release_id,
            result.amount,
            result.confidence,
            result.requests,
            result.retries,
            result.duration_ms,
            result.error,
        )
        return result
