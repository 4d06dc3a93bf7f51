"""How fast the dashboard draws each page over a large table, and proof that it never scans.

Seeds N uploads per pattern into an in-process moto table through the repository, with no
workflow run: the items are the ones the workflows write, and the timings stored in their
METRICS items are made up to fill the charts (fixtures, not measurements). Every page is then
drawn with Streamlit's AppTest against the real app, and every DynamoDB call its clients make
is counted with a botocore event hook. Nothing listens on the network. moto runs with
``albumreg.cloud.moto_queries.partition_queries``, as in the local cloud: without it every Query
sorts the whole table first, and the page times would measure that sort rather than the dashboard.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
from moto import mock_aws

from albumreg.client.target import ENV_FILE_VARIABLE, Target
from albumreg.cloud.moto_queries import partition_queries
from albumreg.dashboard.launch import APP
from albumreg.tools.sample_photos import demo_albums
from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.adapters.table_schema import create_table_request
from handlers.domain.events import upload_id_for
from handlers.domain.models import (
    Album,
    Extraction,
    PriceEstimate,
    ReviewResult,
    ReviewState,
    Upload,
    WorkflowStatus,
)
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PAGES: tuple[tuple[str, str], ...] = (
    ("Pending reviews", "views/reviews.py"),
    ("Albums", "views/albums.py"),
    ("Comparison", "views/comparison.py"),
    ("Executions", "views/executions.py"),
    ("Upload", "views/upload.py"),
)
GOAL_SECONDS = 2.0
"""The goal for one page on a 2-core machine with 1,000 uploads: a reviewer never waits long."""
RENDER_TIMEOUT_SECONDS = 120.0
BUCKET = "albumreg-bench-uploads"
TABLE = "albumreg-bench"
REGION = "us-east-1"


@dataclass(frozen=True)
class PageTiming:
    """One page: drawn with empty caches (cold) and again at once (warm).

    ``cold_cpu_seconds`` is the processor time this process spent on the cold draw: on a busy
    machine the wall-clock time also counts the wait for a core, this does not.
    """

    page: str
    cold_seconds: float
    warm_seconds: float
    dynamodb_calls: dict[str, int]
    dynamodb_seconds: float = 0.0
    error: str | None = None
    cold_cpu_seconds: float = 0.0


@dataclass
class DashboardBench:
    """The benchmark's result."""

    uploads_per_pattern: int
    seed_seconds: float
    pages: list[PageTiming] = field(default_factory=list)

    @property
    def scan_calls(self) -> int:
        """Scans issued while drawing the pages: must be zero."""
        return sum(page.dynamodb_calls.get("Scan", 0) for page in self.pages)

    @property
    def ok(self) -> bool:
        """No Scan and no page failed."""
        return self.scan_calls == 0 and not any(page.error for page in self.pages)

    def as_dict(self) -> dict[str, Any]:
        """The JSON document of ``--json``."""
        return {
            "uploads_per_pattern": self.uploads_per_pattern,
            "seed_seconds": round(self.seed_seconds, 2),
            "goal_seconds": GOAL_SECONDS,
            "scan_calls": self.scan_calls,
            "pages": [
                {
                    "page": page.page,
                    "cold_seconds": round(page.cold_seconds, 3),
                    "cold_cpu_seconds": round(page.cold_cpu_seconds, 3),
                    "warm_seconds": round(page.warm_seconds, 3),
                    "within_goal": page.cold_seconds <= GOAL_SECONDS,
                    "dynamodb_calls": page.dynamodb_calls,
                    "dynamodb_seconds": round(page.dynamodb_seconds, 3),
                    "error": page.error,
                }
                for page in self.pages
            ],
        }


def render_table(bench: DashboardBench) -> str:
    """The report for a person."""
    lines = [
        f"{bench.uploads_per_pattern} uploads per pattern, seeded in {bench.seed_seconds:.1f}s",
        "",
        f"{'page':<16}  {'cold':>7}  {'cold CPU':>8}  {'warm':>7}  {'in DynamoDB':>11}  "
        "DynamoDB calls (cold)",
    ]
    for page in bench.pages:
        calls = ", ".join(f"{name} {count}" for name, count in sorted(page.dynamodb_calls.items()))
        mark = "" if page.cold_seconds <= GOAL_SECONDS else f"  (over {GOAL_SECONDS:g}s)"
        lines.append(
            f"{page.page:<16}  {page.cold_seconds:6.2f}s  {page.cold_cpu_seconds:7.2f}s  "
            f"{page.warm_seconds:6.2f}s  "
            f"{page.dynamodb_seconds:10.2f}s  "
            f"{calls}{mark}{'  ERROR ' + page.error if page.error else ''}"
        )
    lines += ["", f"Scan calls: {bench.scan_calls}"]
    return "\n".join(lines)


