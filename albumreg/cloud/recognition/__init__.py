"""The local cloud's offline recognizer: RapidOCR read against the bundled album catalog.

Never shipped to Lambda (RapidOCR, onnxruntime and rapidfuzz are local extras). The local
cloud's workers receive it through ``Dependencies`` (``albumreg.cloud.lambdas.recognition``);
``albumreg recognize`` builds it directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.domain.ports import Recognizer


def offline_recognizer() -> Recognizer:
    """The OCR recognizer over the bundled catalog (loads the OCR engine: seconds, once)."""
    # Imported on call: a price worker that never recognizes never pays for the OCR engine.
    from albumreg.cloud.catalog import load_catalog  # noqa: PLC0415
    from albumreg.cloud.recognition.ocr import OcrRecognizer  # noqa: PLC0415

    return OcrRecognizer(load_catalog())
