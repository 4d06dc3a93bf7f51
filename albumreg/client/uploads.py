"""Putting a photo into the uploads bucket: the trigger of both workflows, locally or on AWS."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from handlers.adapters.recognition.image import decode_image, sniff_format
from handlers.domain.events import UPLOAD_PREFIX, check_upload_key, upload_id_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_UNSAFE = re.compile(r"[^\w .()-]+")


@dataclass(frozen=True)
class Uploaded:
    """Where the photo went and the id both workflows will know it by."""

    bucket: str
    key: str
    upload_id: str


def key_for(path: Path, prefix: str = UPLOAD_PREFIX) -> str:
    """``uploads/<file name>``, with characters S3 keys handle badly replaced."""
    name = _UNSAFE.sub("-", path.name).strip(" .-") or "upload.jpg"
    return f"{prefix}{name}"


def upload_image(s3: S3Client, bucket: str, path: Path, key: str | None = None) -> Uploaded:
    """Check the photo is an image we can read, then put it; nothing is sent otherwise.

    Raises:
        FileNotFoundError: no such file.
        InvalidImageError: not an image, empty, corrupt, or too large (the workflows would
            reject it too; saying so here saves a round trip).
        InvalidUploadError: the key is not acceptable.
    """
    return upload_bytes(s3, bucket, path.read_bytes(), key or key_for(path))


def upload_bytes(s3: S3Client, bucket: str, data: bytes, key: str) -> Uploaded:
    """Put photo bytes (from a file or a browser upload) under ``key``, after the same checks.

    Raises:
        InvalidImageError: not an image, empty, corrupt, or too large.
        InvalidUploadError: the key is not acceptable.
    """
    decode_image(data)
    check_upload_key(key)
    response = s3.put_object(
        Bucket=bucket, Key=key, Body=data, ContentType=CONTENT_TYPES[sniff_format(data)]
    )
    version = response.get("VersionId")
    identity = version if version and version != "null" else response["ETag"].strip('"')
    return Uploaded(bucket, key, upload_id_for(bucket, key, identity))
