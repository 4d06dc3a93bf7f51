"""Altair chart builders for the Comparison and Executions pages: plain functions of rows.

Each pattern keeps one colour everywhere (``PATTERN_COLOURS``), so a reader never has to check
the legend twice. Must not import Streamlit; the app decides where a chart goes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from statistics import mean
from typing import Any, TypeAlias

import altair as alt

from albumreg.client.inspector import Bar
from albumreg.dashboard.data.cloudwatch import SERIES, SUCCESS_RATE, Readings
from albumreg.dashboard.data.comparison import (
    SUPPORTING_STEPS,
    ExecutionMetrics,
    Outcomes,
    TimelineBar,
    WorkflowCost,
    step_name_label,
)
from handlers.domain.cost import SHARED_COMPONENTS, Component
from handlers.domain.names import Step
from handlers.domain.tenant import PATTERNS, Pattern

PATTERN_COLOURS: dict[Pattern, str] = {
    Pattern.STEP_FUNCTIONS: "#C2185B",
    Pattern.DURABLE: "#EF6C00",
}
"""Step Functions magenta and Lambda orange, after the AWS service icons; never swapped."""

COST_COLOURS: dict[str, str] = {
    Component.ORCHESTRATION: "#5E35B1",
    Component.COMPUTE: "#1E88E5",
    Component.OTHER: "#90A4AE",
    Component.VISION: "#A1887F",
    Component.STORAGE: "#BCAAA4",
}
"""One colour per ``Component``; the ``SHARED_COMPONENTS`` in muted tones, apart from the
patterns' own."""

STEP_COLOURS: dict[str, str] = {
    Step.EXTRACT.value: "#4C78A8",
    Step.PRICE.value: "#54A24B",
    Step.STORE.value: "#B279A2",
}
"""Steps in blue, green and purple: never the patterns' magenta or orange."""
SUPPORTING_STEP_COLOUR = "#9E9E9E"

# Heights are of the whole chart: Streamlit fits title, axes and legend inside them.
CHART_HEIGHT = 280
SMALL_CHART_HEIGHT = 200
TIMELINE_ROW_PX = 30
TIMELINE_FRAME_PX = 130

Figure: TypeAlias = alt.Chart | alt.LayerChart | alt.FacetChart
"""What the builders return: anything ``st.altair_chart`` draws."""


def _pattern_colour(title: str | None = "Orchestrator") -> alt.Color:
    labels = [pattern.label for pattern in PATTERNS]
    return alt.Color(
        "pattern:N",
        title=title,
        scale=alt.Scale(domain=labels, range=[PATTERN_COLOURS[p] for p in PATTERNS]),
        legend=alt.Legend(orient="bottom") if title else None,
    )


def _pattern_axis() -> alt.Y:
    return alt.Y(
        "pattern:N",
        title=None,
        sort=[pattern.label for pattern in PATTERNS],
        axis=alt.Axis(labelFontWeight="bold"),
    )


