"""Failure scenarios of ``albumreg bench --scenarios``: what each one breaks, and how.

A scenario sets the local pricing API's fault knobs, a fault of the (local) vision model and
what the automatic reviewer does. Every scenario runs through both orchestrators with the same
faults, so the bench measures what each one spends when things go wrong. Local-only: faults are
injected into the local cloud's pricing API and recognizer, never into a deployed stack.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from albumreg.cloud.fake_discogs import Knobs
from handlers.domain.errors import RecognitionError, TransientError
from handlers.domain.models import Extraction
from handlers.domain.ports import Recognizer

ReviewAction = Literal["approve", "reject", "wait"]
"""The automatic reviewer approves as extracted, rejects, or never answers (the review times
out)."""

FAULT_SEED = 15
"""Seed of the pricing API's fault generator: the same requests fail on every run."""

SHORT_REVIEW_TIMEOUT_SECONDS = 5
"""The review timeout of ``review-timeout``: long enough for both reviews to open, short enough
to keep the bench quick."""

PATTERNS_PER_PHOTO = 2
"""Each photo is recognized once by each orchestrator's extract step."""


@dataclass(frozen=True)
class VisionFault:
    """What the vision model does wrong in a scenario.

    Attributes:
        throttled_calls: the first this many recognitions of each photo are throttled
            (raise ``TransientError``, as the recognizer does once its own quick retry is
            spent); later ones succeed.
        broken: every recognition fails for good (``RecognitionError``: nothing usable).
    """

    throttled_calls: int = 0
    broken: bool = False

    @property
    def active(self) -> bool:
        """True when the scenario touches the recognizer at all."""
        return self.broken or self.throttled_calls > 0


def _claim(folder: Path, name: str) -> bool:
    """Create ``folder/name`` unless it exists: atomic across processes (``O_EXCL``)."""
    try:
        os.close(os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


class FaultyRecognizer:
    """A recognizer with a scenario's vision fault in front of it.

    Throttled calls are counted per photo (a digest of the uploaded bytes) in a folder shared
    by the local cloud's worker processes, since each Lambda runs in a process of its own:
    both orchestrators recognize the same photo at about the same moment, so with
    ``throttled_calls`` equal to two, each one's first attempt is throttled and its
    orchestrator's retry goes through.

    Args:
        inner: the recognizer behind the fault.
        fault: what goes wrong.
        folder: where the throttled calls are counted (one empty file per call).
    """

    def __init__(self, inner: Recognizer, fault: VisionFault, folder: Path) -> None:
        self._inner = inner
        self._fault = fault
        self._folder = folder

    def recognize(self, image: bytes) -> Extraction:
        """Fail as the fault says, else recognize.

        Raises:
            RecognitionError: the fault is ``broken``.
            TransientError: this photo is still within its throttled calls.
        """
        if self._fault.broken:
            raise RecognitionError("the vision model returned nothing usable (scenario fault)")
        photo = hashlib.sha256(image).hexdigest()
        for call in range(self._fault.throttled_calls):
            if _claim(self._folder, f"{photo}.{call}"):
                raise TransientError(
                    "ThrottlingException: too many vision requests (scenario fault)"
                )
        return self._inner.recognize(image)


@dataclass(frozen=True)
class VisionFaultInjector:
    """Puts a vision fault in front of a recognizer; picklable, so it reaches worker processes.

    Attributes:
        fault: what goes wrong.
        folder: where throttled calls are counted, shared by every process of one run.
    """

    fault: VisionFault
    folder: Path

    def __call__(self, recognizer: Recognizer) -> Recognizer:
        """The recognizer with the fault in front."""
        return FaultyRecognizer(recognizer, self.fault, self.folder)


@dataclass(frozen=True)
class Scenario:
    """One named way for things to go wrong (or not).

    Attributes:
        name: the name ``--scenarios`` takes.
        description: what breaks, in a sentence.
        pricing: the pricing API's fault knobs (the bench's latency is added to them).
        vision: the vision model's fault.
        review: what the automatic reviewer does.
        review_timeout_seconds: the workflows' review timeout; None keeps the bench's.
    """

    name: str
    description: str
    pricing: Mapping[str, Any] = field(default_factory=dict)
    vision: VisionFault = VisionFault()
    review: ReviewAction = "approve"
    review_timeout_seconds: int | None = None

    def knobs(self, latency: float) -> Knobs:
        """The pricing API's knobs for this scenario, with every request delayed ``latency``.

        Raises:
            pydantic.ValidationError: a knob out of range.
        """
        return Knobs.model_validate({"latency": latency, **self.pricing})

    def injector(self, folder: Path) -> VisionFaultInjector | None:
        """What puts this scenario's vision fault in front of the recognizer (None: no fault).

        Args:
            folder: an empty folder for this run, where throttled calls are counted.
        """
        return VisionFaultInjector(self.vision, folder) if self.vision.active else None


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("happy", "nothing fails; the reviewer approves"),
    Scenario(
        "pricing-flaky",
        "the pricing API answers 20% of requests with a 500",
        pricing={"error_rate": 0.2, "seed": FAULT_SEED},
    ),
    Scenario(
        "pricing-429",
        "the pricing API rate-limits 30% of requests (429, Retry-After: 1)",
        pricing={"rate_limit": 0.3, "retry_after": 1, "seed": FAULT_SEED},
    ),
    Scenario(
        "pricing-outage",
        "the pricing API answers every request with a 500: every agent runs out of attempts",
        pricing={"error_rate": 1.0},
    ),
    Scenario(
        "vision-throttled",
        "the vision model throttles each workflow's first recognition of a photo",
        vision=VisionFault(throttled_calls=PATTERNS_PER_PHOTO),
    ),
    Scenario(
        "review-timeout",
        f"nobody reviews: the review times out after {SHORT_REVIEW_TIMEOUT_SECONDS} s and the "
        "workflow goes on with the extracted albums",
        review="wait",
        review_timeout_seconds=SHORT_REVIEW_TIMEOUT_SECONDS,
    ),
    Scenario("review-rejected", "the reviewer rejects the photo", review="reject"),
    Scenario(
        "extract-failure",
        "the vision model returns nothing usable: extraction fails for good, without retries",
        vision=VisionFault(broken=True),
    ),
)
"""Every scenario, ``happy`` first: the others are compared with it."""

BASELINE = SCENARIOS[0].name
ALL = "all"


def select(spec: str, known: Iterable[Scenario] = SCENARIOS) -> list[Scenario]:
    """The scenarios a ``--scenarios`` value names: ``all`` or a comma list, ``happy`` first.

    ``happy`` is always included, since every other scenario is reported as a difference
    from it.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    by_name = {scenario.name: scenario for scenario in known}
    names = [name.strip() for name in spec.split(",") if name.strip()]
    if names == [ALL]:
        return list(by_name.values())
    unknown = [name for name in names if name not in by_name]
    if unknown or not names:
        raise ValueError(
            f"unknown scenario {', '.join(unknown) or repr(spec)}; choose {ALL} or a comma list "
            f"of: {', '.join(by_name)}"
        )
    wanted = {BASELINE, *names}
    return [scenario for name, scenario in by_name.items() if name in wanted]
