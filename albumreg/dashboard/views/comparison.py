"""Comparison: timings, success, parallelism, billed units, cost, and CloudWatch over a window.

UI only. Numbers come from ``albumreg.dashboard.cached`` (stored metrics first, else the
orchestrators' own histories; CloudWatch through ``GetMetricData``) and charts from
``albumreg.dashboard.charts``; nothing here computes or estimates.
"""

from __future__ import annotations

import streamlit as st

from albumreg.dashboard import cached, charts
from albumreg.dashboard.data.cloudwatch import SERIES, SUCCESS_RATE, WINDOWS, is_percentile
from albumreg.dashboard.data.comparison import ExecutionMetrics, Outcomes, summarize
from albumreg.dashboard.settings import DASHBOARD_LISTING_LIMIT, DASHBOARD_TIMED_EXECUTIONS
from albumreg.dashboard.summary_view import show_summary
from handlers.domain.cost import SHARED_COMPONENTS, in_words
from handlers.domain.tenant import PATTERNS


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _headline(measured: list[ExecutionMetrics], outcomes: list[Outcomes]) -> None:
    rates = {o.pattern: o for o in outcomes}
    columns = st.columns(len(PATTERNS), gap="medium")
    for column, summary in zip(columns, summarize(measured), strict=True):
        pattern = summary.pattern
        rate = rates[pattern].success_rate if pattern in rates else None
        with column, st.container(border=True):
            st.markdown(f"#### {pattern.label}")
            cards = st.columns(4)
            cards[0].metric(
                "Executions", summary.executions, help="Completed executions measured here"
            )
            cards[1].metric(
                "Active time",
                _seconds(summary.median_active_seconds),
                help="Median of start to end minus the human review",
            )
            cards[2].metric(
                "Success rate",
                "-" if rate is None else f"{rate:.0%}",
                help="Completed over completed plus failed, newest finished uploads",
            )
            billed = summary.median_billed_units
            cards[3].metric(
                "Billed units",
                "-" if billed is None else f"{billed:g}",
                help=f"Median {pattern.billed_unit} billed per execution",
            )


def _timeline(measured: list[ExecutionMetrics]) -> None:
    st.subheader("One upload on a shared time axis", anchor=False)
    executions: dict[str, dict[str, str]] = {}
    received = {}
    for m in measured:
        if m.execution_id:
            executions.setdefault(m.upload_id, {})[m.pattern.value] = m.execution_id
            received[m.upload_id] = m.received_at
    if not executions:
        st.info("No execution to show yet.")
        return
    # Uploads both orchestrators finished come first: those are the ones worth comparing.
    choices = sorted(executions, key=lambda u: (len(executions[u]), received[u]), reverse=True)
    upload_id = st.selectbox(
        "Upload",
        choices,
        format_func=lambda u: f"{received[u]:%Y-%m-%d %H:%M:%S}  ({u})",
        key="timeline-upload",
    )
    if upload_id is None:
        return
    ids = {
        pattern: executions[upload_id][pattern.value]
        for pattern in PATTERNS
        if pattern.value in executions[upload_id]
    }
    laid_out = cached.upload_timelines(upload_id, ids)
    if laid_out.bars:
        st.altair_chart(charts.timeline_chart(laid_out.bars), width="stretch")
        st.caption("The pale bar is the human review: the workflow is paused and billed nothing.")
    for pattern in laid_out.missing:
        st.caption(f"{pattern.label}: its execution history is no longer available.")


