"""How ``albumreg bench`` watches a loaded system fairly: reviews, patience, cold starts, memory.

- ``Reviewer`` approves reviews from its own threads as soon as they open, so that under load
  the workflows are approved rather than timed out while the bench collects others' metrics.
- ``Patience`` tells a workflow that is late but still moving (``unfinished`` when the bench
  finally stops waiting) from one that stopped moving (``lost``).
- ``cold_start_figures`` reads the METRICS keys the metrics collector stores (``cold_starts``,
  ``init_durations_s``, ``cold_start_source``), the first workflow's beside the rest.
- ``MemoryPeak`` samples this process and its child processes (the local cloud's workers).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from albumreg.cloud.lambdas.service import resident_mb
from handlers.domain.ports import AlbumRepository
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics

logger = logging.getLogger(__name__)

REVIEW_POLL_SECONDS = 0.25
REVIEWERS = 8
"""Approvals in flight at once: each is a few API calls, mostly waiting on the network."""
STALL_SECONDS = 90.0
"""A late workflow is lost once neither it nor the run has progressed for this long."""
PATIENCE_SECONDS = 900.0
"""How long past its deadline the bench waits for a workflow that still progresses."""

Verdict = Literal["waiting", "lost", "unfinished"]


class Reviewer:
    """Decides open reviews from background threads, as soon as they appear.

    Args:
        repo: where open reviews are listed.
        patterns: the patterns to watch.
        claim: True for a review this run should decide (and only once).
        decide: the decision (approve, or a scenario's reject).
        limit: how many open reviews one listing returns.
    """

    def __init__(
        self,
        repo: AlbumRepository,
        patterns: Sequence[Pattern],
        claim: Callable[[Pattern, str], bool],
        decide: Callable[[Pattern, str], None],
        limit: int,
    ) -> None:
        self._repo = repo
        self._patterns = patterns
        self._claim = claim
        self._decide = decide
        self._limit = limit
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-reviewer", daemon=True)
        self.last_decision = time.monotonic()

    def __enter__(self) -> Reviewer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        with ThreadPoolExecutor(REVIEWERS, thread_name_prefix="bench-review") as pool:
            while not self._stop.wait(REVIEW_POLL_SECONDS):
                for pattern in self._patterns:
                    try:
                        reviews = self._repo.list_open_reviews(pattern, self._limit)
                    except (BotoCoreError, ClientError) as exc:
                        # A loaded local cloud may answer slowly: try again next round.
                        logger.warning("listing open reviews failed: %s", exc)
                        continue
                    for review in reviews:
                        if self._claim(pattern, review.upload_id):
                            pool.submit(self._one, pattern, review.upload_id)

    def _one(self, pattern: Pattern, upload_id: str) -> None:
        self._decide(pattern, upload_id)
        self.last_decision = time.monotonic()


@dataclass
class Patience:
    """Per workflow: has it progressed lately, and has the bench waited long enough?

    Attributes:
        deadline: when the workflow should have finished (review timeout plus grace).
        seen: its last seen status, per pattern.
        moved: when that status last changed, per pattern.
    """

    deadline: float
    seen: dict[Pattern, str] = field(default_factory=dict)
    moved: dict[Pattern, float] = field(default_factory=dict)

    def judge(self, pattern: Pattern, status: str, run_progressed: float, now: float) -> Verdict:
        """``waiting`` until the deadline and while anything moves; then lost or unfinished.

        Args:
            pattern: which of the workflow's two executions.
            status: its current status (``none`` before its record exists).
            run_progressed: when the run as a whole last progressed (a workflow finished, a
                review was decided): a late workflow queued behind others is not stuck.
            now: the monotonic time.
        """
        if self.seen.get(pattern) != status:
            self.seen[pattern] = status
            self.moved[pattern] = now
        if now <= self.deadline:
            return "waiting"
        recent = max(self.moved[pattern], run_progressed)
        if now - recent > STALL_SECONDS:
            return "lost"
        if now > self.deadline + PATIENCE_SECONDS:
            return "unfinished"
        return "waiting"


def cold_start_figures(completed: Sequence[WorkflowMetrics]) -> dict[str, Any]:
    """Cold starts and init time over completed workflows, the first one's beside the rest.

    None where no workflow carries cold starts (a collector that measures none).
    """
    measured = [w for w in completed if w.cold_starts is not None]
    first = first_started(completed)
    rest = [w for w in measured if w is not first]
    inits = [s for w in measured for s in w.init_durations_s]
    sources = sorted({w.cold_start_source for w in measured if w.cold_start_source})
    return {
        "cold_starts": sum(w.cold_starts or 0 for w in measured) if measured else None,
        "init_p50_s": _median(inits),
        "first_cold_starts": first.cold_starts if first is not None else None,
        "first_init_s": sum(first.init_durations_s)
        if first is not None and first.cold_starts is not None
        else None,
        "rest_cold_starts": sum(w.cold_starts or 0 for w in rest) if rest else None,
        "rest_active_p50_s": _median(
            [w.active_seconds for w in completed if w is not first and w.active_seconds is not None]
        ),
        "cold_start_source": "; ".join(sources) or None,
    }


def first_started(workflows: Sequence[WorkflowMetrics]) -> WorkflowMetrics | None:
    """The workflow that started first (its cold starts warm the others), or None for none."""
    started = [w for w in workflows if w.started_at is not None]
    return min(started, key=lambda w: w.started_at or datetime.max) if started else None


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


class MemoryPeak:
    """The highest resident memory of this process and its children, sampled when asked."""

    def __init__(self) -> None:
        self.peak_mb: float | None = None

    def sample(self) -> None:
        """Add this moment's figure (``/proc``, Linux; stays None elsewhere)."""
        pids = [os.getpid(), *(c.pid for c in multiprocessing.active_children() if c.pid)]
        total = resident_mb(pids)
        if total:
            self.peak_mb = max(self.peak_mb or 0.0, total)
