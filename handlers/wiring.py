"""The one place that reads the environment and builds clients and adapters.

Handlers ask ``dependencies()`` for what they need; each adapter is built on first use (a
price handler never loads a recognizer) and reused across warm invocations. Tests and the
local cloud install their own set with ``use``. ``lambda_handler`` puts Powertools around every
Lambda entry point.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3
from botocore.config import Config

from handlers.adapters.clock import SystemClock
from handlers.adapters.cold_starts import ColdStartReader, cold_start_config
from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.adapters.metrics import CloudWatchMetricsSink, NullMetricsSink, PowertoolsMetricsSink
from handlers.adapters.powertools import METRICS, logger
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
from handlers.domain.tenant import Pattern

if TYPE_CHECKING:
    from handlers.adapters.metrics_collector import MetricsCollector

T = TypeVar("T")
H = TypeVar("H", bound=Callable[..., Any])

AWS_CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5)
"""botocore's standard retry mode, one quick retry inside the request (two attempts in all):
past that the adapter raises ``TransientError`` and the orchestrator retries the step, as
``handlers.domain.policy`` says."""


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
        collector: MetricsCollector | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._session = session
        # Read once, like ``settings``: the collector's cold-start sources (see ``collector``).
        self._environ = dict(os.environ if environ is None else environ)
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
                "collector": collector,
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
        """Bedrock vision, unless one was injected (the local cloud injects its offline OCR)."""
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

    @property
    def collector(self) -> MetricsCollector:
        """Measures finished workflows (the collector Lambda's one adapter).

        Cold starts are read from the log groups ``COLD_START_LOG_GROUPS`` names (the stack and
        the local cloud's worker functions set it); without it they are stored "not measured".
        """
        return self._get("collector", self._build_collector)

    def _build_collector(self) -> MetricsCollector:
        # Imported on first use: the cost model and histories are the collector's alone, and
        # every workflow function would pay for them at its cold start.
        from handlers.adapters.metrics_collector import MetricsCollector  # noqa: PLC0415

        config = cold_start_config(self._environ)
        reader = (
            ColdStartReader(
                self.client("logs"),
                config.log_groups,
                config.source,
                report_wait_seconds=config.report_wait_seconds,
            )
            if config.log_groups
            else None
        )
        return MetricsCollector.from_clients(
            self.client,
            self.settings,
            self.clock,
            region=self.session.region_name or "us-east-1",
            cold_starts=reader,
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
            return PowertoolsMetricsSink()
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


def lambda_handler(pattern: Pattern | None) -> Callable[[H], H]:
    """Powertools around a Lambda entry point: JSON logs with the Lambda context, and EMF metrics.

    Every invocation starts with a clean set of log keys plus Powertools' ``cold_start`` and
    ``function_request_id`` (``inject_lambda_context``). Where metrics go out as EMF (in Lambda),
    ``log_metrics`` writes the pattern's counts when the invocation ends and adds Powertools'
    ``ColdStart`` metric for the function. With ``METRICS_MODE`` ``api`` or ``off`` (the local
    cloud, tests) the counts go through the other sinks and no EMF line is written: nothing
    would read it. A durable handler puts this inside ``@durable_execution``: Powertools reads
    the Lambda context from the durable context.

    Args:
        pattern: the namespace the function's metrics go to; None for a function that
            publishes no workflow metrics (the collector).
    """

    def decorate(handler: H) -> H:
        logged = logger.inject_lambda_context(handler, clear_state=True)
        measured = (
            METRICS[pattern].log_metrics(logged, capture_cold_start_metric=True)
            if pattern is not None
            else logged
        )

        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            if pattern is not None and dependencies().settings.metrics_mode == "emf":
                return measured(event, context)
            return logged(event, context)

        return cast("H", run)

    return decorate