def _costs() -> None:
    st.subheader("Cost per workflow", anchor=False)
    costs = cached.finished_costs()
    if not costs:
        st.info(
            "No finished workflow has stored its cost yet: each one does when its execution "
            "ends (the collector writes it into the METRICS item).",
            icon=":material/payments:",
        )
        return
    st.altair_chart(charts.cost_chart(costs), width="stretch")
    rows = []
    for pattern in PATTERNS:
        found = [c for c in costs if c.pattern is pattern]
        if found:
            rows.append(
                {
                    "Orchestrator": pattern.label,
                    "Workflows": len(found),
                    "Orchestration + compute (USD)": sum(c.orchestration_usd for c in found)
                    / len(found),
                    "Shared (USD)": sum(c.shared_usd for c in found) / len(found),
                    "Total (USD)": sum(c.total_usd for c in found) / len(found),
                }
            )
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(
        f"Means over {len(costs)} finished workflows (completed, rejected and failed) that "
        f"stored their cost. Both orchestrators pay the same for {in_words(SHARED_COMPONENTS)} "
        "(other: events, CloudWatch, agent tokens). Costs are at the AWS list rates of "
        "the dated rate card; on the local cloud, vision is the offline recognizer and costs "
        "nothing."
    )


def _cloudwatch() -> None:
    st.subheader("From CloudWatch", anchor=False)
    window = st.segmented_control(
        "Window", list(WINDOWS), default="Last day", key="cloudwatch-window"
    )
    readings = cached.cloudwatch_readings(window or "Last day")
    keys = [s.key for s in SERIES if readings.percentiles or not is_percentile(s)]
    keys.insert(2, SUCCESS_RATE.key)
    columns = st.columns(3, gap="large")
    for index, key in enumerate(keys):
        columns[index % 3].altair_chart(charts.cloudwatch_chart(readings, key), width="stretch")
    notes = [
        f"Both namespaces, {readings.window.label.lower()}, one point per "
        f"{readings.window.period_seconds // 60} minutes (GetMetricData). Completed and "
        "failed come from the workflows; durations, cost and cold starts from the collector."
    ]
    if not readings.percentiles:
        notes.append(
            "Active duration p50/p95 are left out here: the local cloud's CloudWatch (moto) "
            "computes no percentile statistics; on AWS they come from CloudWatch."
        )
    st.caption(" ".join(notes))


def main() -> None:
    """The page."""
    st.title("Comparison")
    st.caption(
        f"The newest {DASHBOARD_TIMED_EXECUTIONS} completed executions of each orchestrator, "
        "timed by the orchestrator itself (stored metrics, else its execution history). "
        "Active time excludes the human review."
    )
    show_summary()
    measured = cached.execution_metrics()
    outcomes = cached.recent_outcomes()
    _headline(measured, outcomes)
    if not measured:
        st.info(
            "No completed execution yet: approve a review (or let one time out) and come back.",
            icon=":material/hourglass_empty:",
        )
        # Rejected and failed workflows have a cost too, and CloudWatch its own record.
        _costs()
        _cloudwatch()
        return
    left, right = st.columns(2, gap="large")
    left.altair_chart(
        charts.distribution_chart(
            measured, "active_seconds", "Active duration per execution", "seconds"
        ),
        width="stretch",
    )
    right.altair_chart(charts.step_time_chart(measured), width="stretch")
    _timeline(measured)
    st.subheader("Reliability, parallelism and billing", anchor=False)
    columns = st.columns(3, gap="large")
    columns[0].altair_chart(charts.success_rate_chart(outcomes), width="stretch")
    columns[0].caption(
        f"Over the newest {DASHBOARD_LISTING_LIMIT} finished uploads; a reviewer's rejection is "
        "not a failure."
    )
    columns[1].altair_chart(
        charts.distribution_chart(
            measured,
            "parallel_efficiency",
            "Parallel efficiency of the price phase",
            "slowest agent / price phase",
            height=charts.SMALL_CHART_HEIGHT,
        ),
        width="stretch",
    )
    columns[1].caption(
        "1.0 means the six agents ran fully in parallel: the price phase took no longer than "
        "its slowest agent."
    )
    columns[2].altair_chart(charts.billed_units_chart(measured), width="stretch")
    columns[2].caption(
        "What each orchestrator bills for: Step Functions per state transition, durable "
        "functions per operation (at different rates; see the cost section)."
    )
    _costs()
    _cloudwatch()


main()
