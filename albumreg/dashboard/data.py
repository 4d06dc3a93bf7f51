"""What the dashboard shows, read as plain data: reviews, uploads side by side, execution timings.

Every listing is a Query on the status index (never a Scan). Timings prefer the numbers an
execution stored in its METRICS item and fall back to the orchestrator's own history. Must not
import Streamlit: ``albumreg.dashboard.cached`` adds the caching, ``albumreg.dashboard.app`` the
page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from statistics import median

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from albumreg.client.connect import connect as connect_to_target
from albumreg.client.target import Target
from albumreg.client.uploads import Uploaded, key_for, upload_bytes
from albumreg.dashboard.settings import DASHBOARD_THUMBNAIL_PX
from handlers.adapters.histories import read_timeline
from handlers.adapters.recognition.image import decode_image
from handlers.domain.errors import AlbumRegError
from handlers.domain.models import ReviewState, WorkflowStatus
from handlers.domain.names import (
    RECORD_FAILURE,
    RECORD_REJECTION,
    RECORD_TIMEOUT,
    STEP_LABELS,
    Step,
)
from handlers.domain.records import ReviewRecord, StoredAlbum, UploadRecord, UploadSummary
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.timeline import Timeline
from handlers.domain.workflow_metrics import WorkflowMetrics
from handlers.wiring import Dependencies

SUPPORTING_STEPS: tuple[str, ...] = (RECORD_TIMEOUT, RECORD_REJECTION, RECORD_FAILURE)

TimelineReader = Callable[[Pattern, str], Timeline | None]


@dataclass(frozen=True)
class Backend:
    """The running system the dashboard looks at, and how to read execution histories."""

    target: Target
    deps: Dependencies
    timelines: TimelineReader


def connect(session: boto3.session.Session | None = None) -> Backend:
    """Find the local cloud or the deployed stack and build clients for it.

    Args:
        session: a boto3 session to build every client from (the benchmark passes one that
            counts DynamoDB calls); a new one by default.

    Raises:
        TargetError: nothing is running; the message says how to start it.
    """
    connection = connect_to_target(session=session)
    return Backend(connection.target, connection.deps, history_reader(connection.deps))


def history_reader(deps: Dependencies) -> TimelineReader:
    """Read timelines from the orchestrators; a history that is gone reads as None.

    Histories expire (the durable service keeps them for days) and the local cloud keeps no
    Step Functions history across a restart, while the table remembers the executions: neither
    is an error here.
    """

    def read(pattern: Pattern, execution_arn: str) -> Timeline | None:
        try:
            return read_timeline(
                pattern,
                execution_arn,
                sfn=deps.client("stepfunctions"),
                lambda_client=deps.client("lambda"),
            )
        except (ClientError, BotoCoreError):
            return None

    return read


# --- pending reviews -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewGroup:
    """The open reviews of one upload: one per pattern still waiting for a person."""

    upload_id: str
    requested_at: datetime
    reviews: dict[Pattern, ReviewRecord]


def open_review_groups(backend: Backend, limit: int) -> list[ReviewGroup]:
    """Open reviews of both patterns grouped by upload, newest first (two Queries)."""
    by_upload: dict[str, dict[Pattern, ReviewRecord]] = {}
    for pattern in PATTERNS:
        for review in backend.deps.repo.list_open_reviews(pattern, limit=limit):
            by_upload.setdefault(review.upload_id, {})[pattern] = review
    groups = [
        ReviewGroup(upload_id, max(r.requested_at for r in reviews.values()), reviews)
        for upload_id, reviews in by_upload.items()
    ]
    return sorted(groups, key=lambda group: group.requested_at, reverse=True)


@dataclass(frozen=True)
class ReviewCard:
    """One upload as the reviewer sees it: where its photo is, and each pattern's review."""

    upload_id: str
    bucket: str | None
    key: str | None
    reviews: dict[Pattern, ReviewRecord | None]


def review_card(backend: Backend, group: ReviewGroup) -> ReviewCard:
    """Complete a group with the reviews no longer open, and the photo's location.

    GetItem only (one for the upload, one per side not in the open list): a card costs the
    same however large the table grows.
    """
    repo = backend.deps.repo
    reviews: dict[Pattern, ReviewRecord | None] = {
        pattern: group.reviews.get(pattern) or repo.get_review(pattern, group.upload_id)
        for pattern in PATTERNS
    }
    summary = repo.get_summary(next(iter(group.reviews)), group.upload_id)
    return ReviewCard(
        group.upload_id,
        summary.bucket if summary else None,
        summary.key if summary else None,
        reviews,
    )


