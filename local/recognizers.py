"""Recognizer decorators for benchmarks on the local cloud; never part of the Lambda artifact.

``DelayedRecognizer`` adds the latency of a remote vision model (``--vision-latency``);
``ReplayingRecognizer`` reads each distinct photo once and replays the answer for identical
pixels, so a benchmark of many copies of one photo measures orchestration rather than this
machine's OCR queue (``--recognizer replay``). Both wrap any ``Recognizer`` and change nothing
else about it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from handlers.adapters.recognition.image import decode_image
from handlers.domain.models import Extraction
from handlers.domain.ports import Recognizer


class DelayedRecognizer:
    """Waits ``seconds`` before each recognition, as a network call to a vision model would."""

    def __init__(
        self, inner: Recognizer, seconds: float, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if seconds < 0:
            raise ValueError(f"a delay cannot be negative, got {seconds}")
        self._inner = inner
        self._seconds = seconds
        self._sleep = sleep

    def recognize(self, image: bytes) -> Extraction:
        """Wait, then recognize."""
        self._sleep(self._seconds)
        return self._inner.recognize(image)


class ReplayingRecognizer:
    """Recognizes each distinct picture once; identical pixels get the same answer again.

    The key is a digest of the decoded pixels, so copies that differ only in metadata (a JPEG
    comment, as the benchmark's uploads do) share one recognition, and a different photo never
    receives another photo's albums.
    """

    def __init__(self, inner: Recognizer) -> None:
        self._inner = inner
        self._answers: dict[str, Extraction] = {}
        self._lock = threading.Lock()

    def recognize(self, image: bytes) -> Extraction:
        """The stored answer for these pixels, or a fresh recognition (stored for next time)."""
        key = hashlib.sha256(decode_image(image).tobytes()).hexdigest()
        with self._lock:
            if key not in self._answers:
                self._answers[key] = self._inner.recognize(image)
            return self._answers[key]
