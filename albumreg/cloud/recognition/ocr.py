"""The offline recognizer: RapidOCR reads the covers, a strict matcher finds them in the catalog.

Local only: imports RapidOCR (bundled ONNX models, nothing downloaded), onnxruntime, OpenCV and
rapidfuzz, none of which is in the Lambda artifact; ``build_recognizer`` imports this module
lazily for that reason.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
from rapidocr import RapidOCR
from rapidocr.utils.output import RapidOCROutput

from albumreg.cloud.catalog import CatalogAlbum
from albumreg.cloud.recognition.layout import (
    CoverLayout,
    TextPiece,
    locate_covers,
    reading_order,
)
from albumreg.cloud.recognition.matcher import CatalogMatcher, Verdict
from handlers.adapters.recognition.image import decode_image
from handlers.domain.events import MAX_IMAGE_BYTES
from handlers.domain.models import Album, Extraction, unrecognized_album
from handlers.domain.policy import ALBUMS_PER_IMAGE

OCR_LONG_EDGE_PX = 1600
"""The local OCR reads a copy downscaled to this long edge: enough for cover text, and fast."""

OCR_DETECTION_LONG_EDGE_PX = 960
"""Text is located on a copy this size (40% faster than full size, same accuracy measured on
synthetic shelves); each line found is then read from the full-size photo."""

ENGINE_NAME = "ocr:rapidocr"

OCR_PARAMS: dict[str, Any] = {
    "Global.log_level": "error",
    # Covers in a photo are upright or tilted a few degrees; the 180-degree text classifier
    # costs time and never changes the answer here.
    "Global.use_cls": False,
    "Det.limit_type": "max",
    "Det.limit_side_len": OCR_DETECTION_LONG_EDGE_PX,
}

_engine: RapidOCR | None = None
_engine_lock = threading.Lock()
_inference_lock = threading.Lock()


def shared_engine() -> RapidOCR:
    """The process's one OCR engine, created on first use.

    Loading the ONNX models takes about two seconds and 0.4 GB of memory, so one engine serves
    every recognizer in the process (the local cloud runs both workflows side by side).
    """
    global _engine  # noqa: PLW0603 - a per-process singleton is the point
    with _engine_lock:
        if _engine is None:
            _engine = RapidOCR(params=OCR_PARAMS)
        return _engine


class OcrRecognizer:
    """``Recognizer`` that reads cover text offline and matches it against the catalog.

    Args:
        catalog: the albums it can recognise; anything else is flagged, never guessed.
        max_bytes: largest accepted upload.
    """

    def __init__(
        self, catalog: Sequence[CatalogAlbum], *, max_bytes: int = MAX_IMAGE_BYTES
    ) -> None:
        self._matcher = CatalogMatcher(catalog)
        self._max_bytes = max_bytes

    def recognize(self, image: bytes) -> Extraction:
        """Six albums from one photo; covers without a confident catalog match are flagged.

        Raises:
            InvalidImageError: the upload is not a usable image (checked before any OCR).
        """
        rgb = np.asarray(decode_image(image, long_edge=OCR_LONG_EDGE_PX, max_bytes=self._max_bytes))
        layout = locate_covers(rgb)
        lines = _lines_by_slot(rgb, layout)
        albums = [_album(slot, self._matcher.match(lines[slot])) for slot in _slots()]
        note = (
            "covers located by their outlines"
            if layout.method == "contours"
            else "covers located by a fixed 3x2 split"
        )
        return Extraction(albums=albums, engine=ENGINE_NAME, notes=[note])


def _slots() -> range:
    return range(1, ALBUMS_PER_IMAGE + 1)


def _lines_by_slot(rgb: np.ndarray[Any, Any], layout: CoverLayout) -> dict[int, list[str]]:
    """OCR the whole photo once, then give each line to the cover its centre lies on.

    One pass over the photo is about twice as fast as six passes over tiles, and the layout
    still keeps text of neighbouring covers apart.
    """
    engine = shared_engine()
    with _inference_lock:
        # onnxruntime already uses every core; two photos at once would only thrash.
        result = engine(rgb)
    if not isinstance(result, RapidOCROutput):
        raise TypeError(f"RapidOCR returned {type(result).__name__}; detection is switched off")
    placed: dict[int, list[TextPiece]] = {slot: [] for slot in _slots()}
    if result.boxes is None or result.txts is None:
        return {slot: [] for slot in _slots()}
    # RapidOCR already dropped lines below its own confidence threshold (``Global.text_score``).
    for box, text in zip(result.boxes, result.txts, strict=True):
        corners = np.asarray(box, dtype=np.float64)
        x, y = (float(value) for value in corners.mean(axis=0))
        slot = layout.slot_of(x, y)
        if slot is not None:
            height = float(np.linalg.norm(corners[3] - corners[0]))
            placed[slot].append(TextPiece(y=y, x=x, height=height, text=text))
    return {slot: reading_order(found) for slot, found in placed.items()}


def _album(slot: int, verdict: Verdict) -> Album:
    match = verdict.match
    if match is None:
        return unrecognized_album(slot, _printable(verdict.reason))
    return Album(
        slot=slot,
        title=match.album.title,
        artist=match.album.artist,
        year=match.album.year,
        confidence=match.confidence,
        note="matched by its name alone; please check" if match.name_only else None,
    )


def _printable(text: str) -> str:
    """OCR output goes into a note a person reads: no control characters, bounded length."""
    cleaned = "".join(ch if not unicodedata.category(ch).startswith("C") else " " for ch in text)
    return " ".join(cleaned.split())[:200] or "unreadable"
