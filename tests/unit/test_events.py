"""The S3 event both orchestrators start from: parsing, identity and key checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handlers.domain.errors import InvalidUploadError
from handlers.domain.events import (
    UPLOAD_PREFIX,
    check_upload_key,
    parse_upload_event,
    upload_event_pattern,
    upload_id_for,
)

EVENTS = Path(__file__).parents[1] / "events"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def test_parse_aws_event() -> None:
    upload = parse_upload_event(load("s3_object_created_aws.json"))
    assert upload.bucket == "albumreg-uploads"
    assert upload.key == "uploads/shelf.jpg"
    assert upload.size == 482133
    assert upload.version_id == "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
    assert upload.received_at.isoformat() == "2026-11-12T10:00:00+00:00"


def test_parse_moto_event_with_camel_case_etag() -> None:
    upload = parse_upload_event(load("s3_object_created_moto.json"))
    assert upload.etag == "d41d8cd98f00b204e9800998ecf8427e"


def test_upload_id_is_deterministic_and_distinguishes_versions() -> None:
    first = upload_id_for("b", "uploads/a.jpg", "v1")
    assert first == upload_id_for("b", "uploads/a.jpg", "v1")
    assert first != upload_id_for("b", "uploads/a.jpg", "v2")
    assert first != upload_id_for("b", "uploads/b.jpg", "v1")
    assert len(first) == 24


def test_same_event_twice_gives_same_upload_id() -> None:
    event = load("s3_object_created_aws.json")
    assert parse_upload_event(event).upload_id == parse_upload_event(event).upload_id


@pytest.mark.parametrize(
    "event",
    [{}, {"detail": "x"}, {"detail": {"bucket": {"name": "b"}}}, {"detail": {"object": {}}}],
)
def test_parse_event_without_object_refused(event: dict[str, Any]) -> None:
    with pytest.raises(InvalidUploadError):
        parse_upload_event(event)


def test_parse_event_with_bad_time_refused() -> None:
    event = load("s3_object_created_aws.json") | {"time": "yesterday"}
    with pytest.raises(InvalidUploadError, match="malformed"):
        parse_upload_event(event)


@pytest.mark.parametrize(
    "key", ["uploads/shelf.jpg", "uploads/My Albums 2026.JPEG", "uploads/plattenregal-ä-ß.png"]
)
def test_check_upload_key_accepts_ordinary_names(key: str) -> None:
    check_upload_key(key)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("other/shelf.jpg", "outside the upload prefix"),
        ("uploads/../secrets/x.jpg", "relative path"),
        ("uploads/./x.jpg", "relative path"),
        ("uploads//x.jpg", "relative path"),
        ("uploads/x\n.jpg", "control characters"),
        ("uploads/notes.txt", "image suffix"),
    ],
)
def test_check_upload_key_refuses_unsafe_keys(key: str, reason: str) -> None:
    with pytest.raises(InvalidUploadError, match=reason):
        check_upload_key(key)


def test_event_pattern_filters_bucket_and_prefix() -> None:
    pattern = upload_event_pattern("b")
    assert pattern["detail"]["object"]["key"] == [{"prefix": UPLOAD_PREFIX}]
    assert pattern["detail-type"] == ["Object Created"]


def test_unversioned_null_version_falls_back_to_etag() -> None:
    event = load("s3_object_created_moto.json")
    event["detail"]["object"]["version-id"] = "null"
    other = json.loads(json.dumps(event))
    other["detail"]["object"]["eTag"] = "0" * 32
    first, second = parse_upload_event(event), parse_upload_event(other)
    assert first.version_id is None
    assert first.upload_id != second.upload_id