@dataclass(frozen=True)
class ReviewStatus:
    """Whether a person can still decide one pattern's review, and how to say so."""

    label: str
    approvable: bool
    seconds_left: float | None = None


def review_status(review: ReviewRecord | None, now: datetime) -> ReviewStatus:
    """OPEN and before its deadline is approvable; anything else says why not."""
    if review is None:
        return ReviewStatus("not waiting for review", approvable=False)
    if review.state is ReviewState.OPEN:
        left = (review.expires_at - now).total_seconds()
        if left <= 0:
            return ReviewStatus("timed out", approvable=False, seconds_left=0.0)
        return ReviewStatus("open", approvable=True, seconds_left=left)
    names = {
        ReviewState.APPROVED: "approved",
        ReviewState.REJECTED: "rejected",
        ReviewState.TIMED_OUT: "timed out",
    }
    return ReviewStatus(names.get(review.state, review.state.value.lower()), approvable=False)


def thumbnail(backend: Backend, bucket: str, key: str) -> bytes | None:
    """A small JPEG of the uploaded photo, or None when it cannot be read."""
    try:
        photo = backend.deps.images.read(bucket, key, backend.deps.settings.max_image_bytes)
    except (AlbumRegError, ClientError, BotoCoreError):
        return None
    return preview(photo)


def preview(photo: bytes) -> bytes | None:
    """A small JPEG of untrusted photo bytes, or None when they are not an image we read.

    The same checks as the workflows' (size, pixels, format, corruption), so a file the
    browser offers is never handed to an image decoder unchecked.
    """
    try:
        image = decode_image(photo, long_edge=DASHBOARD_THUMBNAIL_PX)
    except AlbumRegError:
        return None
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


# --- albums side by side ---------------------------------------------------------------------


@dataclass(frozen=True)
class UploadRow:
    """One upload in the listing: its status in each pattern."""

    upload_id: str
    key: str
    received_at: datetime
    statuses: dict[Pattern, WorkflowStatus]
    errors: dict[Pattern, str]


def list_uploads(
    backend: Backend, pattern: Pattern, status: WorkflowStatus, limit: int
) -> list[UploadSummary]:
    """The newest ``limit`` uploads of one pattern in one status (one Query on the index)."""
    return backend.deps.repo.list_uploads(pattern, status, limit=limit)


def merge_uploads(
    summaries: Iterable[UploadSummary], since: date | None = None, until: date | None = None
) -> list[UploadRow]:
    """One row per upload, both patterns side by side, newest first, within the dates given."""
    by_upload: dict[str, dict[Pattern, UploadSummary]] = {}
    for summary in summaries:
        by_upload.setdefault(summary.upload_id, {})[summary.pattern] = summary
    rows = []
    for upload_id, by_pattern in by_upload.items():
        first = min(by_pattern.values(), key=lambda summary: summary.received_at)
        day = first.received_at.date()
        if (since and day < since) or (until and day > until):
            continue
        rows.append(
            UploadRow(
                upload_id=upload_id,
                key=first.key,
                received_at=first.received_at,
                statuses={p: s.status for p, s in by_pattern.items()},
                errors={p: s.error for p, s in by_pattern.items() if s.error},
            )
        )
    return sorted(rows, key=lambda row: row.received_at, reverse=True)


def upload_pair(backend: Backend, upload_id: str) -> dict[Pattern, UploadRecord | None]:
    """Both patterns' records of one upload (one Query each)."""
    return {pattern: backend.deps.repo.get_upload(pattern, upload_id) for pattern in PATTERNS}


COMPARED_FIELDS: tuple[str, ...] = (
    "title",
    "artist",
    "year",
    "price",
    "currency",
    "price_confidence",
    "price_error",
)


@dataclass(frozen=True)
class AlbumPair:
    """One slot of one upload in both patterns, and the fields where they disagree."""

    slot: int
    albums: dict[Pattern, StoredAlbum | None]
    differences: frozenset[str]


