"""``albumreg bench``: many uploads through both workflows, timed by the orchestrators' records.

Each upload is a distinct object (the sample photo with its own JPEG comment: same pixels, new
bytes, new upload id). Reviews are approved as soon as they open (by the reviewer threads of
``albumreg.tools.bench_watch``), at most ``concurrency`` uploads are in flight, and every finished
workflow is measured by ``MetricsCollector`` from its execution history. Runs on a local cloud
started in this process (its Lambdas in worker processes; the default) or against a deployed stack.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TextIO

from albumreg.client.connect import connect
from albumreg.client.console import table
from albumreg.client.tracking import GRACE_SECONDS, approve
from albumreg.cloud.fake_discogs import Knobs
from albumreg.cloud.lambdas.recognition import RecognizerKnobs
from albumreg.cloud.local_cloud import CloudOptions, LocalCloud
from albumreg.cloud.status_events import COLLECTOR_FUNCTION
from albumreg.tools.bench_watch import (
    MemoryPeak,
    Patience,
    Reviewer,
    cold_start_figures,
    first_started,
)
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.adapters.metrics_collector import CollectedMetrics, MetricsCollector
from handlers.domain.events import upload_id_for
from handlers.domain.models import FINAL_STATUSES
from handlers.domain.names import Step
from handlers.domain.ports import Recognizer
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.workflow_metrics import MeasuredWorkflow, WorkflowMetrics
from handlers.wiring import Dependencies

DEFAULT_SAVE = Path(".albumreg") / "bench-latest.json"
"""Where each run's document goes, so ``albumreg report`` has numbers after the cloud stopped."""
POLL_SECONDS = 0.5
REVIEWER = "albumreg bench"
Recognition = Literal["ocr", "replay"]

STANDARD_COMMAND = (
    "albumreg bench --uploads 20 --concurrency 5 --price-latency 0.5 --recognizer replay "
    "--vision-latency 1.0"
)
"""The standard configuration (``make bench``): six agents at 0.5 s, a Bedrock-like vision
latency, twenty uploads five at a time."""


@dataclass(frozen=True)
class BenchOptions:
    """What ``albumreg bench`` was asked to do.

    Attributes:
        uploads: how many photos to upload (each starts two workflows).
        concurrency: uploads in flight at once.
        price_latency: seconds the local pricing API adds to every request.
        vision_latency: seconds added before every recognition (a remote model's latency).
        fault_rate: fraction of pricing API requests answered 500.
        review_timeout_seconds: how long workflows wait for the (automatic) reviewer.
        recognizer: ``ocr`` reads every photo; ``replay`` reads each distinct photo once.
        target: ``local`` (a local cloud started here) or ``aws`` (a deployed stack).
        image: the photo every upload is a copy of.
        save: where the JSON document is written; None writes nothing.
        env_file: the deployed target's env file (``aws`` only).
    """

    uploads: int = 10
    concurrency: int = 5
    price_latency: float = 0.5
    vision_latency: float = 0.0
    fault_rate: float = 0.0
    review_timeout_seconds: int = 60
    recognizer: Recognition = "ocr"
    target: Literal["local", "aws"] = "local"
    image: Path = SAMPLE_PHOTO
    save: Path | None = DEFAULT_SAVE
    env_file: Path | None = None

    def check(self) -> None:
        """Refuse settings that cannot run.

        Raises:
            ValueError: naming the option.
        """
        if self.uploads < 1 or self.concurrency < 1:
            raise ValueError("--uploads and --concurrency must be at least 1")
        if self.price_latency < 0 or self.vision_latency < 0:
            raise ValueError("latencies cannot be negative")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("--fault-rate must be between 0 and 1")
        if self.review_timeout_seconds <= 0:
            raise ValueError("--review-timeout must be positive")
        local_only = (self.price_latency, self.vision_latency, self.fault_rate)
        if self.target == "aws" and (any(local_only) or self.recognizer != "ocr"):
            raise ValueError(
                "--price-latency, --vision-latency, --fault-rate and --recognizer are knobs of "
                "the local cloud; a deployed stack runs its real model and pricing API"
            )


