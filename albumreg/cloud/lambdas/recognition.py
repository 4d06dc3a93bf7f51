"""The local cloud's recognizer in every worker process, with the benchmark's knobs.

Handlers know only Bedrock; each worker gets the offline recognizer
(``albumreg.cloud.recognition``) through its ``Dependencies`` before its handler is imported
(the service's ``setup``), built on first use.

A benchmark of many copies of one photo measures orchestration, not this machine's OCR queue:
``--recognizer replay`` recognizes each distinct photo once and replays the answer, and
``--vision-latency`` adds a remote model's latency. The knobs travel to the workers as a
picklable ``RecognizerKnobs``. Replayed answers are files in a folder shared by the workers, so
a photo is read once per local cloud rather than once per worker. Never part of the Lambda artifact.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.domain.models import Extraction
    from handlers.domain.ports import Recognizer

_INSTALLED = contextlib.ExitStack()
"""Holds the worker's ``use(...)`` open for the life of the process."""


@dataclass(frozen=True)
class RecognizerKnobs:
    """How the local cloud's recognizer is decorated for a benchmark.

    Attributes:
        replay: recognize each distinct photo once, replay the answer afterwards.
        latency: seconds waited before every recognition (a remote model's latency).
        wrap: applied last, in the worker (a scenario's vision fault); must be picklable.
    """

    replay: bool = False
    latency: float = 0.0
    wrap: Callable[[Recognizer], Recognizer] | None = None


class _Lazy:
    """Builds the real recognizer on first use: price workers never load the OCR engine."""

    def __init__(self, build: Callable[[], Recognizer]) -> None:
        self._build = build
        self._inner: Recognizer | None = None

    def recognize(self, image: bytes) -> Extraction:
        if self._inner is None:
            self._inner = self._build()
        return self._inner.recognize(image)


class SharedReplay:
    """Recognizes each distinct picture once per folder, across processes.

    The key is a digest of the decoded pixels, so copies that differ only in metadata (the
    benchmark's JPEG comments) share one answer; a file lock makes concurrent workers wait for
    the first recognition instead of repeating it.

    Args:
        inner: the recognizer that reads a picture not seen before.
        folder: where answers are kept.
    """

    def __init__(self, inner: Recognizer, folder: Path) -> None:
        self._inner = inner
        self._folder = folder

    def recognize(self, image: bytes) -> Extraction:
        """The stored answer for these pixels, or a fresh recognition (stored for next time)."""
        # Imported here: image decoding costs init time that only extracting workers need.
        from handlers.adapters.recognition.image import decode_image  # noqa: PLC0415
        from handlers.domain.models import Extraction  # noqa: PLC0415

        key = hashlib.sha256(decode_image(image).tobytes()).hexdigest()
        answer = self._folder / f"{key}.json"
        with (self._folder / f"{key}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if answer.exists():
                return Extraction.model_validate_json(answer.read_text(encoding="utf-8"))
            extraction = self._inner.recognize(image)
            answer.write_text(extraction.model_dump_json(), encoding="utf-8")
            return extraction


class _Delayed:
    """Waits before each recognition, as a network call to a vision model would."""

    def __init__(self, inner: Recognizer, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def recognize(self, image: bytes) -> Extraction:
        time.sleep(self._seconds)
        return self._inner.recognize(image)


def install(knobs: RecognizerKnobs, folder: Path) -> None:
    """Worker setup: every handler of this process gets the offline recognizer, decorated.

    Args:
        knobs: what to decorate the recognizer with.
        folder: the replay answers' folder, shared by the local cloud's workers.
    """
    from albumreg.cloud.recognition import offline_recognizer  # noqa: PLC0415 - cheap, lazy inside
    from handlers.config import Settings  # noqa: PLC0415 - the handler imports these anyway
    from handlers.wiring import Dependencies, use  # noqa: PLC0415

    base = Dependencies(Settings.from_env())
    recognizer: Recognizer = _Lazy(offline_recognizer)
    if knobs.replay:
        recognizer = SharedReplay(recognizer, folder)
    if knobs.latency > 0:
        recognizer = _Delayed(recognizer, knobs.latency)
    if knobs.wrap is not None:
        recognizer = knobs.wrap(recognizer)
    _INSTALLED.enter_context(
        use(Dependencies(base.settings, session=base.session, recognizer=recognizer))
    )
