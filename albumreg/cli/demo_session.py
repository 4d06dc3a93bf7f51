"""``albumreg demo``: one upload through both workflows on the local cloud, followed live.

Starts the local cloud in this process, uploads a photo, prints each step of each pattern as
its orchestrator records it, gets the human review done (by itself with ``auto_approve``, or
by a person in the dashboard or with ``albumreg review approve``), then shows both results side
by side. Run by a person (neither ``auto_approve`` nor JSON), the local cloud and the dashboard
then stay up, with links to the upload's pages, until Ctrl-C. Exit status 0 only when both
workflows completed.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from albumreg.cli.invocation import cli_command
from albumreg.cli.workflow_costs import cost_fields, cost_table, wait_for_metrics
from albumreg.client.console import table
from albumreg.client.tracking import GRACE_SECONDS, approve, is_final
from albumreg.client.uploads import key_for, upload_image
from albumreg.cloud.fake_discogs import Knobs
from albumreg.cloud.local_cloud import CloudOptions, LocalCloud, PortInUseError, check_port_free
from albumreg.dashboard.launch import dashboard_command, dashboard_env
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.adapters.histories import read_timeline
from handlers.domain.models import FINAL_STATUSES, ReviewState, WorkflowStatus
from handlers.domain.names import STEP_LABELS, Step
from handlers.domain.records import UploadRecord
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.timeline import Timeline
from handlers.domain.workflow_metrics import WorkflowMetrics
from handlers.wiring import Dependencies

DEMO_REVIEW_TIMEOUT_SECONDS = 600
"""Long enough for a person to review in the dashboard; the workflows go on after it."""
POLL_SECONDS = 0.25
STEP_NAMES = frozenset(step.value for step in Step)


@dataclass(frozen=True)
class DemoOptions:
    """What ``albumreg demo`` was asked to do."""

    image: Path = SAMPLE_PHOTO
    auto_approve: bool = False
    as_json: bool = False
    review_timeout_seconds: int = DEMO_REVIEW_TIMEOUT_SECONDS
    price_latency: float = 0.0
    price_fault_rate: float = 0.0
    port_base: int = 4566
    env_file: Path = Path(".albumreg") / "local.env"
    dashboard_port: int | None = 8501
    data_dir: Path | None = None
    fresh: bool = False

    @property
    def stays_open(self) -> bool:
        """A person ran it: keep the cloud and the dashboard up after the table."""
        return not self.auto_approve and not self.as_json


def demo_key(image: Path, now: datetime) -> str:
    """A key of its own for each run: the same photo under one key is one upload (a duplicate)."""
    plain = key_for(image)
    stem, dot, suffix = plain.rpartition(".")
    stamp = now.strftime("%Y%m%d-%H%M%S-%f")
    return f"{stem}-{stamp}{dot}{suffix}" if dot else f"{plain}-{stamp}"


@dataclass
class _Progress:
    """What has been said about one pattern, so each change is printed once."""

    reported: set[tuple[str, str]] = field(default_factory=set)
    execution_id: str | None = None
    approved: bool = False
    timeline: Timeline | None = None
    record: UploadRecord | None = None
    metrics: WorkflowMetrics | None = None


class Demo:
    """One demo run; ``say`` receives progress lines (stderr when printing JSON)."""

    def __init__(self, options: DemoOptions, say: Callable[[str], None]) -> None:
        self.options = options
        self.say = say
        self.started = time.monotonic()
        self.progress = {pattern: _Progress() for pattern in PATTERNS}

    def _log(self, pattern: Pattern | None, text: str) -> None:
        label = f"{pattern.value:<4}" if pattern else "    "
        self.say(f"{time.monotonic() - self.started:6.1f}s  {label}{text}")

    def run(self, cloud: LocalCloud) -> dict[str, Any]:
        """Upload, follow both workflows to the end, return the JSON document."""
        deps = cloud.dependencies
        key = demo_key(self.options.image, datetime.now(UTC))
        uploaded = upload_image(deps.client("s3"), cloud.target.bucket, self.options.image, key)
        self._log(None, f"uploaded {uploaded.key} (upload {uploaded.upload_id})")
        if not self.options.auto_approve:
            self._explain_review(uploaded.upload_id)
        deadline = self.started + self.options.review_timeout_seconds + GRACE_SECONDS
        while time.monotonic() < deadline:
            for pattern in PATTERNS:
                self._poll(pattern, uploaded.upload_id, deps)
            if all(self._final(p) for p in PATTERNS):
                break
            time.sleep(POLL_SECONDS)
        # Each ended workflow's collector run writes its cost a moment after the end.
        ended = [p for p in PATTERNS if self._final(p)]
        for pattern, metrics in wait_for_metrics(deps.repo, uploaded.upload_id, ended).items():
            self.progress[pattern].metrics = metrics
        return self._document(uploaded.upload_id)

    def _final(self, pattern: Pattern) -> bool:
        progress = self.progress[pattern]
        return is_final(progress.record, progress.timeline)

    def _poll(self, pattern: Pattern, upload_id: str, deps: Dependencies) -> None:
        progress = self.progress[pattern]
        if self._final(pattern):
            return
        record = deps.repo.get_upload(pattern, upload_id)
        progress.record = record
        if record is None or record.summary.execution_id is None:
            return
        progress.execution_id = record.summary.execution_id
        timeline = read_timeline(
            pattern,
            progress.execution_id,
            sfn=deps.client("stepfunctions"),
            lambda_client=deps.client("lambda"),
        )
        if timeline is not None:
            progress.timeline = timeline
            self._report_steps(pattern, timeline)
        review = record.review
        if review is not None and review.state is ReviewState.OPEN:
            self._once(pattern, "review", "open", "waiting for a person to review the years")
            if self.options.auto_approve and not progress.approved:
                self._approve(pattern, upload_id, deps)
        if record.summary.status in FINAL_STATUSES:
            self._once(pattern, "status", record.summary.status.value, self._verdict(record))

    def _report_steps(self, pattern: Pattern, timeline: Timeline) -> None:
        for span in timeline.steps:
            if span.name not in STEP_NAMES and not span.name.startswith("record-"):
                continue
            label = (
                STEP_LABELS.get(Step(span.name), span.name) if span.name in set(Step) else span.name
            )
            self._once(pattern, span.name, "started", f"{label}: started")
            if span.seconds is not None:
                self._once(pattern, span.name, "done", f"{label}: done in {span.seconds:.2f}s")

    def _once(self, pattern: Pattern, subject: str, state: str, text: str) -> None:
        reported = self.progress[pattern].reported
        if (subject, state) not in reported:
            reported.add((subject, state))
            self._log(pattern, text)

    def _approve(self, pattern: Pattern, upload_id: str, deps: Dependencies) -> None:
        problem = approve(pattern, upload_id, deps, "albumreg demo --auto-approve")
        if problem is None:
            self._log(pattern, "review approved (--auto-approve)")
        else:
            self._log(pattern, f"could not approve: {problem}")
        self.progress[pattern].approved = True

    def _explain_review(self, upload_id: str) -> None:
        albumreg = cli_command()
        self.say(
            "\nA person confirms or corrects the years now. In another terminal, here:\n"
            f"  {albumreg} review list\n"
            f"  {albumreg} review approve {upload_id} --year SLOT=YEAR   (or: reject)\n"
            "or use the dashboard (its address is above)\n"
            f"Without an answer the workflows go on after {self.options.review_timeout_seconds}s.\n"
        )

    @staticmethod
    def _verdict(record: UploadRecord) -> str:
        summary = record.summary
        if summary.status is WorkflowStatus.COMPLETED:
            priced = sum(1 for album in record.albums if album.price is not None)
            return f"COMPLETED: {priced} of {len(record.albums)} albums priced"
        return f"{summary.status.value}: {summary.error or ''} {summary.cause or ''}".strip()

    def _document(self, upload_id: str) -> dict[str, Any]:
        return {
            "upload_id": upload_id,
            **{pattern.value: self._pattern_document(pattern) for pattern in PATTERNS},
        }

    def _pattern_document(self, pattern: Pattern) -> dict[str, Any]:
        progress = self.progress[pattern]
        record, timeline = progress.record, progress.timeline
        status = record.summary.status.value if record else "NOT_STARTED"
        if record is not None and record.summary.status not in FINAL_STATUSES:
            status = f"UNFINISHED ({status})"
        return {
            "status": status,
            "execution_id": progress.execution_id,
            "review": record.review.state.value if record and record.review else None,
            "error": record.summary.error if record else None,
            "timings": _timings(pattern, timeline),
            **cost_fields(progress.metrics),
            "albums": [
                {
                    "slot": album.slot,
                    "title": album.title,
                    "artist": album.artist,
                    "year": album.year,
                    "extracted_year": album.extracted_year,
                    "price": _number(album.price),
                    "currency": album.currency,
                    "confidence": album.price_confidence,
                    "error": album.price_error,
                }
                for album in (record.albums if record else [])
            ],
        }


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _timings(pattern: Pattern, timeline: Timeline | None) -> dict[str, Any]:
    if timeline is None:
        return {}
    return {
        "total_seconds": timeline.total_seconds,
        "active_seconds": timeline.active_seconds,
        "human_wait_seconds": timeline.human_wait_seconds,
        "parallel_efficiency": timeline.parallel_efficiency,
        "steps": timeline.step_seconds(),
        "billed_units": timeline.billed_units,
        "billed_unit": pattern.billed_unit,
    }


def side_by_side(document: dict[str, Any]) -> str:
    """The final table: albums and prices per pattern, then timings."""
    sf, ldf = document["sf"], document["ldf"]
    by_slot: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {
        slot: (
            next((a for a in sf["albums"] if a["slot"] == slot), {}),
            next((a for a in ldf["albums"] if a["slot"] == slot), {}),
        )
        for slot in range(1, 7)
    }
    rows = []
    for slot, (left, right) in by_slot.items():
        album = left or right
        rows.append(
            (
                slot,
                album.get("artist"),
                album.get("title"),
                _year(left),
                _year(right),
                _price(left),
                _price(right),
            )
        )
    albums = table(
        ("slot", "artist", "title", "year sf", "year ldf", "price sf", "price ldf"), rows
    )
    stats = []
    for pattern in PATTERNS:
        part = document[pattern.value]
        timings = part["timings"]
        stats.append(
            (
                pattern.label,
                part["status"],
                _seconds(timings.get("active_seconds")),
                _seconds(timings.get("human_wait_seconds")),
                f"{timings.get('billed_units', '-')} {timings.get('billed_unit', '')}".strip(),
            )
        )
    runs = table(("pattern", "status", "active", "human wait", "billed"), stats)
    costs = cost_table({pattern: document[pattern.value] for pattern in PATTERNS})
    return f"{albums}\n\n{runs}\n\n{costs}"


def _year(album: dict[str, Any]) -> str | None:
    if not album:
        return None
    year, extracted = album.get("year"), album.get("extracted_year")
    return f"{year} (was {extracted})" if extracted and year != extracted else str(year or "-")


def _price(album: dict[str, Any]) -> str | None:
    if not album:
        return None
    if album.get("price") is None:
        return f"- ({album.get('error') or 'no price'})"[:40]
    return f"{album['price']:.2f} {album.get('currency') or ''}".strip()


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


@contextlib.contextmanager
def _dashboard(options: DemoOptions, say: Callable[[str], None]) -> Iterator[str | None]:
    """The dashboard as a child process while a person takes part; stopped after.

    Yields:
        Its address, or None when it was not started (``auto_approve``, or the port is taken).
    """
    if options.auto_approve or options.dashboard_port is None:
        yield None
        return
    try:
        check_port_free("127.0.0.1", options.dashboard_port)
    except PortInUseError:
        say(f"port {options.dashboard_port} is taken: no dashboard; review with the CLI below")
        yield None
        return
    process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        dashboard_command(port=options.dashboard_port, headless=True),
        env=dashboard_env(options.env_file),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{options.dashboard_port}"
    say(f"dashboard: {url} (review there, or use the CLI)")
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def closing_links(dashboard: str | None, upload_id: str, data_dir: Path | None) -> list[str]:
    """What a person can open after the table: the upload's pages and the same data by CLI.

    The paths are the dashboard's page routes (``url_path`` in ``albumreg/dashboard/app.py``); the
    Albums page opens the upload named by ``?upload=``.
    """
    albumreg = cli_command()
    lines = ["", "The local cloud keeps running (Ctrl-C to stop):"]
    if dashboard:
        lines += [
            f"  Albums:      {dashboard}/albums?upload={upload_id}",
            f"  Comparison:  {dashboard}/comparison",
        ]
    lines.append(f"  CLI:         {albumreg} uploads list   (in another terminal, here)")
    if data_dir is not None:
        lines.append(
            f"Its state is kept in {data_dir}: `{albumreg} local` shows it again after Ctrl-C."
        )
    return lines


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM (SIGTERM is handled only from the main thread)."""
    stopping = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopping.wait()


