"""Where the six covers are in a photo: contour detection, falling back to a fixed 3x2 split.

Local only: imports OpenCV and NumPy, which arrive with RapidOCR and are not in the Lambda
artifact (only ``ocr`` imports this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from handlers.domain.policy import ALBUMS_PER_IMAGE

COLUMNS, ROWS = 3, 2

DETECTION_LONG_EDGE_PX = 800
"""Covers are found on a small copy: outlines need no detail, and it keeps detection ~20 ms."""

BACKGROUND_DISTANCE = 40.0
"""Lab colour distance from the background (estimated on the photo's border) that counts as
"cover"; wood grain and shadows stay below it, printed sleeves almost always above."""

MIN_COVER_SHARE, MAX_COVER_SHARE = 0.03, 0.20
"""Area of one cover relative to the photo: six covers cannot be smaller or larger than this."""

MAX_ASPECT = 1.43
"""Sleeves are square; a perspective tilt stretches them a little."""

MIN_SOLIDITY = 0.8
"""Share of its bounding rectangle an outline must fill: two touching covers merge into an
L or a long blob, which fails this (and then the fixed split is used)."""

EDGE_TOLERANCE = 0.01
"""Text centred just outside a detected outline (a fraction of the diagonal) still counts."""

Polygon = npt.NDArray[np.float32]


@dataclass(frozen=True)
class CoverLayout:
    """Six regions in slot order (row by row), and how they were found.

    Attributes:
        regions: one polygon (N x 2 points, pixel coordinates) per slot 1..6.
        method: ``contours`` when each cover was outlined, ``grid`` for the fixed split.
    """

    regions: tuple[Polygon, ...]
    method: Literal["contours", "grid"]

    def slot_of(self, x: float, y: float) -> int | None:
        """The slot (1..6) whose region holds the point, or None (shelf, between covers)."""
        best_slot, best_distance = None, -np.inf
        for slot, region in enumerate(self.regions, start=1):
            distance = cv2.pointPolygonTest(region, (float(x), float(y)), True)
            if distance >= 0:
                return slot
            if distance > best_distance:
                best_slot, best_distance = slot, distance
        diagonal = float(np.hypot(*np.ptp(np.concatenate(self.regions), axis=0)))
        return best_slot if -best_distance <= EDGE_TOLERANCE * diagonal else None


def grid_layout(width: int, height: int) -> CoverLayout:
    """The fixed 3x2 split: every point of the photo belongs to exactly one slot."""
    cell_w, cell_h = width / COLUMNS, height / ROWS
    regions = tuple(
        np.array(
            [
                [column * cell_w, row * cell_h],
                [(column + 1) * cell_w, row * cell_h],
                [(column + 1) * cell_w, (row + 1) * cell_h],
                [column * cell_w, (row + 1) * cell_h],
            ],
            dtype=np.float32,
        )
        for row in range(ROWS)
        for column in range(COLUMNS)
    )
    return CoverLayout(regions=regions, method="grid")


def locate_covers(rgb: npt.NDArray[np.uint8]) -> CoverLayout:
    """Outline the six covers, or return the fixed split when that is not clearly possible.

    Covers differ from the shelf or table they lie on; the background colour is taken from
    the photo's border. Exactly six square-ish outlines in two clear rows are required; any
    doubt (touching covers, a tight crop, a busy background) means the fixed split, which
    keeps at least 98.7% of each cover of an ordinary grid photo in its own tile.
    """
    height, width = rgb.shape[:2]
    outlines = _outlines(rgb)
    ordered = _row_by_row(outlines) if len(outlines) == ALBUMS_PER_IMAGE else None
    if ordered is None:
        return grid_layout(width, height)
    return CoverLayout(regions=tuple(ordered), method="contours")


def _outlines(rgb: npt.NDArray[np.uint8]) -> list[Polygon]:
    height, width = rgb.shape[:2]
    scale = min(1.0, DETECTION_LONG_EDGE_PX / max(height, width))
    small = cv2.resize(
        rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
    )
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    band = 6
    border = np.concatenate(
        [
            lab[:band].reshape(-1, 3),
            lab[-band:].reshape(-1, 3),
            lab[:, :band].reshape(-1, 3),
            lab[:, -band:].reshape(-1, 3),
        ]
    )
    distance = np.linalg.norm(lab - np.median(border, axis=0), axis=2)
    mask = (distance > BACKGROUND_DISTANCE).astype(np.uint8) * 255
    kernel = np.ones((5, 5), np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=2)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area = float(mask.shape[0] * mask.shape[1])
    found: list[Polygon] = []
    for contour in contours:
        rect = cv2.minAreaRect(contour)
        rect_w, rect_h = rect[1]
        rect_area = rect_w * rect_h
        if not MIN_COVER_SHARE * area <= rect_area <= MAX_COVER_SHARE * area:
            continue
        if max(rect_w, rect_h) > MAX_ASPECT * min(rect_w, rect_h):
            continue
        if cv2.contourArea(contour) < MIN_SOLIDITY * rect_area:
            continue
        found.append((cv2.boxPoints(rect) / scale).astype(np.float32))
    return found


def _row_by_row(outlines: list[Polygon]) -> list[Polygon] | None:
    """Slot order: the three highest covers left to right, then the other three.

    None when the two rows are not clearly apart: a row-by-row number would then be a guess.
    """
    centres = [outline.mean(axis=0) for outline in outlines]
    by_height = sorted(range(len(outlines)), key=lambda index: centres[index][1])
    top, bottom = by_height[:COLUMNS], by_height[COLUMNS:]
    cover_height = float(np.median([np.ptp(outline[:, 1]) for outline in outlines]))
    if centres[bottom[0]][1] - centres[top[-1]][1] < cover_height / 2:
        return None
    return [
        outlines[index]
        for row in (top, bottom)
        for index in sorted(row, key=lambda index: centres[index][0])
    ]


@dataclass(frozen=True)
class TextPiece:
    """One line or word the OCR found: its centre, its height and what it says."""

    y: float
    x: float
    height: float
    text: str


def reading_order(found: list[TextPiece]) -> list[str]:
    """Top to bottom, and left to right within a line.

    On a tilted cover the words of one line sit at slightly different heights, so sorting by
    height alone would read "ZEPPELIN LED"; pieces whose centres are within half a line of
    each other are one line.
    """
    lines: list[list[TextPiece]] = []
    for piece in sorted(found, key=lambda piece: piece.y):
        first = lines[-1][0] if lines else None
        if first is not None and abs(piece.y - first.y) < min(piece.height, first.height) / 2:
            lines[-1].append(piece)
        else:
            lines.append([piece])
    return [piece.text for line in lines for piece in sorted(line, key=lambda piece: piece.x)]