def jpeg_variant(data: bytes, label: str) -> bytes:
    """The same JPEG with a comment segment after its start marker: same pixels, new bytes.

    Raises:
        ValueError: not a JPEG.
    """
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("the benchmark photo must be a JPEG")
    comment = label.encode()[:65000]
    return data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _numbers(values: Iterable[float | Decimal | None]) -> list[float]:
    return [float(value) for value in values if value is not None]


def summarize(
    workflows: Sequence[WorkflowMetrics], lost: int, unfinished: int = 0
) -> dict[str, Any]:
    """One pattern's figures from its workflows' collected metrics (as stored in METRICS).

    Timings, efficiency and overhead are medians over completed workflows; cost is their mean.
    Throughput counts completed workflows over the span from the first start to the last end
    the orchestrator recorded. Cold starts: see ``cold_start_figures``.
    """
    completed = [w for w in workflows if w.completed]
    steps = sorted({name for w in completed for name in w.step_seconds})
    starts = [w.started_at for w in completed if w.started_at is not None]
    ends = [w.ended_at for w in completed if w.ended_at is not None]
    span = (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0
    costs = _numbers(w.cost_total_usd for w in completed)
    first = first_started(completed)
    components = sorted({c for w in completed for c in w.cost})
    active = _numbers(w.active_seconds for w in completed)
    efficiency = _numbers(w.parallel_efficiency for w in completed)
    return {
        "completed": len(completed),
        "failed": len(workflows) - len(completed),
        "lost": lost,
        "unfinished": unfinished,
        "active_p50_s": percentile(active, 0.5),
        "active_p95_s": percentile(active, 0.95),
        "first_active_s": first.active_seconds if first else None,
        "step_p50_s": {
            name: percentile(_numbers(w.step_seconds.get(name) for w in completed), 0.5)
            for name in steps
        },
        "parallel_efficiency": percentile(efficiency, 0.5),
        "parallel_efficiency_min": min(efficiency, default=None),
        "overhead_ratio": percentile(_numbers(w.overhead_ratio for w in completed), 0.5),
        "overhead_p50_s": percentile(_numbers(w.overhead_seconds for w in completed), 0.5),
        "billed_units_p50": percentile(_numbers(w.billed_units for w in completed), 0.5),
        "lambda_invocations_p50": percentile(
            _numbers(w.lambda_invocations for w in completed), 0.5
        ),
        "throughput_per_min": len(completed) / span * 60 if span > 0 else None,
        "cost_per_workflow_usd": statistics.fmean(costs) if costs else None,
        "cost_breakdown_usd": {
            c: statistics.fmean([float(w.cost.get(c, 0)) for w in completed]) for c in components
        },
        "invocation_timing": sorted({str(w.invocation_timing) for w in completed}),
    } | cold_start_figures(completed)


@dataclass
class _Flight:
    """One upload on its way through both workflows."""

    upload_id: str
    key: str
    patience: Patience
    collected: dict[Pattern, CollectedMetrics] = field(default_factory=dict)
    approved: set[Pattern] = field(default_factory=set)
    lost: set[Pattern] = field(default_factory=set)
    unfinished: set[Pattern] = field(default_factory=set)

    @property
    def done(self) -> bool:
        return len(self.collected) + len(self.lost) + len(self.unfinished) == len(PATTERNS)


class Bench:
    """One benchmark run against a running system.

    Args:
        options: what to run.
        deps: adapters of the CLI side (repository, review inbox, clients).
        collector: measures each finished workflow.
        bucket: the uploads bucket.
        progress: receives the progress bar's text, redrawn in place.
    """

    def __init__(
        self,
        options: BenchOptions,
        deps: Dependencies,
        collector: MetricsCollector,
        bucket: str,
        progress: Callable[[str], None],
    ) -> None:
        self.options = options
        self.deps = deps
        self.collector = collector
        self.bucket = bucket
        self.progress = progress
        self.run_id = uuid.uuid4().hex[:8]
        self.workflows: list[MeasuredWorkflow] = []
        self.lost: dict[Pattern, int] = dict.fromkeys(PATTERNS, 0)
        self.unfinished: dict[Pattern, int] = dict.fromkeys(PATTERNS, 0)
        self.memory = MemoryPeak()
        self._flights: dict[str, _Flight] = {}
        self._lock = threading.Lock()
        self._progressed = time.monotonic()

    def run(self) -> dict[str, Any]:
        """Upload, approve (from the reviewer's threads), collect; returns the JSON document."""
        photo = self.options.image.read_bytes()
        waiting = list(range(1, self.options.uploads + 1))
        flights = self._flights
        started = time.monotonic()
        limit = self.options.uploads + 50
        with Reviewer(self.deps.repo, PATTERNS, self._claim, self.decide, limit) as reviewer:
            while waiting or flights:
                while waiting and len(flights) < self.options.concurrency:
                    flight = self._upload(photo, waiting.pop(0))
                    with self._lock:
                        flights[flight.upload_id] = flight
                self._progressed = max(self._progressed, reviewer.last_decision)
                self._advance(flights)
                with self._lock:
                    for upload_id in [u for u, f in flights.items() if f.done]:
                        del flights[upload_id]
                self._draw(started)
                if self.options.target == "local":
                    self.memory.sample()
                if flights:
                    time.sleep(POLL_SECONDS)
        self.progress("")
        return self._document(time.monotonic() - started)

    def _claim(self, pattern: Pattern, upload_id: str) -> bool:
        """True once for each open review of this run's uploads: the reviewer decides it."""
        with self._lock:
            flight = self._flights.get(upload_id)
            if flight is None or pattern in flight.approved:
                return False
            flight.approved.add(pattern)
            return True

    def _upload(self, photo: bytes, number: int) -> _Flight:
        key = f"uploads/bench-{self.run_id}-{number:04d}.jpg"
        body = jpeg_variant(photo, f"albumreg bench {self.run_id} #{number}")
        response = self.deps.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="image/jpeg"
        )
        version = response.get("VersionId")
        identity = version if version and version != "null" else response["ETag"].strip('"')
        deadline = time.monotonic() + self.options.review_timeout_seconds + GRACE_SECONDS
        return _Flight(upload_id_for(self.bucket, key, identity), key, Patience(deadline))

    def _advance(self, flights: Mapping[str, _Flight]) -> None:
        """Collect finished workflows; judge late ones lost or unfinished only once stuck."""
        limit = self.options.uploads + 50
        repo = self.deps.repo
        with self._lock:
            current = list(flights.values())
        for pattern in PATTERNS:
            finished = {
                summary.upload_id
                for status in FINAL_STATUSES
                for summary in repo.list_uploads(pattern, status, limit)
            }
            for flight in current:
                if pattern in flight.collected or pattern in flight.lost | flight.unfinished:
                    continue
                collected = (
                    self.collector.collect(pattern, flight.upload_id)
                    if flight.upload_id in finished
                    else None
                )
                if collected is not None:
                    flight.collected[pattern] = collected
                    self.workflows.append(collected.workflow)
                    self._progressed = time.monotonic()
                elif time.monotonic() > flight.patience.deadline:
                    self._judge(flight, pattern)

    def _judge(self, flight: _Flight, pattern: Pattern) -> None:
        """A late workflow: lost once nothing moves, unfinished once the bench stops waiting."""
        summary = self.deps.repo.get_summary(pattern, flight.upload_id)
        status = summary.status.value if summary else "none"
        verdict = flight.patience.judge(pattern, status, self._progressed, time.monotonic())
        if verdict == "lost":
            flight.lost.add(pattern)
            self.lost[pattern] += 1
        elif verdict == "unfinished":
            flight.unfinished.add(pattern)
            self.unfinished[pattern] += 1

    def decide(self, pattern: Pattern, upload_id: str) -> None:
        """What the automatic reviewer does with an open review: approve it as extracted."""
        approve(pattern, upload_id, self.deps, REVIEWER)

    def _draw(self, started: float) -> None:
        total = self.options.uploads * len(PATTERNS)
        done = len(self.workflows) + sum(self.lost.values()) + sum(self.unfinished.values())
        width = 30
        filled = int(width * done / total)
        counts = "  ".join(
            f"{p.value} {sum(1 for w in self.workflows if w.pattern is p)}" for p in PATTERNS
        )
        self.progress(
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} workflows  {counts}  "
            f"lost {sum(self.lost.values())}  unfinished {sum(self.unfinished.values())}  "
            f"{time.monotonic() - started:5.1f}s"
        )

    def _document(self, seconds: float) -> dict[str, Any]:
        load = os.getloadavg() if hasattr(os, "getloadavg") else None
        config = asdict(self.options) | {
            "image": str(self.options.image),
            "save": str(self.options.save) if self.options.save else None,
            "env_file": str(self.options.env_file) if self.options.env_file else None,
        }
        return {
            "config": config,
            "environment": {
                "cpus": os.cpu_count(),
                "load_average": list(load) if load else None,
                "python": sys.version.split()[0],
                "finished_at": datetime.now(UTC).isoformat(),
                "wall_seconds": seconds,
                "peak_memory_mb": self.memory.peak_mb,
            },
            **{
                pattern.value: summarize(
                    [w for w in self.workflows if w.pattern is pattern],
                    self.lost[pattern],
                    self.unfinished[pattern],
                )
                for pattern in PATTERNS
            },
            "workflows": [w.model_dump(mode="json", exclude_none=True) for w in self.workflows],
        }


