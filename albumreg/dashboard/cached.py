"""Streamlit caching over ``albumreg.dashboard.data``: one backend per process, short reads.

Clients are a resource (``st.cache_resource``); reads are data (``st.cache_data``) with a TTL
from ``albumreg.dashboard.settings``, so a page redraw costs no AWS call and a new review still
shows up within seconds. Tests and the benchmark install their own backend with ``backend_factory``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import streamlit as st

from albumreg.dashboard.data import albums, cloudwatch, comparison, reviews
from albumreg.dashboard.data.backend import Backend, connect
from albumreg.dashboard.settings import (
    DASHBOARD_CACHE_TTL_SECONDS,
    DASHBOARD_LISTING_LIMIT,
    DASHBOARD_METRICS_TTL_SECONDS,
    DASHBOARD_OPEN_REVIEWS,
    DASHBOARD_TIMED_EXECUTIONS,
)
from handlers.domain.models import FINAL_STATUSES, WorkflowStatus
from handlers.domain.records import UploadRecord, UploadSummary
from handlers.domain.tenant import PATTERNS, Pattern

_factory: Callable[[], Backend] = connect


@contextmanager
def backend_factory(factory: Callable[[], Backend]) -> Iterator[None]:
    """Use ``factory`` instead of ``connect`` until the block ends; caches start empty."""
    global _factory  # noqa: PLW0603 - one backend per process is the point, as in handlers.wiring
    previous, _factory = _factory, factory
    clear()
    try:
        yield
    finally:
        _factory = previous
        clear()


def clear() -> None:
    """Forget every read and the backend: the refresh button, and between tests."""
    st.cache_data.clear()
    st.cache_resource.clear()


def clear_reads() -> None:
    """Forget the reads only: after a review was sent, the listings are stale."""
    st.cache_data.clear()


@st.cache_resource(show_spinner="Connecting to the running system...")
def backend() -> Backend:
    """The backend of this process (raises ``TargetError`` when nothing runs; not cached)."""
    return _factory()


@st.cache_data(ttl=DASHBOARD_CACHE_TTL_SECONDS, show_spinner=False)
def open_review_groups() -> list[reviews.ReviewGroup]:
    """Open reviews of both patterns, grouped by upload."""
    return reviews.open_review_groups(backend(), DASHBOARD_OPEN_REVIEWS)


@st.cache_data(ttl=DASHBOARD_CACHE_TTL_SECONDS, show_spinner=False)
def review_card(group: reviews.ReviewGroup) -> reviews.ReviewCard:
    """Both patterns' review of one upload, and where its photo is."""
    return reviews.review_card(backend(), group)


@st.cache_data(ttl=DASHBOARD_METRICS_TTL_SECONDS, show_spinner=False, max_entries=64)
def thumbnail(bucket: str, key: str) -> bytes | None:
    """The photo, small (an object under one key never changes in meaning here)."""
    return reviews.thumbnail(backend(), bucket, key)


@st.cache_data(ttl=DASHBOARD_CACHE_TTL_SECONDS, show_spinner="Reading uploads...")
def uploads(pattern: Pattern, status: WorkflowStatus) -> list[UploadSummary]:
    """The newest uploads of one pattern in one status.

    Each pair is cached on its own, so the albums filters and the comparison share reads.
    """
    return albums.list_uploads(backend(), pattern, status, DASHBOARD_LISTING_LIMIT)


def upload_rows(
    statuses: tuple[WorkflowStatus, ...], since: date | None, until: date | None
) -> list[albums.UploadRow]:
    """The uploads listing of the albums page."""
    listings = [uploads(pattern, status) for pattern in PATTERNS for status in statuses]
    return albums.merge_uploads((s for listing in listings for s in listing), since, until)


@st.cache_data(ttl=DASHBOARD_CACHE_TTL_SECONDS, show_spinner=False)
def upload_pair(upload_id: str) -> dict[Pattern, UploadRecord | None]:
    """Both records of one upload."""
    return albums.upload_pair(backend(), upload_id)


@st.cache_data(ttl=DASHBOARD_METRICS_TTL_SECONDS, show_spinner="Reading execution timings...")
def execution_metrics() -> list[comparison.ExecutionMetrics]:
    """Timings of the newest completed executions of both patterns."""
    newest = [
        summary
        for pattern in PATTERNS
        for summary in uploads(pattern, WorkflowStatus.COMPLETED)[:DASHBOARD_TIMED_EXECUTIONS]
    ]
    return comparison.execution_metrics(backend(), newest)


def recent_outcomes() -> list[comparison.Outcomes]:
    """How the newest finished uploads ended (from the cached listings)."""
    completed = [s for p in PATTERNS for s in uploads(p, WorkflowStatus.COMPLETED)]
    failed = [s for p in PATTERNS for s in uploads(p, WorkflowStatus.FAILED)]
    return comparison.recent_outcomes(completed, failed, DASHBOARD_LISTING_LIMIT)


@st.cache_data(ttl=DASHBOARD_METRICS_TTL_SECONDS, show_spinner="Reading both histories...")
def upload_timelines(
    upload_id: str, execution_ids: dict[Pattern, str]
) -> comparison.UploadTimelines:
    """Both executions of one upload on a shared time axis."""
    return comparison.upload_timelines(backend(), upload_id, execution_ids)


@st.cache_data(ttl=DASHBOARD_METRICS_TTL_SECONDS, show_spinner="Reading stored costs...")
def finished_costs() -> list[comparison.WorkflowCost]:
    """Stored costs of the newest finished workflows of both patterns, whatever their end."""
    finished = [
        summary
        for pattern in PATTERNS
        for status in sorted(FINAL_STATUSES)
        for summary in uploads(pattern, status)
    ]
    return comparison.workflow_costs(backend(), finished)


@st.cache_data(ttl=DASHBOARD_METRICS_TTL_SECONDS, show_spinner="Reading CloudWatch...")
def cloudwatch_readings(window: str) -> cloudwatch.Readings:
    """Both namespaces over the named window (percentiles only where CloudWatch computes them)."""
    found = backend()
    return cloudwatch.read(
        found.deps.client("cloudwatch"),
        cloudwatch.WINDOWS[window],
        percentiles=not found.target.is_local,
    )
