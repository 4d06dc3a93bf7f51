"""The one place that reads the environment and builds clients and adapters.

Handlers ask ``dependencies()`` for what they need; each adapter is built on first use (a
price handler never loads a recognizer) and reused across warm invocations. Tests and the
local cloud install their own set with ``use``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from handlers.adapters.clock import SystemClock
from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.adapters.metrics import CloudWatchMetricsSink, EmfMetricsSink, NullMetricsSink
from handlers.adapters.review_inbox import OrchestratorReviewInbox
from handlers.adapters.s3_images import S3ImageStore
from handlers.config import Settings
from handlers.domain.ports import (
    AlbumRepository,
    Clock,
    ImageStore,
    MetricsSink,
    PricingSource,
    Recognizer,
    ReviewInbox,
)

T = TypeVar("T")

AWS_CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=5)
"""SDK-level retries for AWS calls (three attempts in all); workflow retries live in the policy."""


class Dependencies:
    """The adapters of one process. Pass any of them to replace the real one."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: boto3.session.Session | None = None,
        repo: AlbumRepository | None = None,
        images: ImageStore | None = None,
        recognizer: Recognizer | None = None,
        pricing: PricingSource | None = None,
        metrics: MetricsSink | None = None,
        clock: Clock | None = None,
        inbox: ReviewInbox | None = None,
    ) -> None:
        self.settings = settings
        self._session = session
        self._lock = threading.RLock()
        self._built: dict[str, Any] = {
            name: value
            for name, value in {
                "repo": repo,
                "images": images,
                "recognizer": recognizer,
                "pricing": pricing,
                "metrics": metrics,
                "clock": clock,
                "inbox": inbox,
            }.items()
            if value is not None
        }

    def _get(self, name: str, factory: Callable[[], T]) -> T:
        """Build once, under a lock: six price agents may ask at the same moment."""
        with self._lock:
            if name not in self._built:
                self._built[name] = factory()
            value: T = self._built[name]
            return value

    @property
    def session(self) -> boto3.session.Session:
        """One boto3 session per process; clients made from it are thread-safe."""
        return self._get("session", lambda: self._session or boto3.session.Session())

    def client(self, service: str) -> Any:
        """A boto3 client for ``service``; its endpoint comes from ``AWS_ENDPOINT_URL_*``."""
        return self._get(
            f"client:{service}",
            lambda: self.session.client(service, config=AWS_CLIENT_CONFIG),  # type: ignore[call-overload]
        )

    @property
    def repo(self) -> AlbumRepository:
        """The single-table repository."""
        return self._get(
            "repo",
            lambda: DynamoDbAlbumRepository(self.client("dynamodb"), self.settings.table_name),
        )

    @property
    def images(self) -> ImageStore:
        """Where uploaded images are read from."""
        return self._get("images", lambda: S3ImageStore(self.client("s3")))

    @property
    def recognizer(self) -> Recognizer:
        """Bedrock on AWS, OCR on the local cloud."""
        return self._get("recognizer", self._build_recognizer)

    @property
    def pricing(self) -> PricingSource:
        """The price agent."""
        return self._get("pricing", self._build_pricing)

    @property
    def metrics(self) -> MetricsSink:
        """EMF in Lambda, PutMetricData on the local cloud."""
        return self._get("metrics", self._build_metrics)

    @property
    def clock(self) -> Clock:
        """The real clock."""
        return self._get("clock", SystemClock)

    @property
    def inbox(self) -> ReviewInbox:
        """Resumes paused workflows (used by the CLI and the dashboard, not by handlers)."""
        return self._get(
            "inbox",
            lambda: OrchestratorReviewInbox(self.client("stepfunctions"), self.client("lambda")),
        )

    def _build_recognizer(self) -> Recognizer:
        # Imported on first use: image libraries cost cold-start time the price tasks never need.
        from handlers.adapters.recognition import build_recognizer  # noqa: PLC0415

        return build_recognizer(self.settings, self.session)

    def _build_pricing(self) -> PricingSource:
        # Imported on first use, for the same cold-start reason as the recognizer.
        from handlers.adapters.pricing import build_pricing  # noqa: PLC0415

        return build_pricing(self.settings, self.session)

    def _build_metrics(self) -> MetricsSink:
        mode = self.settings.metrics_mode
        if mode == "api":
            return CloudWatchMetricsSink(self.client("cloudwatch"))
        if mode == "emf":
            return EmfMetricsSink()
        return NullMetricsSink()


_current: Dependencies | None = None
_current_lock = threading.Lock()


def dependencies() -> Dependencies:
    """The process's adapters, built from the environment on first call."""
    global _current  # noqa: PLW0603 - one set per process is the point: warm invocations reuse it
    with _current_lock:
        if _current is None:
            _current = Dependencies(Settings.from_env())
        return _current


@contextmanager
def use(deps: Dependencies) -> Iterator[Dependencies]:
    """Install ``deps`` for every handler in this process until the block ends."""
    global _current  # noqa: PLW0603 - see dependencies()
    with _current_lock:
        previous, _current = _current, deps
    try:
        yield deps
    finally:
        with _current_lock:
            _current = previous