@contextmanager
def local_system(
    options: BenchOptions,
    *,
    pricing: Knobs | None = None,
    fault: Callable[[Recognizer], Recognizer] | None = None,
) -> Iterator[tuple[Dependencies, MetricsCollector, str]]:
    """A local cloud in this process, with the recognizer decorated as the options ask.

    The handlers run in the cloud's worker processes, so the decoration travels to them as
    picklable knobs (``RecognizerKnobs``).

    Args:
        options: the bench's settings.
        pricing: the pricing API's knobs, instead of the options' latency and fault rate.
        fault: wraps the recognizer last (a failure scenario's vision fault); picklable.
    """
    with tempfile.TemporaryDirectory(prefix="albumreg-bench-") as scratch:
        cloud_options = CloudOptions(
            port_base=0,
            review_timeout_seconds=options.review_timeout_seconds,
            pricing=pricing or Knobs(latency=options.price_latency, error_rate=options.fault_rate),
            env_file=Path(scratch) / "local.env",
            recognition=RecognizerKnobs(
                replay=options.recognizer == "replay",
                latency=options.vision_latency,
                wrap=fault,
            ),
        )
        with LocalCloud(cloud_options) as cloud:
            deps = cloud.dependencies
            yield deps, _as_the_cloud_collects(cloud), cloud.target.bucket