def album_pairs(pair: Mapping[Pattern, UploadRecord | None]) -> list[AlbumPair]:
    """Slot by slot, the two patterns' albums; a slot one side lacks differs in every field."""
    by_pattern = {
        pattern: {album.slot: album for album in record.albums} if record else {}
        for pattern, record in pair.items()
    }
    slots = sorted({slot for albums in by_pattern.values() for slot in albums})
    pairs = []
    for slot in slots:
        albums = {pattern: by_pattern[pattern].get(slot) for pattern in PATTERNS}
        present = [album for album in albums.values() if album is not None]
        if len(present) < len(PATTERNS):
            differences = frozenset(COMPARED_FIELDS)
        else:
            differences = frozenset(
                name
                for name in COMPARED_FIELDS
                if len({getattr(album, name) for album in present}) > 1
            )
        pairs.append(AlbumPair(slot, albums, differences))
    return pairs


# --- execution timings -----------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutionMetrics:
    """What one completed execution spent, from its stored metrics or its history.

    Attributes:
        source: ``stored`` (the METRICS item) or ``history`` (read from the orchestrator).
        cost: USD per component when the execution stored a cost breakdown, else None.
    """

    pattern: Pattern
    upload_id: str
    execution_id: str | None
    received_at: datetime
    source: str
    active_seconds: float
    human_wait_seconds: float
    step_seconds: dict[str, float]
    billed_units: int | None
    parallel_efficiency: float | None
    cost: dict[str, float] | None = None


def _floats(values: Mapping[str, Decimal]) -> dict[str, float]:
    return {name: float(value) for name, value in values.items()}


def stored_metrics(
    summary: UploadSummary, metrics: WorkflowMetrics | None
) -> ExecutionMetrics | None:
    """The timings an execution stored, or None when it stored none (not collected yet)."""
    if metrics is None or metrics.active_seconds is None:
        return None
    return ExecutionMetrics(
        pattern=summary.pattern,
        upload_id=summary.upload_id,
        execution_id=summary.execution_id,
        received_at=summary.received_at,
        source="stored",
        active_seconds=metrics.active_seconds,
        human_wait_seconds=metrics.human_wait_seconds or 0.0,
        step_seconds=dict(metrics.step_seconds),
        billed_units=metrics.billed_units,
        parallel_efficiency=metrics.parallel_efficiency,
        cost=_floats(metrics.cost) or None,
    )


def timeline_metrics(summary: UploadSummary, timeline: Timeline) -> ExecutionMetrics | None:
    """The same numbers read from a history; None while the execution has not ended."""
    active = timeline.active_seconds
    if active is None:
        return None
    return ExecutionMetrics(
        pattern=summary.pattern,
        upload_id=summary.upload_id,
        execution_id=summary.execution_id,
        received_at=summary.received_at,
        source="history",
        active_seconds=active,
        human_wait_seconds=timeline.human_wait_seconds,
        step_seconds=timeline.step_seconds(),
        billed_units=timeline.billed_units,
        parallel_efficiency=timeline.parallel_efficiency,
    )


def execution_metrics(
    backend: Backend, completed: Sequence[UploadSummary]
) -> list[ExecutionMetrics]:
    """Timings of the given completed uploads, in the order given.

    The stored metrics come in one BatchGetItem per hundred uploads and pattern; an
    execution that stored no timings is read from its orchestrator's history instead.
    """
    stored: dict[tuple[Pattern, str], WorkflowMetrics] = {}
    for pattern in PATTERNS:
        ids = [summary.upload_id for summary in completed if summary.pattern is pattern]
        if ids:
            found = backend.deps.repo.get_metrics(pattern, ids)
            stored |= {(pattern, upload_id): item for upload_id, item in found.items()}
    measured = []
    for summary in completed:
        metrics = stored.get((summary.pattern, summary.upload_id))
        found_metrics = stored_metrics(summary, metrics)
        if found_metrics is None and summary.execution_id:
            timeline = backend.timelines(summary.pattern, summary.execution_id)
            found_metrics = timeline_metrics(summary, timeline) if timeline else None
        if found_metrics is not None:
            measured.append(found_metrics)
    return measured


@dataclass(frozen=True)
class Outcomes:
    """How the newest finished uploads of one pattern ended (rejections are not counted)."""

    pattern: Pattern
    completed: int
    failed: int

    @property
    def success_rate(self) -> float | None:
        """Completed over completed plus failed; None before anything finished."""
        decided = self.completed + self.failed
        return self.completed / decided if decided else None


