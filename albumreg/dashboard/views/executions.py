"""Executions: both executions of one upload, every step with its attempts, errors and retries.

UI only. The data comes from ``albumreg.dashboard.data.executions`` and the chart from
``albumreg.dashboard.charts`` (over ``albumreg.client.inspector``), the same as ``albumreg inspect
UPLOAD_ID`` prints.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

from albumreg.client.inspector import Inspection, Side, operation_rows, outcome, time_axis
from albumreg.dashboard import cached
from albumreg.dashboard.charts import execution_chart
from albumreg.dashboard.data.albums import UploadRow
from albumreg.dashboard.data.executions import inspectable_uploads, inspection
from albumreg.dashboard.settings import DASHBOARD_CACHE_TTL_SECONDS, DASHBOARD_LISTING_LIMIT

# An execution's final status -> its badge colour; any other ending (failed, timed out,
# stopped) is red.
STATUS_COLOURS: dict[str, Literal["green", "blue", "red"]] = {
    "SUCCEEDED": "green",
    "RUNNING": "blue",
}


@st.cache_data(ttl=DASHBOARD_CACHE_TTL_SECONDS, show_spinner="Reading uploads...")
def _uploads() -> list[UploadRow]:
    return inspectable_uploads(cached.backend(), DASHBOARD_LISTING_LIMIT)


@st.cache_data(ttl=DASHBOARD_CACHE_TTL_SECONDS, show_spinner="Reading both histories...")
def _inspection(upload_id: str) -> Inspection:
    return inspection(cached.backend(), upload_id)


def _side(side: Side) -> None:
    with st.container(border=True):
        st.markdown(f"#### {side.pattern.label}")
        trace = side.trace
        if trace is None:
            st.badge(outcome(side), color="gray")
            return
        st.badge(trace.status.lower(), color=STATUS_COLOURS.get(trace.status, "red"))
        if trace.error:
            st.markdown(f"**{trace.error}**: {trace.cause or 'no message recorded'}")
        st.caption(f"Execution `{trace.execution_id}`")
        if side.console:
            st.link_button("Open in the AWS console", side.console, icon=":material/open_in_new:")
        retries = trace.retries
        cards = st.columns(3)
        cards[0].metric("Operations", len(trace.operations))
        cards[1].metric("Retries", sum(retries.values()))
        cards[2].metric("Failed attempts", len(trace.failed_attempts))
        st.dataframe(operation_rows(trace), hide_index=True, width="stretch")


def main() -> None:
    """The page."""
    st.title("Executions")
    st.caption(
        "Debugging a workflow: both executions of one upload, every state (Step Functions) or "
        "operation (durable functions) in the order it started, with its attempts, errors, "
        "causes and the delays before retries, as each orchestrator recorded them."
    )
    rows = _uploads()
    if not rows:
        st.info("No upload yet: upload a photo first.", icon=":material/hourglass_empty:")
        return
    by_id = {row.upload_id: row for row in rows}
    wanted = st.query_params.get("upload")
    chosen = st.selectbox(
        "Upload to inspect",
        list(by_id),
        index=list(by_id).index(wanted) if wanted in by_id else 0,
        format_func=lambda upload_id: (
            f"{by_id[upload_id].received_at:%Y-%m-%d %H:%M:%S}  {by_id[upload_id].key}  "
            + "  ".join(
                f"{pattern.value} {status.value.lower()}"
                for pattern, status in by_id[upload_id].statuses.items()
            )
            + f"  ({upload_id})"
        ),
        help="Uploads that failed in either orchestrator come first.",
    )
    if chosen is None:
        return
    st.query_params["upload"] = chosen
    found = _inspection(chosen)
    columns = st.columns(len(found.sides), gap="medium")
    for column, side in zip(columns, found.sides, strict=True):
        with column:
            _side(side)
    bars = time_axis(found)
    if bars:
        st.subheader("Attempts and retries on one time axis", anchor=False)
        st.altair_chart(execution_chart(bars), width="stretch")
        st.caption(
            "Green: an attempt that succeeded; red: one that failed; grey: the orchestrator "
            "waiting before the next attempt; pale grey: a task waiting for a person; blue: an "
            "operation that runs no code of ours (a Map, a Choice, a durable callback)."
        )
    if cached.backend().target.is_local:
        st.caption(
            "On the local cloud these histories come from emulators (moto's Step Functions, "
            "the durable testing SDK's control plane); on AWS each side links to the AWS "
            "console (the execution's page, or the durable function's page)."
        )


main()