def _as_the_cloud_collects(cloud: LocalCloud) -> MetricsCollector:
    """A collector configured as the cloud's own collector function (cold starts included).

    Both measure finished workflows, whichever comes first stores the METRICS item, so they must
    measure the same way. The function's settings are read from moto, which holds the functions
    (the env file's Lambda endpoint is the durable plane).
    """
    moto = cloud.dependencies.session.client(
        "lambda", endpoint_url=cloud.target.endpoints["AWS_ENDPOINT_URL_SFN"]
    )
    variables = moto.get_function_configuration(FunctionName=COLLECTOR_FUNCTION)["Environment"][
        "Variables"
    ]
    deps = cloud.dependencies
    return Dependencies(deps.settings, session=deps.session, environ=variables).collector


@contextmanager
def _deployed_system(options: BenchOptions) -> Iterator[tuple[Dependencies, MetricsCollector, str]]:
    """A deployed stack, found as the other commands find it."""
    connection = connect(options.env_file)
    yield connection.deps, connection.collector, connection.target.bucket


def _format(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}{unit}"
    return f"{value}{unit}"


def render_table(document: Mapping[str, Any]) -> str:
    """The per-pattern comparison as an aligned text table."""
    sf, ldf = document["sf"], document["ldf"]
    rows: list[tuple[str, str, str]] = [
        (label, _format(sf.get(key), unit), _format(ldf.get(key), unit))
        for label, key, unit in (
            ("completed", "completed", ""),
            ("failed", "failed", ""),
            ("lost", "lost", ""),
            ("unfinished", "unfinished", ""),
            ("active p50", "active_p50_s", "s"),
            ("active p95", "active_p95_s", "s"),
            ("first workflow active", "first_active_s", "s"),
            ("other workflows active p50", "rest_active_p50_s", "s"),
            ("cold starts", "cold_starts", ""),
            ("first workflow cold starts", "first_cold_starts", ""),
            ("other workflows cold starts", "rest_cold_starts", ""),
            ("init p50", "init_p50_s", "s"),
            ("parallel efficiency p50", "parallel_efficiency", ""),
            ("parallel efficiency min", "parallel_efficiency_min", ""),
            ("overhead ratio p50", "overhead_ratio", ""),
            ("overhead p50", "overhead_p50_s", "s"),
            ("billed units p50", "billed_units_p50", ""),
            ("Lambda invocations p50", "lambda_invocations_p50", ""),
            ("throughput", "throughput_per_min", "/min"),
        )
    ]
    for step in Step:
        rows.append(
            (
                f"{step.value} p50",
                _format(sf["step_p50_s"].get(step.value), "s"),
                _format(ldf["step_p50_s"].get(step.value), "s"),
            )
        )
    rows.append(
        (
            "cost per workflow",
            _usd(sf.get("cost_per_workflow_usd")),
            _usd(ldf.get("cost_per_workflow_usd")),
        )
    )
    for component in sorted(set(sf["cost_breakdown_usd"]) | set(ldf["cost_breakdown_usd"])):
        rows.append(
            (
                f"  {component}",
                _usd(sf["cost_breakdown_usd"].get(component)),
                _usd(ldf["cost_breakdown_usd"].get(component)),
            )
        )
    return table(("", Pattern.STEP_FUNCTIONS.label, Pattern.DURABLE.label), rows)