def recent_outcomes(
    completed: Sequence[UploadSummary], failed: Sequence[UploadSummary], window: int
) -> list[Outcomes]:
    """Per pattern, how the newest ``window`` of its completed or failed uploads ended.

    A reviewer's rejection is a decision, not a failure of the orchestrator: left out.
    """
    outcomes = []
    for pattern in PATTERNS:
        finished = [s for s in (*completed, *failed) if s.pattern is pattern]
        finished.sort(key=lambda summary: summary.updated_at, reverse=True)
        newest = finished[:window]
        done = sum(1 for summary in newest if summary.status is WorkflowStatus.COMPLETED)
        outcomes.append(Outcomes(pattern, done, len(newest) - done))
    return outcomes


@dataclass(frozen=True)
class PatternSummary:
    """Headline numbers of one pattern over the executions measured."""

    pattern: Pattern
    executions: int
    median_active_seconds: float | None
    median_billed_units: float | None
    median_parallel_efficiency: float | None


def _median(values: Sequence[float]) -> float | None:
    return median(values) if values else None


def summarize(measured: Sequence[ExecutionMetrics]) -> list[PatternSummary]:
    """Medians per pattern: robust to the odd slow cold start."""
    summaries = []
    for pattern in PATTERNS:
        mine = [m for m in measured if m.pattern is pattern]
        summaries.append(
            PatternSummary(
                pattern,
                len(mine),
                _median([m.active_seconds for m in mine]),
                _median([float(m.billed_units) for m in mine if m.billed_units is not None]),
                _median([m.parallel_efficiency for m in mine if m.parallel_efficiency is not None]),
            )
        )
    return summaries


def step_name_label(name: str) -> str:
    """The dashboard label of a step name (``Extract albums``), or the name itself."""
    try:
        return STEP_LABELS[Step(name)]
    except ValueError:
        return name


@dataclass(frozen=True)
class TimelineBar:
    """One span of the chosen upload's timeline, in seconds from the earlier start."""

    pattern: Pattern
    row: str
    order: int
    start: float
    end: float
    kind: str = "step"


@dataclass(frozen=True)
class UploadTimelines:
    """Both executions of one upload, as bars on a shared time axis."""

    upload_id: str
    bars: list[TimelineBar] = field(default_factory=list)
    missing: list[Pattern] = field(default_factory=list)


def upload_timelines(
    backend: Backend, upload_id: str, execution_ids: Mapping[Pattern, str]
) -> UploadTimelines:
    """Read both histories of one upload and lay their steps on one axis."""
    timelines: dict[Pattern, Timeline] = {}
    missing = []
    for pattern in PATTERNS:
        arn = execution_ids.get(pattern)
        timeline = backend.timelines(pattern, arn) if arn else None
        if timeline is None:
            missing.append(pattern)
        else:
            timelines[pattern] = timeline
    return UploadTimelines(upload_id, timeline_bars(timelines), missing)


def timeline_bars(timelines: Mapping[Pattern, Timeline]) -> list[TimelineBar]:
    """Steps and price agents of each timeline, from the earliest start of all of them.

    Unfinished spans end at the latest moment either history reached, so a running
    execution still shows where it is.
    """
    if not timelines:
        return []
    origin = min(timeline.started_at for timeline in timelines.values())
    moments = [
        moment
        for timeline in timelines.values()
        for span in (*timeline.steps, *timeline.agents)
        for moment in (span.start, span.end)
        if moment is not None
    ]
    horizon = max(moments, default=origin)
    # Rows in workflow order, each step leaving room for the agents under it; the supporting
    # steps (record-*) go last, and Step Functions' control states (Choice, Pass) are left out:
    # they do no work, and the durable workflow has nothing to match them.
    order = {step.value: index * 10 for index, step in enumerate(Step)}
    order |= {name: 100 + index for index, name in enumerate(SUPPORTING_STEPS)}
    bars = []
    for pattern, timeline in timelines.items():
        for span in timeline.steps:
            if span.name not in order:
                continue
            end = span.end or horizon
            bars.append(
                TimelineBar(
                    pattern,
                    step_name_label(span.name),
                    order[span.name],
                    (span.start - origin).total_seconds(),
                    (end - origin).total_seconds(),
                    "wait" if span.name == Step.REVIEW else "step",
                )
            )
        for index, span in enumerate(sorted(timeline.agents, key=lambda s: s.start), start=1):
            end = span.end or horizon
            bars.append(
                TimelineBar(
                    pattern,
                    f"Price agent {index}",
                    order[Step.PRICE] + index,
                    (span.start - origin).total_seconds(),
                    (end - origin).total_seconds(),
                    "agent",
                )
            )
    return bars


