"""The human step under misuse, against both orchestrators, through the real review gateway and
the orchestrators' own callback APIs (moto's ``SendTaskSuccess``, the testing SDK's HTTP callback
API): named errors, nothing sent when the gateway can know better, state left as it was.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from handlers.domain.errors import (
    InvalidReviewError,
    ReviewAlreadyResolvedError,
    ReviewExpiredError,
    ReviewNotFoundError,
)
from handlers.domain.models import (
    AlbumCorrection,
    ReviewDecision,
    ReviewResult,
    ReviewState,
    WorkflowStatus,
)
from handlers.domain.ports import ReviewInbox
from handlers.domain.reviews import submit_review
from handlers.domain.tenant import Pattern
from tests.conftest import CATALOG_SIX, FixedClock
from tests.functional.conftest import Workbench, swapped
from tests.functional.reliability.patterns import (
    COMPLETED,
    Orchestration,
    upload_id_of,
    wait_for_review,
)

EXTRACTED_YEARS = [year for _, _, year in CATALOG_SIX]


class CountingInbox:
    """The real gateway inbox, counting what actually reached an orchestrator."""

    def __init__(self, inner: ReviewInbox) -> None:
        self.inner = inner
        self.sent = 0

    def complete(self, pattern: Pattern, token: str, result: ReviewResult) -> None:
        self.inner.complete(pattern, token, result)
        self.sent += 1


def year_of_slot(slot: int, year: int, reviewer: str = "ana") -> ReviewDecision:
    return ReviewDecision.model_validate(
        {"action": "approve", "corrections": [{"slot": slot, "year": year}], "reviewer": reviewer}
    )


def submit(
    orchestration: Orchestration,
    bench: Workbench,
    upload_id: str,
    decision: ReviewDecision,
    *,
    pattern: Pattern | None = None,
    inbox: ReviewInbox | None = None,
    clock: Any = None,
) -> ReviewResult:
    return submit_review(
        pattern or orchestration.pattern,
        upload_id,
        decision,
        repo=bench.repo,
        inbox=inbox or orchestration.inbox(),
        clock=clock or bench.deps.clock,
    )


def waiting(orchestration: Orchestration, bench: Workbench, key: str = "uploads/shelf.jpg"):
    """An execution paused at the review: its handle and upload id."""
    event = bench.upload(key)
    handle = orchestration.start(event)
    upload_id = upload_id_of(event)
    wait_for_review(bench.repo, orchestration.pattern, upload_id)
    return handle, upload_id


def test_review_timeout_goes_on_with_extracted_albums(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    with swapped(workbench, settings={"review_timeout_seconds": 1}):
        handle, upload_id = waiting(orchestration, workbench)
        ending = orchestration.finish(handle)

    assert orchestration.outcome(handle, ending) == COMPLETED
    record = workbench.repo.get_upload(orchestration.pattern, upload_id)
    assert record is not None
    assert record.review is not None
    assert record.review.state is ReviewState.TIMED_OUT
    assert [album.year for album in record.albums] == EXTRACTED_YEARS
    assert record.metrics is not None
    assert record.metrics.review_outcome is ReviewState.TIMED_OUT


def test_review_approval_after_timeout_is_refused_and_changes_nothing(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    # GIVEN a workflow that went on without the reviewer
    with swapped(workbench, settings={"review_timeout_seconds": 1}):
        handle, upload_id = waiting(orchestration, workbench)
        orchestration.finish(handle)
    before = workbench.repo.get_upload(orchestration.pattern, upload_id)
    inbox = CountingInbox(orchestration.inbox())

    # WHEN the reviewer's late approval arrives
    with pytest.raises(ReviewAlreadyResolvedError, match="already TIMED_OUT"):
        submit(orchestration, workbench, upload_id, year_of_slot(1, 1960), inbox=inbox)

    # THEN nothing reached the orchestrator and nothing stored changed
    assert inbox.sent == 0
    assert workbench.repo.get_upload(orchestration.pattern, upload_id) == before


def test_review_approval_after_expiry_is_refused_while_the_workflow_still_waits(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    # GIVEN a review whose deadline passed a moment before the orchestrator's timeout fires
    handle, upload_id = waiting(orchestration, workbench)
    review = workbench.repo.get_review(orchestration.pattern, upload_id)
    assert review is not None
    late = FixedClock(review.expires_at)
    inbox = CountingInbox(orchestration.inbox())

    with pytest.raises(ReviewExpiredError, match="expired"):
        submit(orchestration, workbench, upload_id, year_of_slot(1, 1960), inbox=inbox, clock=late)

    # THEN the review is still open, the execution still waits for the orchestrator's timeout
    assert inbox.sent == 0
    assert workbench.repo.get_review(orchestration.pattern, upload_id) == review
    assert orchestration.is_running(handle)


def test_review_double_approval_applies_the_first_only(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    handle, upload_id = waiting(orchestration, workbench)
    submit(orchestration, workbench, upload_id, year_of_slot(1, 1960))
    inbox = CountingInbox(orchestration.inbox())

    with pytest.raises(ReviewAlreadyResolvedError, match="already APPROVED"):
        submit(orchestration, workbench, upload_id, year_of_slot(1, 1961, "bo"), inbox=inbox)
    ending = orchestration.finish(handle)

    assert inbox.sent == 0
    assert orchestration.outcome(handle, ending) == COMPLETED
    record = workbench.repo.get_upload(orchestration.pattern, upload_id)
    assert record is not None
    assert record.albums[0].year == 1960
    assert record.review is not None
    assert record.review.state is ReviewState.APPROVED


def test_review_concurrent_approvals_let_exactly_one_through(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    # GIVEN two reviewers pressing "approve" on the same review at the same moment
    handle, upload_id = waiting(orchestration, workbench)
    start = threading.Barrier(2)
    won: list[int] = []
    refused: list[Exception] = []

    def reviewer(year: int) -> None:
        start.wait()
        try:
            submit(orchestration, workbench, upload_id, year_of_slot(1, year))
            won.append(year)
        except (ReviewAlreadyResolvedError, ReviewExpiredError) as exc:
            refused.append(exc)

    threads = [threading.Thread(target=reviewer, args=(year,)) for year in (1960, 1961)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    ending = orchestration.finish(handle)

    # THEN one decision reached the workflow, the other reviewer was told, records agree
    assert len(won) == 1, (won, refused)
    assert len(refused) == 1
    assert orchestration.outcome(handle, ending) == COMPLETED
    record = workbench.repo.get_upload(orchestration.pattern, upload_id)
    assert record is not None
    assert record.albums[0].year == won[0]


INVALID_DECISIONS: dict[str, dict[str, Any]] = {
    "year-1800": {"action": "approve", "corrections": [{"slot": 2, "year": 1800}]},
    "slot-9": {"action": "approve", "corrections": [{"slot": 9, "year": 1970}]},
    "control-characters": {"action": "approve", "corrections": [{"slot": 2, "title": "B\x1b[31m"}]},
    "unknown-action": {"action": "delete"},
    "reject-with-changes": {"action": "reject", "corrections": [{"slot": 1, "year": 1970}]},
}


def test_review_with_invalid_data_sends_nothing(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    handle, upload_id = waiting(orchestration, workbench)
    review = workbench.repo.get_review(orchestration.pattern, upload_id)
    inbox = CountingInbox(orchestration.inbox())

    for name, fields in INVALID_DECISIONS.items():
        # The UI and the CLI build the decision through the model, which refuses it...
        with pytest.raises(ValidationError):
            ReviewDecision.model_validate(fields)
        # ...and the gateway refuses it again when a caller skipped that check.
        unchecked = ReviewDecision.model_construct(
            action=fields["action"],
            corrections=[
                AlbumCorrection.model_construct(**c) for c in fields.get("corrections", [])
            ],
        )
        with pytest.raises(InvalidReviewError, match="invalid review decision"):
            submit(orchestration, workbench, upload_id, unchecked, inbox=inbox)
        assert inbox.sent == 0, name

    assert workbench.repo.get_review(orchestration.pattern, upload_id) == review
    assert orchestration.is_running(handle)


def test_review_for_the_wrong_pattern_is_refused(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    handle, upload_id = waiting(orchestration, workbench)
    other = next(pattern for pattern in Pattern if pattern is not orchestration.pattern)
    inbox = CountingInbox(orchestration.inbox())

    with pytest.raises(ReviewNotFoundError, match=f"in {other.value}"):
        submit(orchestration, workbench, upload_id, year_of_slot(1, 1960), pattern=other)

    assert inbox.sent == 0
    submit(orchestration, workbench, upload_id, year_of_slot(1, 1960))
    assert orchestration.outcome(handle, orchestration.finish(handle)) == COMPLETED


def test_review_for_an_unknown_upload_is_refused(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    inbox = CountingInbox(orchestration.inbox())

    with pytest.raises(ReviewNotFoundError, match="no review for upload"):
        submit(orchestration, workbench, "0" * 24, year_of_slot(1, 1960), inbox=inbox)

    assert inbox.sent == 0
    assert workbench.repo.get_upload(orchestration.pattern, "0" * 24) is None


FORGED = {
    Pattern.STEP_FUNCTIONS: ("AAAAKgAAAAIAAAAAAAAAAforged0token", "InvalidToken"),
    Pattern.DURABLE: ("eyJhcm4iOiAiZm9yZ2VkIiwgIm9wIjogIjEifQ==", "404"),
}
"""A made-up task token / callback id, shaped like real ones, and the code each API answers."""


def test_forged_token_sent_to_the_orchestrator_is_refused(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    # GIVEN a workflow waiting for its genuine reviewer
    handle, upload_id = waiting(orchestration, workbench)
    review = workbench.repo.get_review(orchestration.pattern, upload_id)
    assert review is not None
    forged, code = FORGED[orchestration.pattern]
    result = ReviewResult(
        outcome=ReviewState.APPROVED, albums=review.albums, decided_at=review.requested_at
    )

    # WHEN someone sends a made-up token straight to the orchestrator's API
    with pytest.raises(ClientError) as refused:
        orchestration.send_directly(forged, result.model_dump_json())
    # AND through the review gateway
    with pytest.raises(ReviewExpiredError, match="no longer waits"):
        orchestration.inbox().complete(orchestration.pattern, forged, result)

    # THEN both are refused by name, and the genuine review still completes the workflow
    assert refused.value.response["Error"]["Code"] == code
    assert workbench.repo.get_review(orchestration.pattern, upload_id) == review
    assert orchestration.is_running(handle)
    submit(orchestration, workbench, upload_id, year_of_slot(1, 1960))
    assert orchestration.outcome(handle, orchestration.finish(handle)) == COMPLETED
    record = workbench.repo.get_upload(orchestration.pattern, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.COMPLETED


SECOND_USE = {Pattern.STEP_FUNCTIONS: "InvalidToken", Pattern.DURABLE: "404"}
"""What each orchestrator API answers to a token or callback id that was already used."""


def test_genuine_token_sent_twice_to_the_orchestrator_is_refused_the_second_time(
    orchestration: Orchestration, workbench: Workbench
) -> None:
    handle, upload_id = waiting(orchestration, workbench)
    review = workbench.repo.get_review(orchestration.pattern, upload_id)
    assert review is not None
    result = ReviewResult(
        outcome=ReviewState.APPROVED, albums=review.albums, decided_at=review.requested_at
    )
    orchestration.send_directly(review.token, result.model_dump_json())

    with pytest.raises(ClientError) as refused:
        orchestration.send_directly(review.token, result.model_dump_json())

    assert refused.value.response["Error"]["Code"] == SECOND_USE[orchestration.pattern]
    assert orchestration.outcome(handle, orchestration.finish(handle)) == COMPLETED
