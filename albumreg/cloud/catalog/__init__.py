"""The bundled SAMPLE album catalog: invented release ids and made-up prices, for local use only.

Shared by the offline cover recognizer and the local pricing API. Imports nothing but pydantic
and the domain policy; never a network client, never a local-only package.
"""

from __future__ import annotations

import functools
import itertools
import json
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from handlers.domain.models import FIRST_YEAR, TEXT_MAX_LENGTH

CONDITIONS: tuple[str, ...] = (
    "Mint (M)",
    "Near Mint (NM or M-)",
    "Very Good Plus (VG+)",
    "Very Good (VG)",
    "Good Plus (G+)",
    "Good (G)",
    "Fair (F)",
    "Poor (P)",
)
"""Discogs' media grades, best first: the keys of every price table."""

LAST_CATALOG_YEAR = 2026
"""Upper bound on a sample release year; the catalog is static, so a fixed bound is honest."""

_CATALOG_PATH = Path(__file__).with_name("albums.json")


def _printable(value: str) -> str:
    """Reject control characters: titles end up in logs, tables and fuzzy matchers."""
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ValueError("must not contain control characters")
    return value


_Text = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TEXT_MAX_LENGTH),
    AfterValidator(_printable),
]
_Money = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]


class CatalogAlbum(BaseModel):
    """One sample release with its price table, as the local pricing API serves it.

    Attributes:
        release_id: synthetic id (900001 and up), so nobody mistakes it for a Discogs id.
        title: album title as printed on the cover.
        artist: main artist as credited.
        year: year of the original release, not of a reissue.
        genre: one coarse genre, for browsing and test coverage.
        prices: USD suggestion for every one of ``CONDITIONS``, decreasing from Mint to Poor.
        num_for_sale: copies currently listed on the (imaginary) marketplace.
        lowest_price: cheapest listing in USD.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    release_id: Annotated[int, Field(gt=0)]
    title: _Text
    artist: _Text
    year: Annotated[int, Field(ge=FIRST_YEAR, le=LAST_CATALOG_YEAR)]
    genre: _Text
    prices: dict[str, _Money]
    num_for_sale: Annotated[int, Field(ge=0)]
    lowest_price: _Money

    @model_validator(mode="after")
    def _complete_decreasing_prices(self) -> Self:
        if tuple(self.prices) != CONDITIONS:
            raise ValueError(f"prices must list exactly {CONDITIONS} in that order")
        amounts = [self.prices[condition] for condition in CONDITIONS]
        if any(better <= worse for better, worse in itertools.pairwise(amounts)):
            raise ValueError("prices must decrease strictly from Mint to Poor")
        return self


class _CatalogFile(BaseModel):
    """The JSON file's shape: a sample-data note and the albums."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    note: str
    albums: tuple[CatalogAlbum, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        ids = [album.release_id for album in self.albums]
        if len(ids) != len(set(ids)):
            raise ValueError("release ids must be unique")
        return self


@functools.cache
def load_catalog() -> tuple[CatalogAlbum, ...]:
    """Read and validate ``albums.json`` once per process.

    Returns:
        Every sample album, in file order.
    """
    raw = json.loads(_CATALOG_PATH.read_text(encoding="utf-8"))
    return _CatalogFile.model_validate(raw).albums
