"""The pure parts of the business steps: applying a decision, and the agent guard."""

from __future__ import annotations

from handlers.domain.models import (
    Album,
    PriceRequest,
    ReviewDecision,
    ReviewState,
)
from handlers.domain.records import ReviewRecord
from handlers.domain.tenant import Pattern
from handlers.domain.workflow import decide_review, price_album
from tests.conftest import T0, FixedClock, six_albums
from tests.fakes import ScriptedPricing


def review(unrecognized: tuple[int, ...] = ()) -> ReviewRecord:
    return ReviewRecord(
        pattern=Pattern.STEP_FUNCTIONS,
        upload_id="a" * 24,
        token="token",
        state=ReviewState.OPEN,
        albums=six_albums(unrecognized),
        requested_at=T0,
        expires_at=T0,
    )


def test_decide_review_applies_year_correction_only_to_its_slot() -> None:
    decision = ReviewDecision.model_validate(
        {"action": "approve", "corrections": [{"slot": 2, "year": 1970}]}
    )
    result = decide_review(review(), decision, clock=FixedClock())
    assert result.outcome is ReviewState.APPROVED
    assert result.albums[1].year == 1970
    assert result.albums[1].title == "Abbey Road"
    assert [a.year for a in result.albums if a.slot != 2] == [1959, 1977, 1971, 1984, 1997]


def test_decide_review_naming_an_unrecognized_cover_recognizes_it() -> None:
    decision = ReviewDecision.model_validate(
        {
            "action": "approve",
            "corrections": [{"slot": 4, "title": "Blue", "artist": "Joni Mitchell"}],
        }
    )
    result = decide_review(review(unrecognized=(4,)), decision, clock=FixedClock())
    album = result.albums[3]
    assert (album.unrecognized, album.confidence, album.title) == (False, 1.0, "Blue")


def test_decide_review_year_alone_leaves_unrecognized_cover_flagged() -> None:
    decision = ReviewDecision.model_validate(
        {"action": "approve", "corrections": [{"slot": 4, "year": 1971}]}
    )
    album = decide_review(review(unrecognized=(4,)), decision, clock=FixedClock()).albums[3]
    assert album.unrecognized
    assert album.year == 1971


def test_decide_review_reject_keeps_albums_and_comment() -> None:
    decision = ReviewDecision(action="reject", comment="wrong photo")
    result = decide_review(review(), decision, clock=FixedClock())
    assert result.outcome is ReviewState.REJECTED
    assert result.comment == "wrong photo"
    assert result.albums == six_albums()


def test_price_album_skips_unrecognized_cover() -> None:
    pricing = ScriptedPricing()
    album = Album(slot=3, unrecognized=True)
    request = PriceRequest(pattern=Pattern.DURABLE, upload_id="u", album=album)
    estimate = price_album(request, pricing=pricing)
    assert not pricing.calls
    assert estimate.amount is None
    assert estimate.error is not None
    assert "not recognized" in estimate.error


def test_price_album_keeps_the_requested_slot() -> None:
    pricing = ScriptedPricing(answer_slot=5)
    album = six_albums()[1]
    request = PriceRequest(pattern=Pattern.DURABLE, upload_id="u", album=album)
    assert price_album(request, pricing=pricing).slot == 2
