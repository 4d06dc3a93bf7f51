"""The Executions page's data and chart, as plain functions (no Streamlit).

Which uploads can be inspected (every status, both patterns, newest first, failures first),
both executions of one of them (``albumreg.client.inspector``), and the Altair chart that lays their
attempts, failures and retry delays on one time axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt

from albumreg.client.inspector import Bar, Inspection, history_reader, inspect_upload
from albumreg.dashboard.charts import Figure
from albumreg.dashboard.data import Backend, UploadRow, list_uploads, merge_uploads
from handlers.domain.models import WorkflowStatus
from handlers.domain.tenant import PATTERNS

KIND_COLOURS: dict[str, str] = {
    "attempt": "#2E7D32",
    "failed attempt": "#C62828",
    "retry delay": "#9E9E9E",
    "waiting": "#CFD8DC",
    "operation": "#90CAF9",
}
"""A failure is red and a wait grey whichever orchestrator shows it; the rows name the
orchestrator, so its own colour is not needed here."""

ROW_PX = 18
FRAME_PX = 40


def inspectable_uploads(backend: Backend, limit: int) -> list[UploadRow]:
    """Uploads of both patterns in every status, newest first, those that failed first.

    One Query on the status index per pattern and status.
    """
    summaries = [
        summary
        for pattern in PATTERNS
        for status in WorkflowStatus
        for summary in list_uploads(backend, pattern, status, limit)
    ]
    rows = merge_uploads(summaries)
    failed = [row for row in rows if WorkflowStatus.FAILED in row.statuses.values()]
    return failed + [row for row in rows if row not in failed]


def inspection(backend: Backend, upload_id: str) -> Inspection:
    """Both executions of one upload, with console links when the system runs on AWS."""
    deps = backend.deps
    read = history_reader(deps.client("stepfunctions"), deps.client("lambda"))
    region = None if backend.target.is_local else backend.target.region
    return inspect_upload(deps.repo, read, upload_id, region=region)


def execution_chart(bars: Sequence[Bar]) -> Figure:
    """Every attempt and retry delay of both executions, one row per operation, one time axis.

    Faceted by orchestrator with a shared x scale, so the same second lines up in both.
    """
    rows: list[dict[str, Any]] = [
        {
            "pattern": bar.pattern.label,
            "row": bar.row,
            "order": bar.order,
            "start": bar.start,
            "end": bar.end,
            "seconds": bar.end - bar.start,
            "kind": bar.kind,
            "detail": bar.detail,
        }
        for bar in bars
    ]
    per_pattern = max(
        (len({bar.row for bar in bars if bar.pattern is pattern}) for pattern in PATTERNS),
        default=1,
    )
    chart = (
        alt.Chart({"values": rows})
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("start:Q", title="seconds since the first execution started"),
            x2="end:Q",
            y=alt.Y("row:N", title=None, sort=alt.SortField("order")),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=list(KIND_COLOURS), range=list(KIND_COLOURS.values())),
            ),
            tooltip=[
                alt.Tooltip("pattern:N", title="Orchestrator"),
                alt.Tooltip("row:N", title="Operation"),
                alt.Tooltip("detail:N", title="What"),
                alt.Tooltip("start:Q", title="start (s)", format=".3f"),
                alt.Tooltip("seconds:Q", title="duration (s)", format=".3f"),
            ],
        )
        .properties(height=FRAME_PX + ROW_PX * per_pattern)
    )
    faceted: alt.FacetChart = chart.facet(
        row=alt.Row("pattern:N", title=None, sort=[p.label for p in PATTERNS])
    ).resolve_scale(y="independent")
    return faceted
