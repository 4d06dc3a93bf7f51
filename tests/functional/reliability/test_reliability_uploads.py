"""Bad uploads against both orchestrators: refused before any model call, recorded REJECTED with
the reason where the dashboard and the CLI list uploads, never retried. Keys with spaces and
non-ASCII letters are people's photo names and go through."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from handlers.config import Settings
from handlers.domain.events import MAX_IMAGE_BYTES
from handlers.domain.models import ReviewState, WorkflowStatus
from handlers.domain.names import Step
from tests.conftest import s3_event
from tests.functional.conftest import BUCKET, Workbench, swapped
from tests.functional.reliability.patterns import (
    REJECTED,
    CheckedRecognizer,
    CountingRepository,
    DurableOrchestration,
    Orchestration,
    SfOrchestration,
    jpeg,
    upload_id_of,
    wait_for_review,
)

SIZE_LIMIT = 50_000
"""A small configured limit, so an over-limit photo is quick to make."""


@dataclass(frozen=True)
class BadUpload:
    """One upload that must be refused, and the words the refusal must contain."""

    name: str
    key: str
    body: bytes | None
    error: str
    reason: str
    event_size: int | None = None


def _corrupt_jpeg() -> bytes:
    data = jpeg()
    return data[: len(data) // 2]


BAD_UPLOADS = [
    BadUpload(
        "non-image-with-jpg-name",
        "uploads/shelf.jpg",
        b"Kind of Blue, Miles Davis, 1959\n",
        "InvalidImageError",
        "not a JPEG, PNG or WebP",
    ),
    BadUpload("zero-bytes", "uploads/empty.jpg", b"", "InvalidImageError", "empty (0 bytes)"),
    BadUpload(
        "over-size-limit",
        "uploads/huge.jpg",
        jpeg(1200, 900, noise=True),
        "InvalidImageError",
        f"the limit is {SIZE_LIMIT}",
    ),
    BadUpload(
        "over-size-limit-event-understates",
        "uploads/huge-quiet.jpg",
        jpeg(1200, 900, noise=True),
        "InvalidImageError",
        f"the limit is {SIZE_LIMIT}",
        event_size=1000,
    ),
    BadUpload("corrupt-jpeg", "uploads/torn.jpg", _corrupt_jpeg(), "InvalidImageError", "corrupt"),
    BadUpload(
        "key-outside-prefix",
        "private/shelf.jpg",
        None,
        "InvalidUploadError",
        "outside the upload prefix",
    ),
    BadUpload(
        "key-with-parent-segment",
        "uploads/../private/shelf.jpg",
        None,
        "InvalidUploadError",
        "relative path segment",
    ),
]


def _event(bench: Workbench, case: BadUpload) -> dict[str, object]:
    if case.body is None:
        # The rule would not deliver it on AWS; a replayed or forged event still must not pass.
        return s3_event(BUCKET, case.key)
    event = bench.upload(case.key, case.body)
    if case.event_size is not None:
        event["detail"]["object"]["size"] = case.event_size  # type: ignore[index]
    return event


def _extract_attempts_recorded(orchestration: Orchestration, handle: str) -> int:
    """Attempts of the extract step as the orchestrator itself recorded them."""
    if isinstance(orchestration, SfOrchestration):
        return orchestration.task_attempts(handle, Step.EXTRACT)
    assert isinstance(orchestration, DurableOrchestration)
    return orchestration.step_attempts(handle, Step.EXTRACT)


@pytest.mark.parametrize("case", BAD_UPLOADS, ids=lambda case: case.name)
def test_bad_upload_rejected_before_any_model_call(
    case: BadUpload, orchestration: Orchestration, workbench: Workbench
) -> None:
    # GIVEN the real image checks in front of a counted model, and a small size limit
    recognizer = CheckedRecognizer(max_bytes=SIZE_LIMIT)
    repo = CountingRepository(workbench.repo)
    pattern = orchestration.pattern
    event = _event(workbench, case)
    upload_id = upload_id_of(event)

    with swapped(
        workbench, settings={"max_image_bytes": SIZE_LIMIT}, recognizer=recognizer, repo=repo
    ):
        # WHEN the upload event starts the workflow
        handle = orchestration.start(event)
        ending = orchestration.finish(handle)

    # THEN it ends cleanly as a refused upload, without a model call or a retry
    assert ending.status == "SUCCEEDED"
    assert orchestration.outcome(handle, ending) == REJECTED
    assert recognizer.model_calls == 0
    assert repo.extract_attempts(pattern, upload_id) == 1
    assert _extract_attempts_recorded(orchestration, handle) == 1
    # AND the reason is stored where the dashboard and the CLI list rejected uploads
    record = workbench.repo.get_upload(pattern, upload_id)
    assert record is not None
    assert record.summary.status is WorkflowStatus.REJECTED
    assert record.summary.error == case.error
    assert case.reason in (record.summary.cause or "")
    listed = {s.upload_id: s for s in workbench.repo.list_uploads(pattern, WorkflowStatus.REJECTED)}
    assert listed[upload_id].cause == record.summary.cause
    assert (record.albums, record.review) == ([], None)
    pending = workbench.repo.list_uploads(pattern, WorkflowStatus.PENDING_REVIEW)
    assert upload_id not in {summary.upload_id for summary in pending}


@pytest.mark.parametrize(
    "key",
    ["uploads/my shelf (2024).jpg", "uploads/Plattenregal über Ñandú 日本.jpeg"],
    ids=["spaces", "unicode"],
)
def test_photo_name_with_spaces_or_unicode_reaches_review(
    key: str, orchestration: Orchestration, workbench: Workbench
) -> None:
    recognizer = CheckedRecognizer()
    event = workbench.upload(key, jpeg())
    upload_id = upload_id_of(event)

    with swapped(workbench, recognizer=recognizer):
        orchestration.start(event)
        review = wait_for_review(workbench.repo, orchestration.pattern, upload_id)

    assert review.state is ReviewState.OPEN
    assert recognizer.model_calls == 1
    record = workbench.repo.get_upload(orchestration.pattern, upload_id)
    assert record is not None
    assert record.summary.key == key
    assert record.summary.status is WorkflowStatus.PENDING_REVIEW


def test_size_limit_defaults_to_20_mb_and_is_configurable() -> None:
    assert Settings(table_name="t").max_image_bytes == MAX_IMAGE_BYTES == 20 * 1024 * 1024
    configured = Settings.from_env({"TABLE_NAME": "t", "MAX_IMAGE_BYTES": str(SIZE_LIMIT)})
    assert configured.max_image_bytes == SIZE_LIMIT
