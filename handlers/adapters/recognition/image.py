"""Image checks and normalisation for every recognizer: untrusted bytes in, a safe RGB image out.

Everything that can reject an upload happens here, before any model or OCR call. Imports Pillow
only (it ships in the Lambda artifact); no AWS SDK, no OCR engine.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageOps, UnidentifiedImageError

from handlers.domain.errors import InvalidImageError
from handlers.domain.events import MAX_IMAGE_BYTES

MAX_IMAGE_PIXELS = 40_000_000
"""Decompression-bomb guard: a larger image is rejected before it is decoded."""

MIN_IMAGE_EDGE_PX = 120
"""Images with a shorter edge than this cannot show six readable covers: rejected."""

VISION_MAX_PAYLOAD_BYTES = 3_750_000
"""Largest image payload sent to Bedrock Converse (its per-image limit)."""

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)
"""Formats a phone or a scanner produces and every vision model accepts (WebP is checked apart)."""

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")

_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
    UnidentifiedImageError,
)
"""What Pillow raises on corrupt or truncated data, depending on the decoder."""

_JPEG_QUALITIES = (90, 80, 70, 55, 40)
_SHRINK_PER_STEP = 0.8
_MAX_SHRINK_STEPS = 8
"""How ``jpeg_payload`` trades quality, then size, to fit the payload limit (bounded)."""


def sniff_format(data: bytes) -> str:
    """The image format named by the file's magic bytes.

    Raises:
        InvalidImageError: the bytes are not a JPEG, PNG or WebP image.
    """
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise InvalidImageError("not a JPEG, PNG or WebP image (unrecognised file signature)")


def decode_image(
    data: bytes,
    *,
    long_edge: int | None = None,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
    min_edge: int = MIN_IMAGE_EDGE_PX,
) -> Image.Image:
    """Check untrusted bytes and decode them into an upright RGB image.

    The pixel count is checked from the header before anything is decoded, so a small file
    that would expand into gigabytes (a decompression bomb) never reaches the decoder. The
    image is then verified and fully decoded, which is what exposes truncated or corrupt data.

    Args:
        data: the uploaded file.
        long_edge: when given, the result is downscaled so its long edge is at most this;
            JPEGs are decoded at a reduced scale directly (faster, less memory).
        max_bytes: largest accepted file.
        max_pixels: largest accepted width x height.
        min_edge: smallest accepted short edge.

    Returns:
        An RGB image with EXIF orientation applied (phones store portrait photos sideways).

    Raises:
        InvalidImageError: empty, too large, not an image, a decompression bomb, too small,
            corrupt or truncated.
    """
    if not data:
        raise InvalidImageError("the file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise InvalidImageError(f"image is {len(data)} bytes; the limit is {max_bytes}")
    kind = sniff_format(data)
    width, height = _header_size(data, max_pixels)
    if width * height > max_pixels:
        raise InvalidImageError(
            f"image is {width}x{height} pixels; the limit is {max_pixels} pixels"
        )
    if min(width, height) < min_edge:
        raise InvalidImageError(
            f"image is {width}x{height} pixels; covers cannot be read below {min_edge} px"
        )
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data), formats=[kind])
        if long_edge is not None and kind == "JPEG":
            image.draft("RGB", _scaled((width, height), long_edge))
        image.load()
    except _DECODE_ERRORS as exc:
        raise InvalidImageError(f"corrupt or truncated {kind} image: {exc}") from exc
    upright = ImageOps.exif_transpose(image).convert("RGB")
    if long_edge is not None and max(upright.size) > long_edge:
        upright.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
    return upright


def jpeg_payload(image: Image.Image, *, max_bytes: int = VISION_MAX_PAYLOAD_BYTES) -> bytes:
    """Encode an RGB image as a JPEG no larger than ``max_bytes``.

    Quality drops first (text stays readable down to about 40), then the image shrinks; both
    ladders are bounded, so a pathological image ends in an error rather than a loop.

    Raises:
        InvalidImageError: the image cannot be made to fit.
    """
    current = image
    for _ in range(_MAX_SHRINK_STEPS):
        for quality in _JPEG_QUALITIES:
            buffer = io.BytesIO()
            current.save(buffer, format="JPEG", quality=quality, optimize=True)
            if buffer.tell() <= max_bytes:
                return buffer.getvalue()
        smaller = (
            max(1, int(current.width * _SHRINK_PER_STEP)),
            max(1, int(current.height * _SHRINK_PER_STEP)),
        )
        current = current.resize(smaller, Image.Resampling.LANCZOS)
    raise InvalidImageError(f"image cannot be encoded within {max_bytes} bytes")


def _header_size(data: bytes, max_pixels: int) -> tuple[int, int]:
    """Width and height as the header states them, without decoding pixels."""
    try:
        with Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS)) as image:
            width, height = image.size
    except Image.DecompressionBombError as exc:
        # Pillow's own guard fires first for absurd sizes (over twice its global limit).
        raise InvalidImageError(
            f"image has more pixels than Pillow allows; the limit is {max_pixels} pixels"
        ) from exc
    except _DECODE_ERRORS as exc:
        raise InvalidImageError(f"unreadable image header: {exc}") from exc
    return width, height


def _scaled(size: tuple[int, int], long_edge: int) -> tuple[int, int]:
    width, height = size
    factor = min(1.0, long_edge / max(width, height))
    return max(1, round(width * factor)), max(1, round(height * factor))
