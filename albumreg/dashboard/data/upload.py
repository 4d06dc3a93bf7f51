"""The Upload page's data: a preview of an offered photo, where it goes, and the upload itself.

The photo gets the workflows' own image checks before anything decodes or stores it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from albumreg.client.target import Target
from albumreg.client.uploads import Uploaded, key_for, upload_bytes
from albumreg.dashboard.data.backend import Backend
from albumreg.dashboard.settings import DASHBOARD_THUMBNAIL_PX
from handlers.adapters.recognition.image import decode_image
from handlers.domain.errors import AlbumRegError


def preview(photo: bytes) -> bytes | None:
    """A small JPEG of untrusted photo bytes, or None when they are not an image we read.

    The same checks as the workflows' (size, pixels, format, corruption), so a file the
    browser offers is never handed to an image decoder unchecked.
    """
    try:
        image = decode_image(photo, long_edge=DASHBOARD_THUMBNAIL_PX)
    except AlbumRegError:
        return None
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def upload_photo(backend: Backend, photo: bytes, file_name: str) -> Uploaded:
    """Put a photo from the browser into the bucket, checked as ``albumreg upload`` checks it.

    Raises:
        InvalidImageError: not an image we can read.
        InvalidUploadError: the file name makes no acceptable key.
    """
    key = key_for(Path(file_name), backend.deps.settings.upload_prefix)
    return upload_bytes(backend.deps.client("s3"), backend.target.bucket, photo, key)


@dataclass(frozen=True)
class Place:
    """One place where part of the system lives, for the reader to find it."""

    what: str
    name: str
    link: str | None = None


def places(target: Target, upload_prefix: str) -> list[Place]:
    """Where uploads land and where both workflows run, with AWS console links on AWS."""
    region = target.region
    console = f"https://{region}.console.aws.amazon.com"
    local = target.is_local
    function = target.durable_function
    return [
        Place(
            "Uploads bucket",
            f"s3://{target.bucket}/{upload_prefix}",
            None
            if local
            else f"https://s3.console.aws.amazon.com/s3/buckets/{target.bucket}"
            f"?region={region}&prefix={upload_prefix}",
        ),
        Place(
            "Step Functions state machine",
            target.state_machine_arn,
            None
            if local
            else f"{console}/states/home?region={region}#/statemachines/view/"
            f"{target.state_machine_arn}",
        ),
        Place(
            "Durable function",
            function,
            None if local else f"{console}/lambda/home?region={region}#/functions/{function}",
        ),
        Place("DynamoDB table", target.table_name),
        *(
            Place(f"Local endpoint ({name.removeprefix('AWS_ENDPOINT_URL_')})", url)
            for name, url in sorted(target.endpoints.items())
            if name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_LAMBDA")
        ),
    ]
