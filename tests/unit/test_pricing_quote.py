"""Pricing a matched release: VG+ suggestion first, lowest listing second, confidence formula."""

from __future__ import annotations

from decimal import Decimal

from handlers.adapters.pricing.discogs import MarketStats, Money, SearchResult
from handlers.adapters.pricing.quote import (
    SOURCE_LOWEST,
    SOURCE_SUGGESTION,
    confidence,
    market_depth,
    quote,
)

VG_PLUS = "Very Good Plus (VG+)"


def stats(num_for_sale: int | None, lowest: str | None = "10.00", currency: str = "USD"):
    money = Money(currency=currency, value=Decimal(lowest)) if lowest else None
    return MarketStats(lowest_price=money, num_for_sale=num_for_sale)


def test_quote_prefers_vg_plus_suggestion():
    suggestions = {
        "Mint (M)": Money(currency="EUR", value=Decimal("40")),
        VG_PLUS: Money(currency="EUR", value=Decimal("21.456")),
    }
    found = quote(1.0, suggestions, stats(50))
    assert found is not None
    assert (found.amount, found.currency, found.source) == (
        Decimal("21.46"),
        "EUR",
        SOURCE_SUGGESTION,
    )


def test_quote_falls_back_to_lowest_listing():
    found = quote(1.0, {}, stats(50, "12.5"))
    assert found is not None
    assert (found.amount, found.source) == (Decimal("12.50"), SOURCE_LOWEST)
    suggested = quote(1.0, {VG_PLUS: Money(currency="USD", value=Decimal(1))}, stats(50))
    assert suggested is not None
    assert found.confidence < suggested.confidence


def test_quote_none_without_any_price():
    assert quote(1.0, None, stats(0, None)) is None
    assert quote(1.0, None, None) is None


def test_market_depth_grows_and_saturates():
    depths = [market_depth(stats(n)) for n in (0, 1, 10, 100, 5000)]
    assert depths == sorted(depths)
    assert depths[0] == 0.0
    assert depths[-1] == depths[-2] == 1.0
    assert market_depth(None) == 0.0


def test_confidence_orders_by_match_and_by_depth():
    deep, shallow = stats(300), stats(1)
    assert confidence(1.0, deep, SOURCE_SUGGESTION) > confidence(0.8, deep, SOURCE_SUGGESTION)
    assert confidence(1.0, deep, SOURCE_SUGGESTION) > confidence(1.0, shallow, SOURCE_SUGGESTION)
    assert confidence(1.0, None, SOURCE_SUGGESTION) == 0.5
    assert (
        0.0 <= confidence(0.0, deep, SOURCE_LOWEST) <= confidence(1.0, deep, SOURCE_LOWEST) <= 1.0
    )


def test_search_result_splits_discogs_title_and_year():
    result = SearchResult(id=1, title="Prince And The Revolution - Purple Rain", year="1984")
    assert result.artist_and_title == ("Prince And The Revolution", "Purple Rain")
    assert result.release_year == 1984
    assert SearchResult(id=2, title="Untitled", year="").artist_and_title == ("", "Untitled")
    assert SearchResult(id=2, title="Untitled", year="").release_year is None
