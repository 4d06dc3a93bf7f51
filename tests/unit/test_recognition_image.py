"""Image checks shared by both recognizers: what is rejected, and how images are normalised."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from handlers.adapters.recognition.image import (
    MAX_IMAGE_PIXELS,
    MIN_IMAGE_EDGE_PX,
    decode_image,
    jpeg_payload,
    sniff_format,
)
from handlers.domain.errors import InvalidImageError


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def photo(width: int = 600, height: int = 400) -> Image.Image:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    return Image.merge(
        "RGB", (image.getchannel(0), image.getchannel(0).rotate(90), image.getchannel(0))
    )


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width x height``: a decompression bomb's calling card."""
    real = encode(Image.new("L", (8, 8)), "PNG")
    header = struct.pack(">II", width, height) + real[24:29]
    chunk = b"IHDR" + header
    return (
        real[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + real[33:]
    )


def test_sniff_format_names_jpeg_png_and_webp():
    assert sniff_format(encode(photo())) == "JPEG"
    assert sniff_format(encode(photo(), "PNG")) == "PNG"
    assert sniff_format(encode(photo(), "WEBP")) == "WEBP"


def test_decode_rejects_text_file():
    with pytest.raises(InvalidImageError, match="not a JPEG, PNG or WebP"):
        decode_image(b"slot,title\n1,Kind of Blue\n")


def test_decode_rejects_zero_bytes():
    with pytest.raises(InvalidImageError, match="empty"):
        decode_image(b"")


def test_decode_rejects_file_over_the_byte_limit():
    data = encode(photo())
    with pytest.raises(InvalidImageError, match="limit"):
        decode_image(data, max_bytes=len(data) - 1)


@pytest.mark.parametrize("side", [7_000, 20_000], ids=["over-our-limit", "over-pillows-limit"])
def test_decode_rejects_decompression_bomb_from_its_header(side):
    bomb = png_claiming_size(side, side)
    assert len(bomb) < 200
    with pytest.raises(InvalidImageError, match=f"the limit is {MAX_IMAGE_PIXELS} pixels"):
        decode_image(bomb)


def test_decode_rejects_truncated_jpeg():
    data = encode(photo())
    with pytest.raises(InvalidImageError, match="corrupt or truncated JPEG"):
        decode_image(data[: len(data) // 2])


def test_decode_rejects_png_with_corrupt_data():
    data = bytearray(encode(photo(), "PNG"))
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    with pytest.raises(InvalidImageError, match="corrupt or truncated PNG"):
        decode_image(bytes(data))


def test_decode_rejects_tiny_image():
    with pytest.raises(InvalidImageError, match=f"below {MIN_IMAGE_EDGE_PX} px"):
        decode_image(encode(photo(MIN_IMAGE_EDGE_PX - 1, 400)))


def test_decode_downscales_to_the_long_edge_keeping_the_aspect():
    image = decode_image(encode(photo(3000, 2000)), long_edge=1000)
    assert image.size == (1000, 667)


def test_decode_leaves_small_images_alone():
    assert decode_image(encode(photo(600, 400)), long_edge=1000).size == (600, 400)


def test_decode_applies_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: how phones store portrait photos
    image = decode_image(encode(photo(600, 400), exif=exif.tobytes()))
    assert image.size == (400, 600)


def test_decode_returns_rgb_for_transparent_png():
    image = decode_image(encode(Image.new("RGBA", (300, 300), (10, 20, 30, 0)), "PNG"))
    assert image.mode == "RGB"


def test_jpeg_payload_fits_the_byte_limit():
    noisy = Image.effect_noise((1200, 900), 80).convert("RGB")
    payload = jpeg_payload(noisy, max_bytes=60_000)
    assert len(payload) <= 60_000
    assert Image.open(io.BytesIO(payload)).format == "JPEG"


def test_jpeg_payload_gives_up_rather_than_looping():
    with pytest.raises(InvalidImageError, match="cannot be encoded"):
        jpeg_payload(photo(), max_bytes=10)
