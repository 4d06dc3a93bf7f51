"""From a matched release's market data to an amount, a currency and a confidence.

Shared by both price agents so the LLM never invents a number: it picks a release, this module
prices it. Imports only the client's wire types and the standard library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from handlers.adapters.pricing.discogs import MarketStats, Money

REFERENCE_CONDITION = "Very Good Plus (VG+)"
"""The grade a typical used record is sold in: its suggestion is the price we report."""

DEPTH_SATURATION_LISTINGS = 100
"""Beyond this many copies for sale, a deeper market adds no certainty."""

LOWEST_PRICE_DISCOUNT = 0.8
"""The cheapest listing is of unknown condition: a weaker signal than a VG+ suggestion."""

SOURCE_SUGGESTION = "discogs:price_suggestions"
SOURCE_LOWEST = "discogs:lowest_price"

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Quote:
    """What an agent reports for a matched release."""

    amount: Decimal
    currency: str
    source: str
    confidence: float


def market_depth(stats: MarketStats | None) -> float:
    """0 with nothing for sale (or unknown), rising logarithmically to 1 at saturation."""
    listed = stats.num_for_sale if stats is not None and stats.num_for_sale else 0
    return min(1.0, math.log1p(listed) / math.log1p(DEPTH_SATURATION_LISTINGS))


def confidence(match_score: float, stats: MarketStats | None, source: str) -> float:
    """Confidence = match quality x market factor x source factor, in 0..1.

    - match quality: the name score of the chosen release (1.0 for an exact artist and title);
    - market factor: ``0.5 + 0.5 * depth``; a price with no market behind it is half as sure;
    - source factor: 1 for the VG+ suggestion, ``LOWEST_PRICE_DISCOUNT`` for the lowest listing.
    """
    source_factor = 1.0 if source == SOURCE_SUGGESTION else LOWEST_PRICE_DISCOUNT
    value = match_score * (0.5 + 0.5 * market_depth(stats)) * source_factor
    return round(min(1.0, max(0.0, value)), 3)


def quote(
    match_score: float, suggestions: dict[str, Money] | None, stats: MarketStats | None
) -> Quote | None:
    """The VG+ suggestion, else the lowest listing; None when the market offers neither."""
    money = (suggestions or {}).get(REFERENCE_CONDITION)
    source = SOURCE_SUGGESTION
    if money is None and stats is not None:
        money, source = stats.lowest_price, SOURCE_LOWEST
    if money is None:
        return None
    return Quote(
        amount=money.value.quantize(_CENT, rounding=ROUND_HALF_UP),
        currency=money.currency,
        source=source,
        confidence=confidence(match_score, stats, source),
    )