def _data(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Inline Vega-Lite data: the charts stay plain JSON, with no data frame library needed."""
    return {"values": list(rows)}


def _bars(rows: Sequence[dict[str, Any]], title: str, **mark: Any) -> alt.Chart:
    """A bar chart of ``rows``; typed here because Altair's mark methods return Any."""
    chart: alt.Chart = alt.Chart(_data(rows), title=title).mark_bar(**mark)
    return chart


def distribution_chart(
    measured: Sequence[ExecutionMetrics],
    value: str,
    title: str,
    axis_title: str,
    *,
    height: int = CHART_HEIGHT,
) -> Figure:
    """A box per pattern with every execution as a tick: spread and outliers at a glance.

    Args:
        measured: the executions.
        value: ``active_seconds`` or ``parallel_efficiency``.
        title: chart title.
        axis_title: the x axis (with its unit).
        height: of the whole chart.
    """
    rows = [
        {"pattern": m.pattern.label, "value": getattr(m, value), "upload": m.upload_id}
        for m in measured
        if getattr(m, value) is not None
    ]
    base = alt.Chart(_data(rows), title=title)
    # An efficiency is a fraction: its whole range is the honest axis; durations zoom in.
    scale = alt.Scale(domain=[0, 1]) if value == "parallel_efficiency" else alt.Scale(zero=False)
    x = alt.X("value:Q", title=axis_title, scale=scale)
    box = base.mark_boxplot(extent="min-max", size=28, opacity=0.35).encode(
        x=x, y=_pattern_axis(), color=_pattern_colour(None)
    )
    ticks = base.mark_tick(thickness=2, size=26, opacity=0.9).encode(
        x=x,
        y=_pattern_axis(),
        color=_pattern_colour(),
        tooltip=[
            alt.Tooltip("pattern:N", title="Orchestrator"),
            alt.Tooltip("upload:N", title="Upload"),
            alt.Tooltip("value:Q", title=axis_title, format=".3f"),
        ],
    )
    return alt.layer(box, ticks).properties(height=height)


def _step_colour(label: str) -> str:
    by_label = {step_name_label(name): colour for name, colour in STEP_COLOURS.items()}
    return by_label.get(label, SUPPORTING_STEP_COLOUR)


def step_order(names: Sequence[str]) -> list[str]:
    """Step labels in workflow order, any other step after them."""
    known = [step_name_label(step) for step in Step]
    others = sorted({name for name in names if name not in known})
    return [label for label in known if label in names] + others


def step_time_chart(measured: Sequence[ExecutionMetrics]) -> Figure:
    """Mean seconds per step, stacked per pattern; the human review is left out (it is idle)."""
    # Step Functions' control states (Choice, Pass) do no work and have no durable twin.
    shown = {step.value for step in Step if step is not Step.REVIEW} | set(SUPPORTING_STEPS)
    seconds: dict[tuple[Pattern, str], list[float]] = defaultdict(list)
    for m in measured:
        for name, value in m.step_seconds.items():
            if name in shown:
                seconds[(m.pattern, step_name_label(name))].append(value)
    order = step_order([step for _, step in seconds])
    rows = [
        {
            "pattern": pattern.label,
            "step": step,
            "step_index": order.index(step),
            "seconds": mean(values),
        }
        for (pattern, step), values in seconds.items()
    ]
    return (
        _bars(rows, "Time per step (mean seconds, human review excluded)")
        .encode(
            x=alt.X("sum(seconds):Q", title="seconds", stack="zero"),
            y=_pattern_axis(),
            color=alt.Color(
                "step:N",
                title="Step",
                sort=order,
                scale=alt.Scale(domain=order, range=[_step_colour(step) for step in order]),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("step_index:Q"),
            tooltip=[
                alt.Tooltip("pattern:N", title="Orchestrator"),
                alt.Tooltip("step:N", title="Step"),
                alt.Tooltip("seconds:Q", title="mean seconds", format=".3f"),
            ],
        )
        .properties(height=CHART_HEIGHT)
    )


def _span_row(bar: TimelineBar | Bar) -> dict[str, Any]:
    """One bar on a shared time axis as a chart row: both timeline charts draw these fields."""
    return {
        "pattern": bar.pattern.label,
        "row": bar.row,
        "order": bar.order,
        "start": bar.start,
        "end": bar.end,
        "seconds": bar.end - bar.start,
        "kind": bar.kind,
    }


def timeline_chart(bars: Sequence[TimelineBar]) -> Figure:
    """Both executions of one upload on one time axis: a row per step, a bar per pattern."""
    rows = [_span_row(bar) for bar in bars]
    order = [row for _, row in sorted({(bar.order, bar.row) for bar in bars})]
    y = alt.Y("row:N", title=None, sort=order)
    y_offset = alt.YOffset("pattern:N", sort=[p.label for p in PATTERNS])
    tooltip = [
        alt.Tooltip("pattern:N", title="Orchestrator"),
        alt.Tooltip("row:N", title="Step"),
        alt.Tooltip("start:Q", title="start (s)", format=".3f"),
        alt.Tooltip("end:Q", title="end (s)", format=".3f"),
        alt.Tooltip("seconds:Q", title="duration (s)", format=".3f"),
    ]
    spans = _bars(rows, "One upload, both orchestrators, shared time axis", cornerRadius=2).encode(
        x=alt.X("start:Q", title="seconds since the first execution started"),
        x2="end:Q",
        y=y,
        yOffset=y_offset,
        color=_pattern_colour(),
        opacity=alt.condition("datum.kind == 'wait'", alt.value(0.35), alt.value(0.95)),
        tooltip=tooltip,
    )
    # A step of a few milliseconds is a bar too thin to see: a tick marks where it started.
    starts = (
        alt.Chart(_data(rows))
        .mark_tick(thickness=2, opacity=0.9)
        .encode(x="start:Q", y=y, yOffset=y_offset, color=_pattern_colour(), tooltip=tooltip)
    )
    return alt.layer(spans, starts).properties(
        height=TIMELINE_FRAME_PX + TIMELINE_ROW_PX * len(order)
    )


def success_rate_chart(outcomes: Sequence[Outcomes]) -> Figure:
    """Completed over completed plus failed, per pattern, with the counts in the tooltip."""
    rows = [
        {
            "pattern": o.pattern.label,
            "rate": o.success_rate,
            "completed": o.completed,
            "failed": o.failed,
        }
        for o in outcomes
        if o.success_rate is not None
    ]
    base = alt.Chart(_data(rows), title="Success rate (newest finished uploads)")
    bars = base.mark_bar().encode(
        x=alt.X(
            "rate:Q", title="completed / (completed + failed)", scale=alt.Scale(domain=[0, 1])
        ).axis(format="%"),
        y=_pattern_axis(),
        color=_pattern_colour(None),
        tooltip=[
            alt.Tooltip("pattern:N", title="Orchestrator"),
            alt.Tooltip("rate:Q", title="success", format=".1%"),
            alt.Tooltip("completed:Q"),
            alt.Tooltip("failed:Q"),
        ],
    )
    labels = base.mark_text(align="right", dx=-6, color="white", fontWeight="bold").encode(
        x="rate:Q", y=_pattern_axis(), text=alt.Text("rate:Q", format=".0%")
    )
    return alt.layer(bars, labels).properties(height=SMALL_CHART_HEIGHT)


def billed_units_chart(measured: Sequence[ExecutionMetrics]) -> Figure:
    """Mean billed units per execution: state transitions (sf) versus durable operations (ldf)."""
    units: dict[Pattern, list[int]] = defaultdict(list)
    for m in measured:
        if m.billed_units is not None:
            units[m.pattern].append(m.billed_units)
    means = {pattern: mean(values) for pattern, values in units.items()}
    rows = [
        {
            "pattern": pattern.label,
            "units": units,
            "label": f"{units:.3g}",
            "unit": pattern.billed_unit,
        }
        for pattern, units in means.items()
    ]
    base = alt.Chart(_data(rows), title="Billed units per execution (mean)")
    top = max(means.values(), default=1.0)
    bars = base.mark_bar().encode(
        # Room on the right for the label.
        x=alt.X(
            "units:Q",
            title="units billed per execution",
            scale=alt.Scale(domain=[0, top * 1.25]),
        ),
        y=_pattern_axis(),
        color=_pattern_colour(None),
        tooltip=[
            alt.Tooltip("pattern:N", title="Orchestrator"),
            alt.Tooltip("units:Q", title="mean units", format=".3g"),
            alt.Tooltip("unit:N", title="billed per"),
        ],
    )
    labels = base.mark_text(align="left", dx=6).encode(
        x="units:Q", y=_pattern_axis(), text="label:N"
    )
    return alt.layer(bars, labels).properties(height=SMALL_CHART_HEIGHT)


def cost_chart(costs: Sequence[WorkflowCost]) -> Figure:
    """Mean USD per workflow, stacked by component; shared components drawn apart in muted tones.

    Only workflows that stored a cost breakdown count: nothing is estimated here. Which
    components are shared is ``handlers.domain.cost``'s decision, not the chart's.
    """
    per_pattern: dict[Pattern, list[WorkflowCost]] = defaultdict(list)
    for cost in costs:
        per_pattern[cost.pattern].append(cost)
    rows = [
        {
            "pattern": pattern.label,
            "component": component.value,
            "usd": mean(cost.components.get(component.value, 0.0) for cost in found),
            "kind": "shared" if component in SHARED_COMPONENTS else "orchestrator's own",
            "workflows": len(found),
        }
        for pattern, found in per_pattern.items()
        for component in Component
        if any(cost.components.get(component.value) for cost in found)
    ]
    components = [c.value for c in Component if any(row["component"] == c.value for row in rows)]
    return (
        _bars(rows, "Cost per workflow (mean USD, stored by each finished workflow)")
        .encode(
            x=alt.X("sum(usd):Q", title="USD per workflow"),
            y=_pattern_axis(),
            color=alt.Color(
                "component:N",
                title="Component",
                sort=components,
                scale=alt.Scale(
                    domain=components,
                    range=[COST_COLOURS[c] for c in components],
                ),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("pattern:N", title="Orchestrator"),
                alt.Tooltip("component:N"),
                alt.Tooltip("kind:N", title="paid by"),
                alt.Tooltip("usd:Q", title="USD", format=".6f"),
                alt.Tooltip("workflows:Q", title="workflows"),
            ],
        )
        .properties(height=SMALL_CHART_HEIGHT)
    )


def cloudwatch_chart(readings: Readings, key: str) -> Figure:
    """One CloudWatch figure over the window, both patterns as lines on the window's time axis.

    Every chart of a window shares the x domain (its start to its end), so they line up.
    """
    series = next((s for s in (*SERIES, SUCCESS_RATE) if s.key == key), None)
    if series is None:
        raise ValueError(f"unknown CloudWatch figure {key!r}")
    rows = [
        {"pattern": p.pattern.label, "at": p.at.isoformat(), "value": p.value}
        for p in readings.of(key)
    ]
    y_scale = alt.Scale(domain=[0, 1]) if key == SUCCESS_RATE.key else alt.Scale(zero=True)
    x = alt.X(
        "at:T",
        title=None,
        scale=alt.Scale(domain=[readings.start.isoformat(), readings.end.isoformat()]),
    )
    y = alt.Y("value:Q", title=series.unit, scale=y_scale)
    base = alt.Chart(_data(rows), title=series.title)
    tooltip = [
        alt.Tooltip("pattern:N", title="Orchestrator"),
        alt.Tooltip("at:T", title="interval", format="%Y-%m-%d %H:%M"),
        alt.Tooltip("value:Q", title=series.unit, format=".4g"),
    ]
    lines = base.mark_line().encode(x=x, y=y, color=_pattern_colour(None))
    points = base.mark_point(filled=True).encode(x=x, y=y, color=_pattern_colour(), tooltip=tooltip)
    return alt.layer(lines, points).properties(height=SMALL_CHART_HEIGHT)


EXECUTION_KIND_COLOURS: dict[str, str] = {
    "attempt": "#2E7D32",
    "failed attempt": "#C62828",
    "retry delay": "#9E9E9E",
    "waiting": "#CFD8DC",
    "operation": "#90CAF9",
}
"""A failure is red and a wait grey whichever orchestrator shows it; the rows name the
orchestrator, so its own colour is not needed here."""

EXECUTION_ROW_PX = 18
EXECUTION_FRAME_PX = 40


def execution_chart(bars: Sequence[Bar]) -> Figure:
    """Every attempt and retry delay of both executions, one row per operation, one time axis.

    Faceted by orchestrator with a shared x scale, so the same second lines up in both.
    """
    rows = [{**_span_row(bar), "detail": bar.detail} for bar in bars]
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
                scale=alt.Scale(
                    domain=list(EXECUTION_KIND_COLOURS), range=list(EXECUTION_KIND_COLOURS.values())
                ),
            ),
            tooltip=[
                alt.Tooltip("pattern:N", title="Orchestrator"),
                alt.Tooltip("row:N", title="Operation"),
                alt.Tooltip("detail:N", title="What"),
                alt.Tooltip("start:Q", title="start (s)", format=".3f"),
                alt.Tooltip("seconds:Q", title="duration (s)", format=".3f"),
            ],
        )
        .properties(height=EXECUTION_FRAME_PX + EXECUTION_ROW_PX * per_pattern)
    )
    faceted: alt.FacetChart = chart.facet(
        row=alt.Row("pattern:N", title=None, sort=[p.label for p in PATTERNS])
    ).resolve_scale(y="independent")
    return faceted
