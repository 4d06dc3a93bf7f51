"""The dashboard's data access on moto: Queries only, stored metrics first, reviews sent once."""

from __future__ import annotations

import json
from datetime import date

import pytest

from albumreg.dashboard import review_form
from albumreg.dashboard.data import albums, comparison, reviews, upload
from handlers.domain.models import ReviewDecision, ReviewState, WorkflowStatus
from handlers.domain.records import UploadSummary
from handlers.domain.tenant import Pattern
from tests.fakes import RecordingInbox
from tests.functional.dashboard_world import (
    BUCKET,
    HISTORY_ARNS,
    LDF,
    SF,
    World,
    build_world,
    token,
)


@pytest.fixture
def world(repo, s3) -> World:
    return build_world(repo, s3)


@pytest.fixture
def operations(dynamodb) -> list[str]:
    """Every DynamoDB operation the repository's client makes from here on."""
    seen: list[str] = []
    dynamodb.meta.events.register(
        "before-call.dynamodb", lambda model, **_: seen.append(model.name)
    )
    return seen


def test_open_review_groups_newest_first_by_upload_with_both_patterns(world, operations) -> None:
    groups = reviews.open_review_groups(world.backend(), limit=50)

    assert [g.upload_id for g in groups] == [
        world.uploads["pending"],
        world.uploads["half"],
        world.uploads["late"],
    ]
    assert set(groups[0].reviews) == {SF, LDF}
    assert set(groups[1].reviews) == {SF}
    assert groups[0].reviews[SF].token == token(SF, "pending")
    assert operations == ["Query", "Query"]


def test_review_card_shows_a_side_resolved_elsewhere_and_a_side_never_reviewed(
    world, operations
) -> None:
    backend = world.backend()
    now = world.clock.now()
    groups = {g.upload_id: g for g in reviews.open_review_groups(backend, limit=50)}
    operations.clear()

    half = reviews.review_card(backend, groups[world.uploads["half"]])
    late = reviews.review_card(backend, groups[world.uploads["late"]])

    # GetItem only: a card costs the same however large the table grows.
    assert operations == ["GetItem"] * 4

    assert half.key == "uploads/half.jpg"
    assert reviews.review_status(half.reviews[SF], now).approvable
    assert reviews.review_status(half.reviews[LDF], now) == reviews.ReviewStatus(
        "approved", approvable=False
    )
    assert reviews.review_status(late.reviews[SF], now).label == "timed out"
    assert not reviews.review_status(late.reviews[SF], now).approvable
    assert reviews.review_status(late.reviews[LDF], now).label == "not waiting for review"


def test_thumbnail_is_a_small_jpeg_of_the_photo_or_none(world) -> None:
    backend = world.backend()

    small = reviews.thumbnail(backend, BUCKET, "uploads/pending.jpg")

    assert small is not None
    assert small.startswith(b"\xff\xd8")
    assert len(small) < len(
        world.s3.get_object(Bucket=BUCKET, Key="uploads/pending.jpg")["Body"].read()
    )
    assert reviews.thumbnail(backend, BUCKET, "uploads/missing.jpg") is None


def listed(world: World, *statuses: WorkflowStatus) -> list[UploadSummary]:
    backend = world.backend()
    return [
        summary
        for pattern in Pattern
        for status in statuses
        for summary in albums.list_uploads(backend, pattern, status, limit=50)
    ]


def test_uploads_merge_both_patterns_and_filter_by_date(world, operations) -> None:
    completed = albums.merge_uploads(listed(world, WorkflowStatus.COMPLETED))
    failed_or_done = albums.merge_uploads(
        listed(world, WorkflowStatus.COMPLETED, WorkflowStatus.FAILED)
    )
    none_yet = albums.merge_uploads(listed(world, *WorkflowStatus), since=date(2030, 1, 1))

    assert {row.upload_id for row in completed} == {
        world.uploads["stored"],
        world.uploads["history"],
    }
    both = {SF: WorkflowStatus.COMPLETED, LDF: WorkflowStatus.COMPLETED}
    assert all(row.statuses == both for row in completed)
    failed = next(r for r in failed_or_done if r.upload_id == world.uploads["failed"])
    assert failed.statuses == {SF: WorkflowStatus.FAILED}
    assert failed.errors == {SF: "Boom"}
    assert none_yet == []
    assert set(operations) == {"Query"}


def test_album_pairs_mark_the_slot_where_the_patterns_differ(world) -> None:
    pair = albums.upload_pair(world.backend(), world.uploads["stored"])

    pairs = albums.album_pairs(pair)

    assert [p.slot for p in pairs] == [1, 2, 3, 4, 5, 6]
    assert pairs[1].differences == {"year"}
    assert all(not p.differences for p in pairs if p.slot != 2)


