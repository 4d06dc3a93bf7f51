"""A small typed client for the Discogs API subset pricing needs: search, stats, suggestions.

Speaks the wire format of api.discogs.com (and of ``albumreg/cloud/fake_discogs.py``); the base URL
comes from configuration. Imports only pydantic and the transport: it runs inside Lambda.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from handlers.adapters.pricing.transport import Meter, PricingResponseError, Transport

PRICING_SEARCH_PAGE_SIZE = 10
"""Search results one agent considers: the best matches come first, so more only costs time."""

SEARCH_PATH = "/database/search"
STATS_PATH = "/marketplace/stats/{release_id}"
SUGGESTIONS_PATH = "/marketplace/price_suggestions/{release_id}"

_YEAR = re.compile(r"^\s*(\d{4})")
M = TypeVar("M", bound=BaseModel)


class _Wire(BaseModel):
    """Discogs sends many more fields than pricing reads; unknown ones are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Money(_Wire):
    """An amount as Discogs writes it: ``{"currency": "USD", "value": 12.5}``."""

    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    value: Annotated[Decimal, Field(ge=0)]


class SearchResult(_Wire):
    """One release from ``/database/search``; ``title`` reads ``"Artist - Title"``."""

    id: int
    type: str = "release"
    title: str
    year: str | int | None = None

    @property
    def artist_and_title(self) -> tuple[str, str]:
        """Split Discogs' combined title; without a separator the artist is unknown."""
        artist, separator, title = self.title.partition(" - ")
        return (artist.strip(), title.strip()) if separator else ("", self.title.strip())

    @property
    def release_year(self) -> int | None:
        """The year as a number, when Discogs gave one (it sends a string, sometimes empty)."""
        match = _YEAR.match(str(self.year)) if self.year is not None else None
        return int(match.group(1)) if match else None


class _SearchPage(_Wire):
    results: list[SearchResult] = Field(default_factory=list)


class MarketStats(_Wire):
    """``/marketplace/stats/{id}``: the cheapest listing and the number of copies for sale."""

    lowest_price: Money | None = None
    num_for_sale: int | None = Field(default=None, ge=0)
    blocked_from_sale: bool = False


class DiscogsClient:
    """Typed calls over a shared ``Transport``; stateless, so one instance serves every thread."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"DiscogsClient(base_url={self._transport.base_url!r})"

    def meter(self) -> Meter:
        """A fresh budget and counters for one estimate."""
        return self._transport.meter()

    def search(
        self,
        meter: Meter,
        *,
        artist: str | None = None,
        title: str | None = None,
        query: str | None = None,
        year: int | None = None,
    ) -> list[SearchResult]:
        """Release search, with Discogs' own parameters (``artist``, ``release_title``, ``q``).

        Returns:
            At most ``PRICING_SEARCH_PAGE_SIZE`` releases, in the API's relevance order.
        """
        params: dict[str, str | int] = {"type": "release", "per_page": PRICING_SEARCH_PAGE_SIZE}
        for name, value in (("q", query), ("artist", artist), ("release_title", title)):
            if value:
                params[name] = value
        if year is not None:
            params["year"] = year
        body = self._transport.get_json(SEARCH_PATH, params, meter)
        page = _parse(_SearchPage, body, SEARCH_PATH)
        return [result for result in page.results if result.type == "release"]

    def stats(self, meter: Meter, release_id: int) -> MarketStats:
        """Marketplace statistics of one release."""
        path = STATS_PATH.format(release_id=int(release_id))
        return _parse(MarketStats, self._transport.get_json(path, {}, meter), path)

    def price_suggestions(self, meter: Meter, release_id: int) -> dict[str, Money]:
        """Suggested price by media condition; empty when Discogs has no suggestion."""
        path = SUGGESTIONS_PATH.format(release_id=int(release_id))
        body = self._transport.get_json(path, {}, meter)
        if not isinstance(body, dict):
            raise PricingResponseError(f"GET {path}: expected an object")
        return {str(condition): _parse(Money, money, path) for condition, money in body.items()}


def _parse(model: type[M], body: Any, path: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        # Only the first error's location: the body itself may be large and is not logged.
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        raise PricingResponseError(f"GET {path}: unexpected response at {where or 'top'}") from None
