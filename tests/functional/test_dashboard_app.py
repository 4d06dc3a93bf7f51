"""The dashboard's pages with Streamlit's AppTest, on fixture data in an in-process moto account.

The app runs unchanged: its repository and S3 reads go through real boto3 clients that moto
intercepts. Injected: the review inbox (a recorder, or the real one over stubbed clients),
the clock and the history reader (see ``dashboard_world``). Caches are cleared around each test
by ``cached.backend_factory``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from streamlit.testing.v1 import AppTest

from albumreg.dashboard import cached
from albumreg.dashboard.launch import APP
from albumreg.dashboard.review_form import FORM_SLOT, field_key
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.adapters.review_inbox import OrchestratorReviewInbox
from handlers.domain.models import ReviewResult, ReviewState
from handlers.domain.tenant import Pattern
from tests.functional.conftest import TABLE
from tests.functional.dashboard_world import (
    BUCKET,
    HISTORY_ARNS,
    LDF,
    NOW,
    SF,
    World,
    build_world,
    token,
)

PAGES = [
    "views/reviews.py",
    "views/albums.py",
    "views/comparison.py",
    "views/executions.py",
    "views/upload.py",
]
TIMEOUT = 30


@pytest.fixture
def world(repo, s3) -> World:
    return build_world(repo, s3)


@pytest.fixture
def app(world: World) -> Iterator[AppTest]:
    """The dashboard on the fixture world, first page drawn."""
    with cached.backend_factory(world.backend):
        yield AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()


def card_errors(at: AppTest) -> list[str]:
    return [error.value for error in at.error]


def press(at: AppTest, upload_id: str, label: str) -> AppTest:
    """Click a button of one review card's form."""
    form = at.get("form")
    index = next(
        i for i, f in enumerate(form) if f.proto.form.form_id == f"review-form-{upload_id}"
    )
    button = next(b for b in form[index].button if b.label == label)
    return button.click().run()


def test_every_page_draws_without_exception(app: AppTest) -> None:
    for page in PAGES:
        at = app.switch_page(page).run()

        assert not at.exception, page
        assert len(at.title) == 1, page
        assert card_errors(at) == [], page


def test_reviews_page_lists_open_reviews_newest_first_with_time_left(
    app: AppTest, world: World
) -> None:
    subheaders = [s.value for s in app.subheader]
    assert subheaders == ["pending.jpg", "half.jpg", "late.jpg"]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Uploads waiting"] == "3"
    assert metrics["Step Functions reviews open"] == "3"
    assert metrics["Durable functions reviews open"] == "1"
    badges = [m.value for m in app.markdown if "badge" in m.value]
    assert any("Step Functions: open, 1h 00m left" in b for b in badges)
    assert any("Durable functions: approved" in b for b in badges)
    assert any("Step Functions: timed out" in b for b in badges)
    assert len(app.image) == 1  # only the pending upload's photo is in the bucket


def test_approve_with_corrected_year_sends_task_success_and_callback_success(repo, s3) -> None:
    # GIVEN the real inbox over clients that expect exactly one call each
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    lambda_client = boto3.client("lambda", region_name="us-east-1")
    world = build_world(repo, s3, inbox=OrchestratorReviewInbox(sfn, lambda_client))
    upload_id = world.uploads["pending"]
    review = repo.get_review(SF, upload_id)
    corrected = [a.model_copy(update={"year": 1960}) if a.slot == 1 else a for a in review.albums]
    payload = ReviewResult(
        outcome=ReviewState.APPROVED, albums=corrected, reviewer="Ada", decided_at=NOW
    ).model_dump_json()
    with Stubber(sfn) as sfn_stub, Stubber(lambda_client) as lambda_stub:
        sfn_stub.add_response(
            "send_task_success", {}, {"taskToken": token(SF, "pending"), "output": payload}
        )
        lambda_stub.add_response(
            "send_durable_execution_callback_success",
            {},
            {"CallbackId": token(LDF, "pending"), "Result": payload.encode()},
        )
        with cached.backend_factory(world.backend):
            at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
            # WHEN the reviewer corrects slot 1's year and approves for both
            at.text_input(key=field_key(upload_id, 1, "year")).set_value("1960")
            at.text_input(key=field_key(upload_id, FORM_SLOT, "reviewer")).set_value("Ada")
            at = press(at, upload_id, "Approve")

        # THEN each orchestrator got its own API call with the same corrected result
        sfn_stub.assert_no_pending_responses()
        lambda_stub.assert_no_pending_responses()
    assert not at.exception
    for pattern in Pattern:
        assert repo.get_review(pattern, upload_id).state is ReviewState.APPROVED
    assert [s.value for s in at.success] == [
        f"Durable functions, upload {upload_id}: approved",
        f"Step Functions, upload {upload_id}: approved",
    ]
    assert "pending.jpg" not in [s.value for s in at.subheader]


def test_approve_for_one_pattern_leaves_the_other_waiting(app: AppTest, world: World) -> None:
    upload_id = world.uploads["pending"]
    targets = [r for r in app.radio if r.key and r.key.startswith(f"review:{upload_id}:target")]
    targets[0].set_value(Pattern.DURABLE.value)

    press(app, upload_id, "Approve")

    assert [(p, t) for p, t, _ in world.sent] == [(LDF, token(LDF, "pending"))]
    assert world.review_state(SF, "pending") is ReviewState.OPEN