def test_execution_metrics_prefer_stored_and_read_history_only_without(world, operations) -> None:
    completed = listed(world, WorkflowStatus.COMPLETED)
    operations.clear()

    measured = comparison.execution_metrics(world.backend(), completed)

    # One BatchGetItem per pattern for the stored metrics, whatever the number of uploads.
    assert operations == ["BatchGetItem", "BatchGetItem"]
    by_key = {(m.pattern, m.upload_id): m for m in measured}
    stored = by_key[(SF, world.uploads["stored"])]
    assert stored.source == "stored"
    assert stored.active_seconds == 4.5
    assert stored.step_seconds == {"extract-albums": 3.1, "price-albums": 1.2}
    assert stored.cost == {"orchestration": 0.000275, "vision": 0.0002}
    assert by_key[(LDF, world.uploads["stored"])].cost is None
    history = by_key[(SF, world.uploads["history"])]
    assert history.source == "history"
    # From tests/events/history_sf_happy.json: 3.993 s in all, 1.619 s of it in review.
    assert history.active_seconds == pytest.approx(3.993 - 1.619)
    assert history.billed_units == 11
    assert by_key[(LDF, world.uploads["history"])].billed_units == 13
    assert sorted(world.histories.reads) == sorted(
        [(SF, HISTORY_ARNS[SF]), (LDF, HISTORY_ARNS[LDF])]
    )


def test_recent_outcomes_count_failures_within_the_window(world) -> None:
    completed = listed(world, WorkflowStatus.COMPLETED)
    failed = listed(world, WorkflowStatus.FAILED)

    outcomes = {o.pattern: o for o in comparison.recent_outcomes(completed, failed, window=50)}
    newest_two = {o.pattern: o for o in comparison.recent_outcomes(completed, failed, window=2)}

    assert (outcomes[SF].completed, outcomes[SF].failed) == (2, 1)
    assert outcomes[SF].success_rate == pytest.approx(2 / 3)
    assert outcomes[LDF].success_rate == 1.0
    assert newest_two[SF].completed + newest_two[SF].failed == 2


def test_upload_timelines_lay_both_executions_on_one_axis(world) -> None:
    laid_out = comparison.upload_timelines(world.backend(), world.uploads["history"], HISTORY_ARNS)

    assert laid_out.missing == []
    assert {bar.pattern for bar in laid_out.bars} == {SF, LDF}
    extract = {bar.pattern: bar for bar in laid_out.bars if bar.row == "Extract albums"}
    # The durable execution started first (12.620932); Step Functions entered extract-albums
    # at 12.634 and the durable step started at 12.906630 (tests/events/history_*_happy.json).
    assert extract[SF].start == pytest.approx(12.634 - 12.620932)
    assert extract[LDF].start == pytest.approx(12.906630 - 12.620932)
    assert [bar.row for bar in laid_out.bars if bar.pattern is SF][:2] == [
        "Extract albums",
        "Human review",
    ]


def test_upload_photo_puts_the_photo_under_the_upload_prefix(world) -> None:
    photo = world.s3.get_object(Bucket=BUCKET, Key="uploads/pending.jpg")["Body"].read()

    uploaded = upload.upload_photo(world.backend(), photo, "My Shelf (2).jpg")

    assert uploaded.key == "uploads/My Shelf (2).jpg"
    stored = world.s3.get_object(Bucket=BUCKET, Key=uploaded.key)
    assert stored["ContentType"] == "image/jpeg"
    assert len(uploaded.upload_id) == 24


def test_submit_sends_each_open_side_once_and_reports_the_other(world) -> None:
    inbox = RecordingInbox()
    upload_id = world.uploads["half"]
    checked = review_form.build_decision(
        "approve",
        {1: review_form.SlotInput(year="1960")},
        world.repo.get_review(SF, upload_id).albums,
    )
    assert checked.decision is not None

    sent = review_form.submit(
        checked.decision, upload_id, [SF, LDF], repo=world.repo, inbox=inbox, clock=world.clock
    )

    assert [(s.pattern, s.ok) for s in sent] == [(SF, True), (LDF, False)]
    assert "resolved elsewhere" in sent[1].message
    assert [(p, t) for p, t, _ in inbox.completed] == [(SF, token(SF, "half"))]
    assert json.loads(inbox.completed[0][2])["albums"][0]["year"] == 1960
    assert world.repo.get_review(SF, upload_id).state is ReviewState.APPROVED


def test_submit_refuses_a_review_past_its_deadline(world) -> None:
    inbox = RecordingInbox()

    sent = review_form.submit(
        ReviewDecision(action="approve"),
        world.uploads["late"],
        [Pattern.STEP_FUNCTIONS],
        repo=world.repo,
        inbox=inbox,
        clock=world.clock,
    )

    assert not sent[0].ok
    assert "too late" in sent[0].message
    assert inbox.completed == []


def test_get_metrics_batches_a_hundred_keys_and_leaves_unknown_uploads_out(
    world, operations
) -> None:
    known = world.uploads["stored"]
    unknown = [f"{index:024x}" for index in range(149)]

    found = world.repo.get_metrics(SF, [*unknown, known, known])

    assert set(found) == {known}
    assert found[known].active_seconds == 4.5
    assert found[known].execution_id == "sf-exec-stored"
    assert operations == ["BatchGetItem", "BatchGetItem"]