# --- upload ----------------------------------------------------------------------------------


def upload_photo(backend: Backend, photo: bytes, file_name: str) -> Uploaded:
    """Put a photo from the browser into the bucket, checked as ``albumreg upload`` checks it.

    Raises:
        InvalidImageError: not an image we can read.
        InvalidUploadError: the file name makes no acceptable key.
    """
    key = key_for(Path(file_name), backend.deps.settings.upload_prefix)
    return upload_bytes(backend.deps.client("s3"), backend.target.bucket, photo, key)


@dataclass(frozen=True)
class Place:
    """One place where part of the system lives, for the reader to find it."""

    what: str
    name: str
    link: str | None = None


def places(target: Target, upload_prefix: str) -> list[Place]:
    """Where uploads land and where both workflows run, with AWS console links on AWS."""
    region = target.region
    console = f"https://{region}.console.aws.amazon.com"
    local = target.is_local
    function = target.durable_function
    return [
        Place(
            "Uploads bucket",
            f"s3://{target.bucket}/{upload_prefix}",
            None
            if local
            else f"https://s3.console.aws.amazon.com/s3/buckets/{target.bucket}"
            f"?region={region}&prefix={upload_prefix}",
        ),
        Place(
            "Step Functions state machine",
            target.state_machine_arn,
            None
            if local
            else f"{console}/states/home?region={region}#/statemachines/view/"
            f"{target.state_machine_arn}",
        ),
        Place(
            "Durable function",
            function,
            None if local else f"{console}/lambda/home?region={region}#/functions/{function}",
        ),
        Place("DynamoDB table", target.table_name),
        *(
            Place(f"Local endpoint ({name.removeprefix('AWS_ENDPOINT_URL_')})", url)
            for name, url in sorted(target.endpoints.items())
            if name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_LAMBDA")
        ),
    ]


# --- cost per workflow -----------------------------------------------------------------------


@dataclass(frozen=True)
class WorkflowCost:
    """What one finished workflow cost, as the collector stored it in its METRICS item.

    Attributes:
        status: how the workflow ended (completed, rejected or failed).
        components: USD per component of ``handlers.domain.cost.Component``.
        orchestration_usd: what depends on the orchestrator (the components not shared).
        shared_usd: what both pay alike (``handlers.domain.cost.SHARED_COMPONENTS``).
        total_usd: everything.
    """

    pattern: Pattern
    upload_id: str
    status: WorkflowStatus
    components: dict[str, float]
    orchestration_usd: float
    shared_usd: float
    total_usd: float


def workflow_costs(backend: Backend, finished: Sequence[UploadSummary]) -> list[WorkflowCost]:
    """The stored cost of each finished workflow given, in the order given.

    One BatchGetItem per hundred uploads and pattern; a workflow whose METRICS item holds no
    cost yet (the collector has not run) is left out, never estimated.
    """
    stored: dict[tuple[Pattern, str], WorkflowMetrics] = {}
    for pattern in PATTERNS:
        ids = [summary.upload_id for summary in finished if summary.pattern is pattern]
        if ids:
            found = backend.deps.repo.get_metrics(pattern, ids)
            stored |= {(pattern, upload_id): item for upload_id, item in found.items()}
    costs = []
    for summary in finished:
        metrics = stored.get((summary.pattern, summary.upload_id))
        if metrics is None or metrics.cost_total_usd is None:
            continue
        costs.append(
            WorkflowCost(
                pattern=summary.pattern,
                upload_id=summary.upload_id,
                status=summary.status,
                components=_floats(metrics.cost),
                orchestration_usd=float(metrics.cost_orchestration_usd or 0),
                shared_usd=float(metrics.cost_shared_usd or 0),
                total_usd=float(metrics.cost_total_usd),
            )
        )
    return costs
