"""Small fakes of the ports, for tests that exercise the steps without a model or an API."""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal

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


class FixedPricing:
    """A ``PricingSource`` that prices every album at the same amount."""

    def __init__(self, amount: str = "20.00") -> None:
        self.amount = Decimal(amount)

    def estimate(self, album: Album) -> PriceEstimate:
        return PriceEstimate(
            slot=album.slot, amount=self.amount, confidence=0.8, source="fake", requests=2
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
