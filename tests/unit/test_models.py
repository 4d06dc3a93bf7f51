"""Validation at the boundary: every model accepts good input and refuses bad input clearly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from handlers.domain.models import (
    Album,
    AlbumCorrection,
    Extraction,
    PriceEstimate,
    ReviewDecision,
    ReviewResult,
    ReviewState,
    latest_year,
)
from tests.conftest import T0, six_albums


def test_album_valid_is_trimmed() -> None:
    album = Album(slot=1, title="  Blue  ", artist=" Joni Mitchell", year=1971, confidence=0.8)
    assert (album.title, album.artist) == ("Blue", "Joni Mitchell")


@pytest.mark.parametrize("slot", [0, 7, -1])
def test_album_slot_out_of_range_refused(slot: int) -> None:
    with pytest.raises(ValidationError, match="slot"):
        Album(slot=slot, title="A", artist="B")


@pytest.mark.parametrize("year", [1899, latest_year() + 1, 99999])
def test_album_year_out_of_range_refused(year: int) -> None:
    with pytest.raises(ValidationError, match="year must be between"):
        Album(slot=1, title="A", artist="B", year=year)


def test_album_next_year_accepted_for_preorders() -> None:
    assert Album(slot=1, title="A", artist="B", year=latest_year()).year == latest_year()


@pytest.mark.parametrize("confidence", [-0.1, 1.01])
def test_album_confidence_out_of_range_refused(confidence: float) -> None:
    with pytest.raises(ValidationError):
        Album(slot=1, title="A", artist="B", confidence=confidence)


def test_album_recognized_without_title_refused() -> None:
    with pytest.raises(ValidationError, match="needs a title and an artist"):
        Album(slot=1, artist="B")


def test_album_unrecognized_without_title_accepted() -> None:
    assert Album(slot=3, unrecognized=True).title is None


@pytest.mark.parametrize(
    "hostile",
    ["x" * 201, "", "   ", "line\nbreak", "nul\x00byte", "\x1b[31mred", "bidi\u202eoverride"],
)
def test_album_hostile_strings_refused(hostile: str) -> None:
    with pytest.raises(ValidationError):
        Album(slot=1, title=hostile, artist="B")


def test_album_unicode_and_markup_kept_as_data() -> None:
    album = Album(slot=1, title="Björk <b>Début</b> '; DROP TABLE", artist="Björk")
    assert album.title == "Björk <b>Début</b> '; DROP TABLE"


def test_album_unknown_field_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        Album.model_validate({"slot": 1, "title": "A", "artist": "B", "price": 3})


def test_extraction_needs_each_slot_once() -> None:
    albums = six_albums()
    with pytest.raises(ValidationError, match="one album for each slot"):
        Extraction(albums=albums[:5], engine="t")
    with pytest.raises(ValidationError, match="one album for each slot"):
        Extraction(albums=[*albums[:5], albums[0]], engine="t")


def test_extraction_sorts_slots() -> None:
    extraction = Extraction(albums=list(reversed(six_albums())), engine="t")
    assert [album.slot for album in extraction.albums] == [1, 2, 3, 4, 5, 6]


def test_decision_approve_with_corrections() -> None:
    decision = ReviewDecision.model_validate(
        {"action": "approve", "corrections": [{"slot": 2, "year": "1970"}], "reviewer": " ann "}
    )
    assert decision.corrections[0].year == 1970
    assert decision.reviewer == "ann"


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "approve", "corrections": [{"slot": 7, "year": 1970}]},
        {"action": "approve", "corrections": [{"slot": 1, "year": 1850}]},
        {"action": "approve", "corrections": [{"slot": 1, "year": 1970, "price": 1}]},
        {"action": "approve", "corrections": [{"slot": 1}, {"slot": 1}]},
        {"action": "approve", "token": "forged"},
        {"action": "maybe"},
        {"action": "reject", "corrections": [{"slot": 1, "year": 1970}]},
        {"action": "approve", "corrections": [{"slot": s} for s in range(1, 8)]},
        {"action": "approve", "corrections": [{"slot": 1, "title": "t" * 201}]},
    ],
)
def test_decision_bad_input_refused(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ReviewDecision.model_validate(payload)


def test_correction_year_string_coerced() -> None:
    assert AlbumCorrection.model_validate({"slot": 1, "year": "1999"}).year == 1999


def test_price_estimate_amount_round_trips_as_decimal() -> None:
    estimate = PriceEstimate(slot=1, amount=Decimal("24.99"), confidence=0.7, source="discogs")
    again = PriceEstimate.model_validate_json(estimate.model_dump_json())
    assert again.amount == Decimal("24.99")


@pytest.mark.parametrize(
    ("field", "value"),
    [("currency", "usd"), ("currency", "EURO"), ("amount", Decimal("-1")), ("confidence", 2)],
)
def test_price_estimate_bad_fields_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        PriceEstimate.model_validate({"slot": 1, "amount": Decimal(1), "source": "x", field: value})


def test_price_estimate_without_amount_needs_error() -> None:
    with pytest.raises(ValidationError, match="must say why"):
        PriceEstimate(slot=1, amount=None)
    assert PriceEstimate(slot=1, amount=None, error="no match").error == "no match"


def test_review_result_cannot_be_open() -> None:
    with pytest.raises(ValidationError, match="cannot be OPEN"):
        ReviewResult(outcome=ReviewState.OPEN, albums=six_albums(), decided_at=T0)
