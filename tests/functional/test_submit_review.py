"""The human side of the review: validation, once-only completion, clear errors."""

from __future__ import annotations

import json

import pytest

from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.domain.errors import (
    ReviewAlreadyResolvedError,
    ReviewExpiredError,
    ReviewNotFoundError,
)
from handlers.domain.models import ReviewDecision, ReviewState
from handlers.domain.reviews import submit_review
from handlers.domain.tenant import Pattern
from tests.conftest import FixedClock, make_extraction, make_upload, six_albums
from tests.fakes import RecordingInbox

LDF = Pattern.DURABLE
APPROVE_1970 = ReviewDecision.model_validate(
    {"action": "approve", "corrections": [{"slot": 2, "year": 1970}]}
)


@pytest.fixture
def open_review(repo: DynamoDbAlbumRepository, clock: FixedClock) -> str:
    upload = make_upload()
    repo.claim_upload(LDF, upload, "exec", clock.now())
    repo.save_extraction(LDF, upload.upload_id, make_extraction(), clock.now())
    expires = clock.now().replace(hour=13)
    repo.open_review(LDF, upload.upload_id, "callback-1", six_albums(), clock.now(), expires)
    return upload.upload_id


def test_submit_review_sends_corrected_albums_with_stored_token(
    repo: DynamoDbAlbumRepository, clock: FixedClock, open_review: str
) -> None:
    inbox = RecordingInbox()
    result = submit_review(LDF, open_review, APPROVE_1970, repo=repo, inbox=inbox, clock=clock)
    assert result.albums[1].year == 1970
    [(pattern, token, payload)] = inbox.completed
    assert (pattern, token) == (LDF, "callback-1")
    assert json.loads(payload)["albums"][1]["year"] == 1970
    review = repo.get_review(LDF, open_review)
    assert review is not None
    assert review.state is ReviewState.APPROVED


def test_submit_review_twice_refused(
    repo: DynamoDbAlbumRepository, clock: FixedClock, open_review: str
) -> None:
    inbox = RecordingInbox()
    submit_review(LDF, open_review, APPROVE_1970, repo=repo, inbox=inbox, clock=clock)
    with pytest.raises(ReviewAlreadyResolvedError, match="already APPROVED"):
        submit_review(LDF, open_review, APPROVE_1970, repo=repo, inbox=inbox, clock=clock)
    assert len(inbox.completed) == 1


def test_submit_review_after_expiry_refused(
    repo: DynamoDbAlbumRepository, clock: FixedClock, open_review: str
) -> None:
    clock.advance(3600)
    inbox = RecordingInbox()
    with pytest.raises(ReviewExpiredError, match="went on with the extracted data"):
        submit_review(LDF, open_review, APPROVE_1970, repo=repo, inbox=inbox, clock=clock)
    assert inbox.completed == []


def test_submit_review_unknown_upload_refused(
    repo: DynamoDbAlbumRepository, clock: FixedClock
) -> None:
    with pytest.raises(ReviewNotFoundError):
        submit_review(LDF, "0" * 24, APPROVE_1970, repo=repo, inbox=RecordingInbox(), clock=clock)


def test_submit_review_wrong_pattern_refused(
    repo: DynamoDbAlbumRepository, clock: FixedClock, open_review: str
) -> None:
    with pytest.raises(ReviewNotFoundError):
        submit_review(
            Pattern.STEP_FUNCTIONS,
            open_review,
            APPROVE_1970,
            repo=repo,
            inbox=RecordingInbox(),
            clock=clock,
        )


def test_submit_review_orchestrator_gone_leaves_review_open(
    repo: DynamoDbAlbumRepository, clock: FixedClock, open_review: str
) -> None:
    inbox = RecordingInbox(error=ReviewExpiredError("gone"))
    with pytest.raises(ReviewExpiredError):
        submit_review(LDF, open_review, APPROVE_1970, repo=repo, inbox=inbox, clock=clock)
    review = repo.get_review(LDF, open_review)
    assert review is not None
    assert review.state is ReviewState.OPEN
