"""Reads uploaded images from S3, refusing oversized objects before downloading them.

A missing object is refused at once (``InvalidImageError``); a fault botocore counts as transient
(throttling, a 5xx, a dropped connection), still failing after the client's own retry, is raised
as ``TransientError`` for the orchestrator to retry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from handlers.adapters.aws_errors import describe, is_transient
from handlers.domain.errors import InvalidImageError, TransientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3ImageStore:
    """``ImageStore`` over one S3 client (injected)."""

    def __init__(self, client: S3Client) -> None:
        self._client = client

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """Download the object; its size is checked from the response before the body is read.

        Raises:
            InvalidImageError: the object is missing or larger than ``max_bytes``.
            TransientError: S3 throttled, failed on its side or could not be reached.
        """
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            if is_transient(exc):
                raise TransientError(f"S3 {describe(exc)} reading s3://{bucket}/{key}") from exc
            if describe(exc) in {"NoSuchKey", "404", "NoSuchBucket"}:
                raise InvalidImageError(f"s3://{bucket}/{key} does not exist") from exc
            raise
        body = response["Body"]
        try:
            if response.get("ContentLength", 0) > max_bytes:
                raise InvalidImageError(
                    f"image is {response['ContentLength']} bytes; the limit is {max_bytes}"
                )
            data = body.read(max_bytes + 1)
        finally:
            body.close()
        if len(data) > max_bytes:
            raise InvalidImageError(f"image is larger than the limit of {max_bytes} bytes")
        return data