def _albums() -> list[Album]:
    return [
        Album(slot=slot, title=demo.title, artist=demo.artist, year=demo.year, confidence=0.9)
        for slot, demo in enumerate(demo_albums(), start=1)
    ]


def _status(index: int) -> WorkflowStatus:
    """A realistic mix: mostly completed, some failed, rejected and waiting."""
    bucket = index % 100
    if bucket < 90:
        return WorkflowStatus.COMPLETED
    if bucket < 94:
        return WorkflowStatus.FAILED
    if bucket < 96:
        return WorkflowStatus.REJECTED
    return WorkflowStatus.PENDING_REVIEW


def _fixture_metrics(
    pattern: Pattern, index: int, execution_id: str, ended: datetime
) -> WorkflowMetrics:
    """Made-up timings of a collected workflow, varied so the charts have a spread."""
    wobble = ((index * 37) % 29) / 100
    extract = 2.5 + wobble
    price = 0.6 + wobble / 2
    store = 0.1
    return WorkflowMetrics(
        execution_id=execution_id,
        collected_at=ended,
        active_seconds=extract + price + store,
        human_wait_seconds=30 + index % 60,
        step_seconds={"extract-albums": extract, "price-albums": price, "store-results": store},
        billed_units=11 if pattern is Pattern.STEP_FUNCTIONS else 13,
        parallel_efficiency=0.85 + wobble / 3,
    )


def seed(repo: DynamoDbAlbumRepository, uploads: int, now: datetime) -> None:
    """Write ``uploads`` uploads per pattern, newest first, as the workflows would leave them."""
    albums = _albums()
    extraction = Extraction(albums=albums, engine="bench fixture")
    estimates = [
        PriceEstimate(slot=slot, amount=Decimal("20.00"), confidence=0.8, source="bench")
        for slot in range(1, len(albums) + 1)
    ]
    for index in range(uploads):
        key = f"uploads/bench-{index:05d}.jpg"
        received = now - timedelta(minutes=index)
        upload = Upload(
            upload_id=upload_id_for(BUCKET, key, f"etag{index}"),
            bucket=BUCKET,
            key=key,
            size=1000,
            received_at=received,
        )
        status = _status(index)
        for pattern in Pattern:
            execution_id = f"{pattern.value}-bench-{index}"
            repo.claim_upload(pattern, upload, execution_id, received)
            if status is WorkflowStatus.FAILED:
                repo.mark_status(pattern, upload.upload_id, status, received, error="Bench")
                continue
            repo.save_extraction(pattern, upload.upload_id, extraction, received)
            expires = (
                now + timedelta(hours=1) if status is WorkflowStatus.PENDING_REVIEW else received
            )
            repo.open_review(pattern, upload.upload_id, f"token-{index}", albums, received, expires)
            if status is WorkflowStatus.REJECTED:
                repo.resolve_review(pattern, upload.upload_id, ReviewState.REJECTED, received)
                repo.mark_status(pattern, upload.upload_id, status, received, error="Rejected")
            elif status is WorkflowStatus.COMPLETED:
                review = ReviewResult(
                    outcome=ReviewState.APPROVED, albums=albums, decided_at=received
                )
                metrics = _fixture_metrics(pattern, index, execution_id, received)
                repo.store_results(pattern, upload.upload_id, review, estimates, metrics, received)
                repo.record_metrics(pattern, upload.upload_id, metrics)


@contextlib.contextmanager
def _saved_environment() -> Iterator[None]:
    """The dashboard exports endpoints into the process environment: put it back after."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _quiet_streamlit() -> Iterator[None]:
    """Caches cleared outside a Streamlit server warn on every call: not news here."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    noisy = [logger for logger in loggers if logger.name.startswith("streamlit")]
    levels = [logger.level for logger in noisy]
    for logger in noisy:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(noisy, levels, strict=True):
            logger.setLevel(level)


