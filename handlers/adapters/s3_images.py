"""Reads uploaded images from S3, refusing oversized objects before downloading them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from handlers.domain.errors import InvalidImageError, TransientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_TRANSIENT_CODES = frozenset({"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout"})


class S3ImageStore:
    """``ImageStore`` over one S3 client (injected)."""

    def __init__(self, client: S3Client) -> None:
        self._client = client

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        """Download the object; its size is checked from the response before the body is read.

        Raises:
            InvalidImageError: the object is missing or larger than ``max_bytes``.
            TransientError: S3 asked us to slow down or failed on its side.
        """
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _TRANSIENT_CODES:
                raise TransientError(f"S3 {code} reading s3://{bucket}/{key}") from exc
            if code in {"NoSuchKey", "404", "NoSuchBucket"}:
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