def run_demo(options: DemoOptions, out: TextIO, err: TextIO) -> int:
    """Run the demo: JSON or the table to ``out``; progress to ``err`` when printing JSON.

    When ``options.stays_open``, returns only after Ctrl-C (or SIGTERM).
    """
    progress_stream = err if options.as_json else out

    def say(line: str) -> None:
        print(line, file=progress_stream, flush=True)

    cloud_options = CloudOptions(
        port_base=options.port_base,
        review_timeout_seconds=options.review_timeout_seconds,
        pricing=Knobs(latency=options.price_latency, error_rate=options.price_fault_rate),
        env_file=options.env_file,
        data_dir=options.data_dir,
        fresh=options.fresh,
    )
    say("starting the local cloud on 127.0.0.1 ...")
    with LocalCloud(cloud_options) as cloud:
        say(f"local cloud ready (endpoints in {options.env_file})")
        with _dashboard(options, say) as dashboard:
            document = Demo(options, say).run(cloud)
            if options.as_json:
                print(json.dumps(document, indent=2), file=out, flush=True)
            else:
                print("\n" + side_by_side(document), file=out, flush=True)
            if options.stays_open:
                for line in closing_links(dashboard, document["upload_id"], options.data_dir):
                    say(line)
                _wait_for_stop()
                say("stopping")
    completed = all(document[p.value]["status"] == "COMPLETED" for p in PATTERNS)
    return 0 if completed else 1
