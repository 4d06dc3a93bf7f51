"""The end-to-end scenarios, written once against a ``TargetWorld``.

``test_scenarios_local.py`` runs them against the local cloud (``make test``) and
``test_scenarios_aws.py`` against a deployed stack (``make test-aws``). Each scenario uploads
under a key of its own, so they never meet one another's records.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.domain.models import ReviewState, WorkflowStatus
from handlers.domain.tenant import Pattern
from tests.e2e.target_world import TargetWorld

SAMPLE = SAMPLE_PHOTO.read_bytes()
LONGEST_REVIEW_WAIT_SECONDS = 180
"""The timeout scenario waits out the target's review timeout; past this it is skipped."""

AWKWARD_NAME = "Björk \u2013 Début (1993) copy 2.jpg"
"""Spaces, parentheses, an en dash and non-ASCII letters: how people name photos."""


def happy_path_with_a_corrected_year(world: TargetWorld) -> None:
    """Approve with one year corrected from the CLI: both complete with it, the extraction kept
    beside it, and a second approval is refused."""
    upload_id, _ = world.put(world.key("shelf.jpg"), SAMPLE)
    world.wait_reviews(upload_id)
    listed = world.cli("review", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    waiting = {r["pattern"] for r in json.loads(listed.stdout) if r["upload_id"] == upload_id}
    assert waiting == {p.value for p in Pattern}
    extracted = world.repo.get_review(Pattern.STEP_FUNCTIONS, upload_id)
    assert extracted is not None
    corrected = extracted.albums[0].year + 1 if extracted.albums[0].year else 1960

    approved = world.cli("review", "approve", upload_id, "--year", f"1={corrected}")
    assert approved.returncode == 0, approved.stderr
    for pattern in Pattern:
        assert f"{pattern.value}: approved" in approved.stdout
    for pattern, record in world.wait_final(upload_id).items():
        assert record.summary.status is WorkflowStatus.COMPLETED, pattern
        assert record.albums[0].year == corrected, pattern
        assert record.albums[0].extracted_year == extracted.albums[0].year, pattern
        assert [a.year for a in record.albums[1:]] == [a.year for a in extracted.albums[1:]]
        assert any(a.price is not None for a in record.albums), pattern

    again = world.cli("review", "approve", upload_id)
    assert again.returncode == 2
    assert "already APPROVED" in again.stderr


def review_timeout(world: TargetWorld) -> None:
    """Nobody reviews: both go on with the extracted years once the timeout passes."""
    if world.review_timeout_seconds > LONGEST_REVIEW_WAIT_SECONDS:
        pytest.skip(
            f"the target's review timeout is {world.review_timeout_seconds} s; deploy a test "
            "stack with `pulumi config set reviewTimeoutSeconds 60` to run this scenario"
        )
    upload_id, _ = world.put(world.key("shelf.jpg"), SAMPLE)
    world.wait_reviews(upload_id)
    extracted = world.repo.get_review(Pattern.DURABLE, upload_id)
    assert extracted is not None
    records = world.wait_final(upload_id, extra=world.review_timeout_seconds)
    for pattern, record in records.items():
        assert record.summary.status is WorkflowStatus.COMPLETED, pattern
        assert record.review is not None
        assert record.review.state is ReviewState.TIMED_OUT, pattern
        assert [a.year for a in record.albums] == [a.year for a in extracted.albums], pattern


def rejection(world: TargetWorld) -> None:
    """A person rejects the photo: both end REJECTED and price nothing."""
    upload_id, _ = world.put(world.key("shelf.jpg"), SAMPLE)
    world.wait_reviews(upload_id)
    rejected = world.cli("review", "reject", upload_id, "--comment", "not my shelf")
    assert rejected.returncode == 0, rejected.stderr
    for pattern, record in world.wait_final(upload_id).items():
        assert record.summary.status is WorkflowStatus.REJECTED, pattern
        assert record.review is not None
        assert record.review.state is ReviewState.REJECTED, pattern
        assert all(a.price is None for a in record.albums), pattern


def pricing_outage(world: TargetWorld) -> None:
    """The pricing API is down: both still complete, every album unpriced with the reason."""
    if world.pricing_admin_url is None:
        pytest.skip("a deployed stack's pricing API (Discogs) cannot be switched off from here")
    with world.pricing_outage():
        upload_id, _ = world.put(world.key("shelf.jpg"), SAMPLE)
        world.wait_reviews(upload_id)
        approved = world.cli("review", "approve", upload_id)
        assert approved.returncode == 0, approved.stderr
        records = world.wait_final(upload_id)
    for pattern, record in records.items():
        assert record.summary.status is WorkflowStatus.COMPLETED, pattern
        assert all(a.price is None for a in record.albums), pattern


def bad_upload(world: TargetWorld) -> None:
    """Text saved as .jpg: both reject it with a reason a person understands."""
    upload_id, _ = world.put(world.key("notes.jpg"), b"Kind of Blue, Miles Davis, 1959\n")
    for pattern, record in world.wait_final(upload_id).items():
        assert record.summary.status is WorkflowStatus.REJECTED, pattern
        assert "not a JPEG, PNG or WebP" in (record.summary.cause or ""), pattern
        assert record.albums == [], pattern


def awkward_key(world: TargetWorld) -> None:
    """A key with spaces, parentheses and non-ASCII letters runs like any other.

    On AWS, S3 sends the Object Created event itself. The local cloud also gets one shaped
    exactly like the S3 user guide's example ("EventBridge event message structure"), whose
    key field carries the key as stored, not URL-encoded; both name the same object, so the
    workflows' duplicate check lets one of them through.
    """
    key = f"uploads/{AWKWARD_NAME}"
    upload_id, response = world.put(key, SAMPLE)
    if world.target.is_local:
        publish_aws_shaped_event(world, key, response["ETag"].strip('"'), len(SAMPLE))
    world.wait_reviews(upload_id)
    approved = world.cli("review", "approve", upload_id)
    assert approved.returncode == 0, approved.stderr
    for pattern, record in world.wait_final(upload_id).items():
        assert record.summary.status is WorkflowStatus.COMPLETED, pattern
        assert record.summary.key == key, pattern
        assert len(record.albums) == 6, pattern


def publish_aws_shaped_event(world: TargetWorld, key: str, etag: str, size: int) -> None:
    """Send the event AWS's S3 would send for this object to the target's default bus."""
    detail = {
        "version": "0",
        "bucket": {"name": world.target.bucket},
        "object": {"key": key, "size": size, "etag": etag, "sequencer": "00617F08299329D189"},
        "request-id": "N4N7GDK58NMKJ12R",
        "requester": "123456789012",
        "source-ip-address": "127.0.0.1",
        "reason": "PutObject",
    }
    answer = world.events.put_events(
        Entries=[
            {
                "Source": "aws.s3",
                "DetailType": "Object Created",
                "Detail": json.dumps(detail, ensure_ascii=False),
                "Resources": [f"arn:aws:s3:::{world.target.bucket}"],
                "Time": datetime.now(UTC),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0, answer


SCENARIOS = {
    "happy path, corrected year": happy_path_with_a_corrected_year,
    "review timeout": review_timeout,
    "rejection": rejection,
    "pricing outage": pricing_outage,
    "bad upload": bad_upload,
    "awkward key": awkward_key,
}
"""Every scenario, by the name test ids show."""
