"""Small fakes of the ports, for tests that exercise the steps without a model or an API."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal

from handlers.adapters.pricing.transport import PricingUnavailableError
from handlers.domain.errors import InvalidImageError
from handlers.domain.models import Album, Extraction, PriceEstimate, ReviewResult
from handlers.domain.tenant import Pattern


class FakeImages:
    """An ``ImageStore`` holding bytes in a dict."""

    def __init__(self, objects: Mapping[tuple[str, str], bytes] | None = None) -> None:
        self.objects = dict(objects or {})
        self.reads = 0

    def read(self, bucket: str, key: str, max_bytes: int) -> bytes:
        self.reads += 1
        data = self.objects[(bucket, key)]
        if len(data) > max_bytes:
            raise InvalidImageError("too large")
        return data


class ScriptedRecognizer:
    """A ``Recognizer`` that returns a fixed extraction, or raises what it is told to."""

    def __init__(self, extraction: Extraction, error: Exception | None = None) -> None:
        self.extraction = extraction
        self.error = error
        self.calls = 0

    def recognize(self, image: bytes) -> Extraction:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.extraction


class ScriptedPricing:
    """A ``PricingSource`` that prices every album at one amount and counts the calls per slot.

    What the tests vary is data only: ``failing`` slots raise their error on every attempt (an
    agent whose retries run out), ``flaky_attempts`` makes each slot's first attempts raise the
    pricing API's transient error (an outage that passes), and ``answer_slot`` makes every
    estimate name that slot (a confused source the step must not trust). Safe to call from the
    orchestrators' threads at once.
    """

    def __init__(
        self,
        amount: str = "20.00",
        *,
        failing: Mapping[int, Exception] | None = None,
        flaky_attempts: int = 0,
        answer_slot: int | None = None,
    ) -> None:
        self.amount = Decimal(amount)
        self.failing = dict(failing or {})
        self.flaky_attempts = flaky_attempts
        self.answer_slot = answer_slot
        self.calls: Counter[int] = Counter()
        self._lock = threading.Lock()

    def estimate(self, album: Album) -> PriceEstimate:
        with self._lock:
            self.calls[album.slot] += 1
            attempt = self.calls[album.slot]
        if album.slot in self.failing:
            raise self.failing[album.slot]
        if attempt <= self.flaky_attempts:
            raise PricingUnavailableError(f"GET /database/search: HTTP 503 (slot {album.slot})")
        return PriceEstimate(
            slot=album.slot if self.answer_slot is None else self.answer_slot,
            amount=self.amount,
            confidence=0.8,
            source="fake",
            requests=1,
        )


class RecordingMetrics:
    """A ``MetricsSink`` that remembers what was emitted."""

    def __init__(self) -> None:
        self.emitted: list[tuple[Pattern, dict[str, float]]] = []

    def emit(self, pattern: Pattern, values: Mapping[str, float]) -> None:
        self.emitted.append((pattern, dict(values)))


class RecordingInbox:
    """A ``ReviewInbox`` that remembers completions, or refuses them like an expired token."""

    def __init__(self, error: Exception | None = None) -> None:
        self.completed: list[tuple[Pattern, str, str]] = []
        self.error = error

    def complete(self, pattern: Pattern, token: str, result: ReviewResult) -> None:
        if self.error is not None:
            raise self.error
        self.completed.append((pattern, token, result.model_dump_json()))


class VirtualTime:
    """Real elapsed time plus virtual sleeps: backoffs cost nothing, timeouts stay real."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def monotonic(self) -> float:
        return time.monotonic() + sum(self.slept)