def test_invalid_year_shows_an_error_by_the_field_and_sends_nothing(
    app: AppTest, world: World
) -> None:
    upload_id = world.uploads["pending"]
    app.text_input(key=field_key(upload_id, 3, "year")).set_value("1800")
    app.text_input(key=field_key(upload_id, 4, "year")).set_value("19x1")

    at = press(app, upload_id, "Approve")

    errors = card_errors(at)
    assert any(e.startswith("year must be between 1900 and") for e in errors)
    assert "year must be a whole number, e.g. 1971" in errors
    assert world.sent == []
    for pattern in Pattern:
        assert world.review_state(pattern, "pending") is ReviewState.OPEN
    assert at.text_input(key=field_key(upload_id, 3, "year")).value == "1800"
    assert any("nothing sent" in w.value for w in at.warning)


def test_review_resolved_elsewhere_is_refused_and_shown_resolved(
    app: AppTest, world: World
) -> None:
    # GIVEN the page drew the review open, then someone approved it with the CLI
    upload_id = world.uploads["half"]
    world.repo.resolve_review(SF, upload_id, ReviewState.APPROVED, NOW)

    # WHEN this reviewer approves from the stale page
    at = press(app, upload_id, "Approve")

    # THEN nothing is sent, the reviewer is told, and the card is gone from the open list
    assert world.sent == []
    assert any("resolved elsewhere" in w.value for w in at.warning)
    assert "half.jpg" not in [s.value for s in at.subheader]


def test_timed_out_review_cannot_be_approved(app: AppTest, world: World) -> None:
    form = next(f for f in app.get("form") if f.proto.form.form_id.endswith(world.uploads["late"]))

    assert all(button.disabled for button in form.button)
    assert any("Nothing left to decide here" in i.value for i in app.info)


def test_rejection_sends_the_comment_and_no_corrections(app: AppTest, world: World) -> None:
    upload_id = world.uploads["pending"]
    app.text_input(key=field_key(upload_id, 2, "year")).set_value("1970")
    app.text_input(key=field_key(upload_id, FORM_SLOT, "comment")).set_value("wrong shelf")

    press(app, upload_id, "Reject")

    sent = {pattern: json.loads(result) for pattern, _, result in world.sent}
    assert set(sent) == {SF, LDF}
    assert sent[SF]["outcome"] == "REJECTED"
    assert sent[SF]["comment"] == "wrong shelf"
    assert sent[SF]["albums"][1]["year"] == 1969


def test_comparison_page_reads_histories_only_for_executions_without_stored_timings(
    app: AppTest, world: World
) -> None:
    at = app.switch_page("views/comparison.py").run()

    assert not at.exception
    metrics = [(m.label, m.value) for m in at.metric]
    assert ("Executions", "2") in metrics
    assert ("Success rate", "67%") in metrics
    # Both executions that stored no timings were read back from their histories; of those
    # that did, only the upload drawn on the shared time axis (if it is one of them).
    read = {arn for _, arn in world.histories.reads}
    assert set(HISTORY_ARNS.values()) <= read
    assert read - set(HISTORY_ARNS.values()) in (set(), {"sf-exec-stored", "ldf-exec-stored"})


def test_comparison_draws_stored_costs_and_never_estimates_missing_ones(
    app: AppTest, world: World, dynamodb
) -> None:
    at = app.switch_page("views/comparison.py").run()
    assert not any("not measured yet" in i.value for i in at.info)
    assert any("Means over 1 finished workflows" in c.value for c in at.caption)

    # WHEN the one workflow with a stored cost loses it
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"sf#UPLOAD#{world.uploads['stored']}"}, "sk": {"S": "METRICS"}},
        UpdateExpression="REMOVE #total",
        ExpressionAttributeNames={"#total": "cost_total_usd"},
    )
    cached.clear_reads()
    at = at.run()

    assert any("No finished workflow has stored its cost yet" in i.value for i in at.info)


def test_upload_page_puts_the_photo_and_names_the_upload(app: AppTest, world: World) -> None:
    at = app.switch_page("views/upload.py").run()
    at.file_uploader[0].set_value(("my shelf.jpg", SAMPLE_PHOTO.read_bytes(), "image/jpeg"))
    at = at.run()

    at = next(b for b in at.button if b.label.startswith("Upload")).click().run()

    assert not at.exception
    assert world.s3.head_object(Bucket=BUCKET, Key="uploads/my shelf.jpg")
    assert any("both workflows started" in s.value for s in at.success)


def test_upload_page_refuses_a_file_that_is_not_a_photo(app: AppTest, world: World) -> None:
    at = app.switch_page("views/upload.py").run()
    at.file_uploader[0].set_value(("notes.jpg", b"not an image at all", "image/jpeg"))
    at = next(b for b in at.run().button if b.label.startswith("Upload")).click().run()

    assert any("Nothing was uploaded" in e.value for e in at.error)
    listed = world.s3.list_objects_v2(Bucket=BUCKET, Prefix="uploads/notes")
    assert listed.get("KeyCount", 0) == 0


def test_without_a_running_system_the_page_says_how_to_start_one(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ALBUMREG_ENV_FILE", str(tmp_path / "missing.env"))
    cached.clear()
    try:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    finally:
        cached.clear()

    assert not at.exception
    assert at.title[0].value == "No running system found"
    assert "does not exist" in at.error[0].value
    assert any("albumreg local" in m.value for m in at.markdown)


def test_albums_page_opens_an_upload_from_the_link_and_marks_differences(
    app: AppTest, world: World
) -> None:
    at = app.switch_page("views/albums.py").run()
    assert at.selectbox[0].value is not None  # the newest upload is open by default

    at.query_params["upload"] = world.uploads["stored"]
    at = at.run()

    assert not at.exception
    assert any(
        "1 of 6 slots differ between the two orchestrators (highlighted)" in c.value
        for c in at.caption
    )
    assert at.selectbox[0].value == world.uploads["stored"]
