"""The S3 "Object Created" event both orchestrators start from, and the upload identity.

Parsing is tolerant of the differences between AWS and the local emulator (``etag`` versus
``eTag``), because the same handler code runs on both. Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import posixpath
import unicodedata
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from handlers.domain.errors import InvalidUploadError
from handlers.domain.models import Upload

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""Uploads larger than this are rejected before any model call."""

UPLOAD_PREFIX = "uploads/"
"""Only objects under this prefix start a workflow (the EventBridge rule filters on it)."""

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def upload_event_pattern(bucket: str, prefix: str = UPLOAD_PREFIX) -> dict[str, Any]:
    """The EventBridge pattern that starts both workflows: used by the stack and the local cloud."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": prefix}]}},
    }


def upload_id_for(bucket: str, key: str, version: str | None) -> str:
    """Deterministic id of one S3 object version, so a duplicate event maps to the same upload."""
    identity = "\n".join((bucket, key, version or ""))
    return hashlib.sha256(identity.encode()).hexdigest()[:24]


def parse_upload_event(event: dict[str, Any]) -> Upload:
    """Turn an EventBridge S3 event into an ``Upload``.

    Raises:
        InvalidUploadError: the event names no bucket or key, or its fields are malformed.
    """
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidUploadError("event has no 'detail': not an S3 Object Created event")
    bucket = (detail.get("bucket") or {}).get("name")
    obj = detail.get("object") or {}
    key = obj.get("key")
    if not isinstance(bucket, str) or not isinstance(key, str) or not key:
        raise InvalidUploadError("event does not name a bucket and an object key")
    etag = obj.get("etag") or obj.get("eTag")
    version_id = obj.get("version-id") or obj.get("versionId")
    if version_id == "null":
        # An unversioned bucket's "version" (the emulator sends it): not an identity.
        version_id = None
    try:
        return Upload(
            upload_id=upload_id_for(bucket, key, version_id or etag),
            bucket=bucket,
            key=key,
            size=int(obj.get("size") or 0),
            content_type=None,
            etag=str(etag) if etag else None,
            version_id=str(version_id) if version_id else None,
            received_at=datetime.fromisoformat(str(event.get("time")).replace("Z", "+00:00")),
        )
    except (ValidationError, ValueError, TypeError) as exc:
        raise InvalidUploadError(f"malformed S3 event: {exc}") from exc


def check_upload_key(key: str, prefix: str = UPLOAD_PREFIX) -> None:
    """Refuse keys outside the prefix, with path traversal, control characters or no image suffix.

    Spaces and non-ASCII letters are fine: people name their photos that way.

    Raises:
        InvalidUploadError: with a reason a person can act on.
    """
    if not key.startswith(prefix):
        raise InvalidUploadError(f"key {key!r} is outside the upload prefix {prefix!r}")
    if any(unicodedata.category(ch).startswith("C") for ch in key):
        raise InvalidUploadError("key contains control characters")
    parts = key.split("/")
    if ".." in parts or "." in parts or posixpath.normpath(key) != key.rstrip("/"):
        raise InvalidUploadError(f"key {key!r} contains a relative path segment")
    if not key.lower().endswith(IMAGE_SUFFIXES):
        raise InvalidUploadError(
            f"key {key!r} does not end in an image suffix ({', '.join(IMAGE_SUFFIXES)})"
        )