def _usd(value: float | Decimal | None) -> str:
    return "-" if value is None else f"${float(value):.8f}"


def run_bench(options: BenchOptions, out: TextIO, err: TextIO, *, as_json: bool) -> int:
    """Run, print, save; exit status 0 only when every workflow reached a final status."""
    options.check()

    def progress(text: str) -> None:
        end = "\n" if not text else ""
        err.write(f"\r{text}{end}")
        err.flush()

    system = _deployed_system if options.target == "aws" else local_system
    err.write(f"albumreg bench: {options.uploads} uploads on the {options.target} target\n")
    with system(options) as (deps, collector, bucket):
        document = Bench(options, deps, collector, bucket, progress).run()
    if options.save is not None:
        options.save.parent.mkdir(parents=True, exist_ok=True)
        options.save.write_text(json.dumps(document, indent=2, default=str) + "\n")
    if as_json:
        print(json.dumps(document, indent=2, default=str), file=out)
    else:
        print(render_table(document), file=out)
        for line in _notes(document):
            print(line, file=out)
        if options.save is not None:
            print(f"\nsaved to {options.save} (albumreg report reads it)", file=out)
    missing = sum(document[p.value]["lost"] + document[p.value]["unfinished"] for p in PATTERNS)
    return 0 if missing == 0 else 1


def _notes(document: Mapping[str, Any]) -> list[str]:
    """Where the cold-start figures come from, and the local cloud's peak memory."""
    notes = []
    sources = {document[p.value].get("cold_start_source") for p in PATTERNS} - {None}
    if sources:
        notes.append(f"cold starts: {'; '.join(sorted(sources))}")
    peak = document["environment"].get("peak_memory_mb")
    if peak is not None:
        notes.append(f"local cloud peak memory: {peak:.0f} MiB (this process and its workers)")
    return notes
