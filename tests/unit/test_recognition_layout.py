"""Locating the six covers: outlines on a shelf photo, the fixed split when outlines are unclear."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from albumreg.cloud.recognition.layout import (
    TextPiece,
    grid_layout,
    locate_covers,
    reading_order,
)
from albumreg.tools.sample_photos import fonts_available, make_sample

needs_fonts = pytest.mark.skipif(
    not fonts_available(), reason="DejaVu fonts missing: install fonts-dejavu-core (make setup)"
)


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def centres(layout) -> list[tuple[float, float]]:
    return [tuple(region.mean(axis=0)) for region in layout.regions]


def assert_row_by_row(layout) -> None:
    points = centres(layout)
    top, bottom = points[:3], points[3:]
    assert max(y for _, y in top) < min(y for _, y in bottom)
    for row in (top, bottom):
        assert [x for x, _ in row] == sorted(x for x, _ in row)


@needs_fonts
@pytest.mark.parametrize("variant", ["clean", "rotated", "lowres", "scattered"])
def test_locate_covers_outlines_six_covers_row_by_row(variant):
    layout = locate_covers(pixels(make_sample(variant, 3).image))
    assert layout.method == "contours"
    assert len(layout.regions) == 6
    assert_row_by_row(layout)


@needs_fonts
def test_locate_covers_leaves_the_shelf_between_covers_out():
    rgb = pixels(make_sample("clean", 3).image)
    layout = locate_covers(rgb)
    (x1, y1), (x2, y2) = centres(layout)[0], centres(layout)[1]
    assert layout.slot_of(x1, y1) == 1
    assert layout.slot_of(x2, y2) == 2
    assert layout.slot_of((x1 + x2) / 2, y1) is None, "the gap between two covers is shelf"


@pytest.mark.parametrize(
    "rgb",
    [
        np.full((600, 900, 3), 200, np.uint8),
        np.random.default_rng(1).integers(0, 255, (600, 900, 3), dtype=np.uint8),
    ],
    ids=["blank", "noise"],
)
def test_locate_covers_falls_back_to_the_fixed_split(rgb):
    assert locate_covers(rgb).method == "grid"


def test_grid_layout_numbers_slots_row_by_row():
    layout = grid_layout(900, 600)
    assert [layout.slot_of(x, y) for y in (100, 500) for x in (100, 450, 800)] == [1, 2, 3, 4, 5, 6]
    assert_row_by_row(layout)


def test_reading_order_keeps_words_of_a_tilted_line_together():
    pieces = [
        TextPiece(y=448, x=1270, height=50, text="II"),
        TextPiece(y=396, x=1300, height=48, text="ZEPPELIN"),
        TextPiece(y=173, x=1237, height=48, text="Led Zeppelin"),
        TextPiece(y=412, x=1160, height=42, text="LED"),
    ]
    assert reading_order(pieces) == ["Led Zeppelin", "LED", "ZEPPELIN", "II"]
