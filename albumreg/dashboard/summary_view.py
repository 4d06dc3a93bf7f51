"""The Comparison page's opening table, drawn: one row per measure, the winner and the margin.

UI only; the rows come from ``albumreg.dashboard.data.summary``. Kept apart from the page script so
the page opens with one call.
"""

from __future__ import annotations

import streamlit as st

from albumreg.client.verdict import DEFAULT_VOLUME, VerdictRow
from albumreg.dashboard import cached
from albumreg.dashboard.data.summary import summary_rows
from albumreg.dashboard.settings import DASHBOARD_METRICS_TTL_SECONDS, DASHBOARD_TIMED_EXECUTIONS
from handlers.domain.models import WorkflowStatus
from handlers.domain.tenant import PATTERNS


@st.cache_data(ttl=DASHBOARD_METRICS_TTL_SECONDS, show_spinner="Reading stored metrics...")
def _rows(volume: int) -> list[VerdictRow]:
    completed = {
        pattern: cached.uploads(pattern, WorkflowStatus.COMPLETED)[:DASHBOARD_TIMED_EXECUTIONS]
        for pattern in PATTERNS
    }
    return summary_rows(cached.backend(), completed, volume)


def show_summary(volume: int = DEFAULT_VOLUME) -> None:
    """The answer first: which orchestrator wins each measure, and by how much."""
    rows = _rows(volume)
    st.subheader("The answer", anchor=False)
    st.dataframe(
        [
            {
                "measure": row.measure,
                **{pattern.label: row.values[pattern] for pattern in PATTERNS},
                "wins, by how much": row.verdict,
            }
            for row in rows
        ],
        hide_index=True,
        width="stretch",
    )
    st.caption(
        f"Lower wins on every row. From the stored metrics of the newest "
        f"{DASHBOARD_TIMED_EXECUTIONS} completed executions of each orchestrator; the report "
        "(albumreg report) adds the lines of code, the cost of failure and when the verdict "
        "flips."
    )