class _DynamoDbMeter:
    """Counts the DynamoDB calls of one boto3 session's clients and the time spent in them.

    The app makes its calls one after another, so one start time at a time is enough.
    """

    def __init__(self, session: boto3.session.Session) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds = 0.0
        self._started = 0.0
        session.events.register("before-call.dynamodb", self._before)
        session.events.register("after-call.dynamodb", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        self.calls.update([model.name])
        self._started = time.perf_counter()

    def _after(self, **_: Any) -> None:
        self.seconds += time.perf_counter() - self._started

    def reset(self) -> None:
        """Start counting afresh."""
        self.calls.clear()
        self.seconds = 0.0


def _draw_pages(meter: _DynamoDbMeter, progress: Callable[[str], None]) -> list[PageTiming]:
    # Imported here: Streamlit and the app load only when this benchmark runs.
    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    from albumreg.dashboard import cached  # noqa: PLC0415

    timings = []
    app = AppTest.from_file(str(APP), default_timeout=RENDER_TIMEOUT_SECONDS).run()
    for name, path in PAGES:
        cached.clear_reads()
        meter.reset()
        started, processor = time.perf_counter(), time.process_time()
        app.switch_page(path).run()
        cold, cpu = time.perf_counter() - started, time.process_time() - processor
        calls, in_dynamodb = dict(meter.calls), meter.seconds
        started = time.perf_counter()
        app.run()
        warm = time.perf_counter() - started
        error = "; ".join(str(e.value) for e in app.exception) or None
        timings.append(PageTiming(name, cold, warm, calls, in_dynamodb, error, cpu))
        progress(
            f"{name}: {cold:.2f}s cold ({cpu:.2f}s CPU, {in_dynamodb:.2f}s in DynamoDB), "
            f"{warm:.2f}s warm"
        )
    return timings


class _OneItemAtATime:
    """A DynamoDB client for seeding that applies a transaction's items one by one.

    moto deep-copies every table on each TransactWriteItems (to roll back on failure), which
    makes seeding thousands of uploads quadratic. Nothing else writes while seeding, so the
    items come out the same; every other call goes to the real client unchanged.
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, TransactItems: list[dict[str, Any]], **_: Any) -> Any:  # noqa: N803 - boto3's name
        for entry in TransactItems:
            ((kind, request),) = entry.items()
            if kind == "Put":
                self._client.put_item(**request)
            elif kind == "Update":
                self._client.update_item(**request)
            else:
                raise ValueError(f"seeding does not expect a {kind} in a transaction")
        return {}


def run_benchmark(uploads: int, progress: Callable[[str], None]) -> DashboardBench:
    """Seed an in-process moto account, draw every page, count DynamoDB calls."""
    # Imported here: Streamlit and the app load only when this benchmark runs.
    from albumreg.dashboard import cached  # noqa: PLC0415
    from albumreg.dashboard.data.backend import connect  # noqa: PLC0415

    with (
        _saved_environment(),
        _quiet_streamlit(),
        mock_aws(),
        partition_queries(),
        tempfile.TemporaryDirectory() as folder,
    ):
        target = Target(
            bucket=BUCKET,
            table_name=TABLE,
            state_machine_arn=f"arn:aws:states:{REGION}:123456789012:stateMachine:bench",
            durable_function="albumreg-bench-durable",
            region=REGION,
            source="albumreg bench-dashboard",
        )
        env_file = Path(folder) / "bench.env"
        env_file.write_text(target.as_env_lines())
        os.environ[ENV_FILE_VARIABLE] = str(env_file)
        session = boto3.session.Session(region_name=REGION)
        session.client("s3").create_bucket(Bucket=BUCKET)
        dynamodb = session.client("dynamodb")
        dynamodb.create_table(**create_table_request(TABLE))
        progress(f"seeding {uploads} uploads per pattern ...")
        started = time.perf_counter()
        seeding = cast("DynamoDBClient", _OneItemAtATime(dynamodb))
        seed(DynamoDbAlbumRepository(seeding, TABLE), uploads, datetime.now(UTC))
        bench = DashboardBench(uploads, time.perf_counter() - started)

        counted = boto3.session.Session(region_name=REGION)
        meter = _DynamoDbMeter(counted)
        with cached.backend_factory(lambda: connect(session=counted)):
            bench.pages = _draw_pages(meter, progress)
        return bench
