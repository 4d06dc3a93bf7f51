"""The human side of the review step: validate a person's decision and resume the workflow.

The CLI and the dashboard both call ``submit_review``; neither talks to an orchestrator itself.
"""

from __future__ import annotations

import contextlib

from pydantic import ValidationError

from handlers.domain.errors import (
    InvalidReviewError,
    ReviewAlreadyResolvedError,
    ReviewExpiredError,
    ReviewNotFoundError,
)
from handlers.domain.models import ReviewDecision, ReviewResult, ReviewState
from handlers.domain.ports import AlbumRepository, Clock, ReviewInbox
from handlers.domain.tenant import Pattern
from handlers.domain.workflow import decide_review


def submit_review(
    pattern: Pattern,
    upload_id: str,
    decision: ReviewDecision,
    *,
    repo: AlbumRepository,
    inbox: ReviewInbox,
    clock: Clock,
) -> ReviewResult:
    """Apply ``decision`` to the open review of one upload and resume its workflow.

    The orchestrator is the arbiter of "once": a task token or callback id can be completed a
    single time, so two reviewers racing cannot both win. The review item is closed after the
    orchestrator accepted, and the workflow's final step records the outcome again, so the
    stored state ends consistent even if this process dies in between.

    Raises:
        InvalidReviewError: the decision breaks the model's rules; nothing was sent.
        ReviewNotFoundError: the upload has no review (unknown id, or never reached review).
        ReviewAlreadyResolvedError: it was approved, rejected or timed out already.
        ReviewExpiredError: the workflow stopped waiting (timed out, or the token is unknown).
    """
    decision = _validated(decision)
    review = repo.get_review(pattern, upload_id)
    if review is None:
        raise ReviewNotFoundError(f"no review for upload {upload_id} in {pattern.value}")
    if review.state is not ReviewState.OPEN:
        raise ReviewAlreadyResolvedError(
            f"review of upload {upload_id} in {pattern.value} is already {review.state.value}"
        )
    if clock.now() >= review.expires_at:
        raise ReviewExpiredError(
            f"review of upload {upload_id} in {pattern.value} expired at "
            f"{review.expires_at.isoformat()}; the workflow went on with the extracted data"
        )
    result = decide_review(review, decision, clock=clock)
    inbox.complete(pattern, review.token, result)
    with contextlib.suppress(ReviewAlreadyResolvedError):
        repo.resolve_review(pattern, upload_id, result.outcome, clock.now())
    return result


def _validated(decision: ReviewDecision) -> ReviewDecision:
    """Check the decision again here, whoever built it: the UI's checks are a courtesy.

    A caller can make a model without validation (``model_construct``, a future HTTP API);
    an unknown action or a slot outside 1..6 would otherwise pass as a plain approval.
    """
    try:
        return ReviewDecision.model_validate(decision.model_dump(warnings=False))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'decision'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise InvalidReviewError(f"invalid review decision: {problems}") from None
