"""``albumreg report``: the comparison as one self-contained HTML page and Markdown beside it.

Runtime from collected per-workflow metrics (a running system's METRICS items, or the last
``albumreg bench`` document), cost per workflow and monthly projections from the cost model,
and developer-experience figures measured from this repository. Charts are Altair specs
rendered to inline SVG by ``vl_convert``: the page loads nothing from the network.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import altair as alt
import vl_convert

from albumreg.client.verdict import DEFAULT_VOLUME, verdict_rows
from albumreg.tools.failure_costs import failure_rows
from albumreg.tools.report_summary import completed, flip_sentences, summary_figures
from albumreg.tools.repository_metrics import NO_COVERAGE, TEST_DOUBLES, DevMetrics
from albumreg.tools.scenario_bench import HEADERS as SCENARIO_HEADERS
from albumreg.tools.scenario_bench import render_rows
from albumreg.tools.sensitivity import (
    LATENCIES_S,
    REVIEW_WAITS_S,
    Point,
    break_even,
    cost_at_latency,
    cost_at_review_wait,
    curve,
    describe,
    latency_label,
    measured,
    wait_label,
)
from albumreg.tools.workflow_bench import summarize
from handlers.adapters.metrics_collector import CUSTOM_METRICS_PER_PATTERN
from handlers.adapters.pricing.transport import PRICING_READ_TIMEOUT_SECONDS
from handlers.domain.cost import (
    ALARMS,
    SHARED_COMPONENTS,
    SHARED_FIXED,
    US_EAST_1,
    Component,
    CostBreakdown,
    FixedResources,
    MonthlyProjection,
    RateCard,
    in_words,
    mean_cost,
    projections,
)
from handlers.domain.names import Step
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.workflow_metrics import MeasuredWorkflow

VOLUMES = (1_000, 10_000, 100_000, 1_000_000)
"""Workflows per month the projections are shown for."""

PATTERN_COLORS = {Pattern.STEP_FUNCTIONS.label: "#c7125f", Pattern.DURABLE.label: "#d97800"}
"""Fixed per orchestrator, so the colours never swap between charts."""

EMULATORS: tuple[tuple[str, str, str], ...] = (
    (
        "Orchestration on one machine",
        "moto's ASL interpreter (vendored from LocalStack), switched on with execute_state_machine",
        "the durable testing SDK: DurableFunctionTestRunner in-process, or its control plane "
        "over HTTP (albumreg/cloud/durable_plane.py)",
    ),
    (
        "Running the task code",
        "a patch of moto's Docker-less Lambda so each invoke runs the real handler "
        "(albumreg/cloud/sfn_runner.py)",
        "none: the runner calls the durable handler itself",
    ),
    (
        "The human step",
        "moto's SendTaskSuccess; TimeoutSeconds raises States.Timeout (heartbeats too)",
        "SendDurableExecutionCallbackSuccess; callback timeouts run on the real clock",
    ),
    (
        "Known gaps of the emulator",
        "JSONata stubbed; a datetime in $$.Execution.StartTime; executions in memory; an "
        "unnamed execution clashes",
        "invocation start/end missing from the HTTP history; ARNs are plain ids; payload limits "
        "not enforced; events stamped when a checkpoint batch arrives",
    ),
    ("S3, DynamoDB, EventBridge", "moto", "moto"),
)
"""What each pattern needs to run its tests without AWS: the emulators in `local/` and the
testing SDK (`albumreg/cloud/sfn_runner.py`, `albumreg/cloud/durable_plane.py`,
`albumreg/cloud/moto_fixes.py`)."""

NOT_MEASURED = (
    "A cold start's sandbox provisioning: on the local cloud the init duration is that of our "
    "code in a fresh worker process (from the REPORT lines of its logs); AWS adds the sandbox "
    "and the runtime's start. On the local cloud the first extraction also loads the OCR "
    "engine, which a Lambda cold start does not.",
    "CloudWatch Logs ingestion of the functions' logs, DynamoDB and S3 storage by the month, "
    "and data transfer: small here and not modelled.",
    "Free tiers: projections use AWS list rates.",
    "DynamoDB units are computed from item sizes (1 write unit per started KB, 2 in a "
    "transaction, plus status-index writes), not metered: moto reports no index writes.",
)


@dataclass(frozen=True)
class Table:
    """A table block."""

    headers: tuple[str, ...]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Chart:
    """A chart block: a Vega-Lite spec, drawn as SVG in HTML and left out of Markdown."""

    title: str
    spec: dict[str, Any]


Block = str | Table | Chart


@dataclass(frozen=True)
class Section:
    """One part of the report."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


SECTION_IDS = (
    "summary",
    "runtime",
    "cost",
    "failure",
    "sensitivity",
    "projections",
    "developer-experience",
    "method",
)


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, before it is rendered.

    Attributes:
        generated_at: when the report was made.
        source: where the runtime numbers come from.
        workflows: per-workflow METRICS values, each with its pattern.
        lost: workflows lost per pattern, when a bench run knows it.
        config: the bench configuration, when the numbers come from a bench run.
        environment: the machine the bench ran on.
        dev: repository measurements.
        rates: the AWS rate card applied.
        volumes: monthly volumes to project.
        scenarios: ``scenarios`` of an ``albumreg bench --scenarios`` document.
        scenario_source: where those come from.
        volume: the monthly volume of the summary's monthly cost.
    """

    generated_at: datetime
    source: str
    workflows: list[MeasuredWorkflow]
    dev: DevMetrics
    lost: Mapping[str, int] | None = None
    config: Mapping[str, Any] | None = None
    environment: Mapping[str, Any] | None = None
    rates: RateCard = US_EAST_1
    volumes: Sequence[int] = VOLUMES
    scenarios: Mapping[str, Any] | None = None
    scenario_source: str | None = None
    volume: int = DEFAULT_VOLUME

    def of(self, pattern: Pattern) -> list[MeasuredWorkflow]:
        """Workflows of one pattern."""
        return [w for w in self.workflows if w.pattern is pattern]

    def summary(self, pattern: Pattern) -> dict[str, Any]:
        """The same figures ``albumreg bench`` prints."""
        lost = (self.lost or {}).get(pattern.value, 0)
        return summarize(self.of(pattern), lost)

    def mean_cost(self, pattern: Pattern) -> CostBreakdown | None:
        """The average completed workflow's cost."""
        breakdowns = [
            breakdown
            for w in self.of(pattern)
            if w.completed and (breakdown := w.cost_breakdown()) is not None
        ]
        return mean_cost(breakdowns) if breakdowns else None

    def projections(self) -> list[MonthlyProjection]:
        """Each pattern with data at each volume."""
        costs = [c for p in PATTERNS if (c := self.mean_cost(p)) is not None]
        own = {
            p: FixedResources(custom_metrics=CUSTOM_METRICS_PER_PATTERN, alarms=ALARMS[p])
            for p in PATTERNS
        }
        return projections(costs, self.volumes, own, self.rates)


def _seconds(value: Any) -> str:
    return "-" if value is None else f"{float(value):.3f} s"


def _cold_start_source(summaries: Mapping[Pattern, Mapping[str, Any]]) -> str:
    """Where the cold-start figures come from (local worker processes, or AWS), as stored."""
    sources = {summaries[p].get("cold_start_source") for p in PATTERNS} - {None}
    return "; ".join(sorted(str(s) for s in sources)) or "not measured"


def _count(value: Any) -> str:
    return "-" if value is None else str(int(value))


def _ratio(value: Any) -> str:
    return "-" if value is None else f"{float(value):.3f}"


def _usd(value: Decimal | float | None, digits: int = 8) -> str:
    return "-" if value is None else f"${float(value):,.{digits}f}"


def _runtime(data: ReportData) -> Section:
    summaries = {p: data.summary(p) for p in PATTERNS}
    if not data.workflows:
        return Section(
            "runtime",
            "Runtime",
            ["No collected metrics: run albumreg bench, or albumreg metrics collect against a "
             "running system, then albumreg report."],
        )  # fmt: skip
    lost = "n/a (stored metrics know nothing of lost workflows)"

    def row(label: str, key: str, shown: Callable[[Any], str]) -> tuple[str, ...]:
        return (label, *(shown(summaries[p][key]) for p in PATTERNS))

    rows: list[tuple[str, ...]] = [
        row("completed", "completed", str),
        row("failed", "failed", str),
        row("lost", "lost", str if data.lost else lambda _: lost),
        row("active p50", "active_p50_s", _seconds),
        row("active p95", "active_p95_s", _seconds),
        row("first workflow active", "first_active_s", _seconds),
        row("other workflows active p50", "rest_active_p50_s", _seconds),
        row("cold starts, first workflow", "first_cold_starts", _count),
        row("cold starts, other workflows", "rest_cold_starts", _count),
        row("init duration p50", "init_p50_s", _seconds),
        row("parallel efficiency p50", "parallel_efficiency", _ratio),
        row("overhead ratio p50", "overhead_ratio", _ratio),
        row("overhead p50", "overhead_p50_s", _seconds),
        row("billed units p50", "billed_units_p50", _ratio),
        row("Lambda invocations p50", "lambda_invocations_p50", _ratio),
        row("throughput per minute", "throughput_per_min", _ratio),
    ]
    rows += [
        (f"{step.value} p50", *(_seconds(summaries[p]["step_p50_s"].get(step)) for p in PATTERNS))
        for step in Step
    ]
    timing = summaries[Pattern.DURABLE]["invocation_timing"]
    points = [
        {"pattern": w.pattern.label, "active seconds": w.active_seconds}
        for w in data.workflows
        if w.active_seconds is not None and w.completed
    ]
    steps = [
        {"pattern": p.label, "step": step.value, "seconds": float(seconds)}
        for p in PATTERNS
        for step in Step
        if (seconds := summaries[p]["step_p50_s"].get(step)) is not None
    ]
    return Section(
        "runtime",
        "Runtime",
        [
            f"Source: {data.source}. Every duration comes from the execution histories "
            "(Step Functions GetExecutionHistory, Lambda GetDurableExecutionHistory), never "
            "from a wall clock in the benchmark.",
            Table(("", *(p.label for p in PATTERNS)), rows),
            Chart("Active duration of each completed workflow", _strip(points)),
            Chart("Time per step, median", _grouped(steps, "step", "seconds")),
            f"Cold starts and init duration: {_cold_start_source(summaries)}.",
            "Active duration is the execution's total minus the human wait (the review step). "
            "Parallel efficiency is the slowest price agent over the price phase's wall time. "
            "Orchestration overhead is (active duration minus work on the critical path) over "
            "active duration, where work is the business code the orchestrator timed: each "
            "Lambda task attempt from LambdaFunctionStarted to its end (Step Functions), each "
            "step attempt from StepStarted to its end (durable), summed over the top-level "
            "steps outside the review plus the slowest agent. Retry backoff counts as overhead.",
            f"Durable invocation times: {', '.join(timing) or '-'} (estimated = inferred from "
            "neighbouring events where the history lacks InvocationCompleted details, as the "
            "local control plane does).",
        ],
    )


def _cost(data: ReportData) -> Section:
    costs = {p: data.mean_cost(p) for p in PATTERNS}
    present = {p: c for p, c in costs.items() if c is not None}
    if not present:
        return Section("cost", "Cost per workflow", ["No completed workflow with a cost yet."])
    names: dict[str, tuple[Component, str]] = {}
    for cost in present.values():
        for line in cost.items:
            names.setdefault(line.name, (line.component, line.unit))
    rows: list[tuple[str, ...]] = []
    for name, (component, unit) in sorted(names.items(), key=lambda kv: (kv[1][0].value, kv[0])):
        cells = []
        for p in PATTERNS:
            items = {i.name: i for i in present[p].items} if p in present else {}
            item = items.get(name)
            shown = "-" if item is None else f"{float(item.quantity):.6g} {unit}, {_usd(item.usd)}"
            cells.append(shown)
        rows.append((component.value, name, *cells))
    engines = sorted({w.vision_engine for w in data.workflows if w.vision_engine})
    offline = [engine for engine in engines if not engine.startswith("bedrock:")]
    if offline:
        note = f"offline recognizer ({', '.join(offline)}): no model tokens"
        rows.append((Component.VISION.value, note, *("$0" for _ in PATTERNS)))
    for label in ("orchestration-dependent", "shared", "total"):
        attribute = label.replace("-", "_")
        rows.append(
            (
                "",
                label,
                *(_usd(getattr(present[p], attribute)) if p in present else "-" for p in PATTERNS),
            )
        )
    bars = [
        {"pattern": p.label, "component": name, "USD": float(usd)}
        for p, cost in present.items()
        for name, usd in cost.by_component().items()
    ]
    return Section(
        "cost",
        "Cost per workflow",
        [
            f"The mean completed workflow, costed with the {data.rates.region} AWS rate card of "
            f"{data.rates.as_of.isoformat()} (list rates, sources below). Both orchestrators "
            f"pay the same for {in_words(SHARED_COMPONENTS)}; the rest depends on the "
            "orchestrator. Each pattern is charged the whole upload (S3 PUT, the EventBridge "
            "event), as if it ran alone.",
            Table(("component", "item", *(p.label for p in PATTERNS)), rows),
            Chart("Cost per workflow by component (USD)", _grouped(bars, "component", "USD")),
        ],
    )


def _projections(data: ReportData) -> Section:
    found = data.projections()
    if not found:
        return Section("projections", "Monthly projections", ["No cost data to project."])
    rows = [
        (
            Pattern(p.pattern).label,
            f"{p.workflows:,}",
            _usd(p.variable_usd, 2),
            _usd(p.fixed_usd, 2),
            _usd(p.total_usd, 2),
            _usd(p.per_workflow_usd, 6),
        )
        for p in found
    ]
    shared = SHARED_FIXED.monthly(data.rates)
    line = [
        {"pattern": Pattern(p.pattern).label, "workflows": p.workflows, "USD": float(p.total_usd)}
        for p in found
    ]
    return Section(
        "projections",
        "Monthly projections",
        [
            f"Per-workflow cost times volume, plus each pattern's fixed monthly cost: "
            f"{CUSTOM_METRICS_PER_PATTERN} custom metrics in its namespace and its alarms "
            f"({ALARMS[Pattern.STEP_FUNCTIONS]} for Step Functions, "
            f"{ALARMS[Pattern.DURABLE]} for durable). Shared by both and not included: "
            f"the dashboard and the token secret, {_usd(shared, 2)} a month.",
            Table(
                ("pattern", "workflows/month", "variable", "fixed", "total", "per workflow"), rows
            ),
            Chart("Monthly cost by volume (USD, log scales)", _lines(line)),
        ],
    )


def _developer(data: ReportData) -> Section:
    dev = data.dev
    labels = {"sf": Pattern.STEP_FUNCTIONS.label, "ldf": Pattern.DURABLE.label}
    orchestration = [
        (labels[p], f.path, str(f.code), str(f.comments), str(f.decision_points))
        for p, files in dev.orchestration.items()
        for f in files
    ]
    totals = {p: sum(f.code for f in files) for p, files in dev.orchestration.items()}
    tests = [
        (labels.get(group, "shared"), str(len(files)), str(sum(f.code for f in files)))
        for group, files in dev.tests.items()
    ]
    coverage = [
        (
            labels[p],
            NO_COVERAGE if c is None else f"{c.percent:.1f}% ({c.covered}/{c.statements})",
        )
        for p, c in dev.coverage.items()
    ]
    doubles = [
        (
            name,
            TEST_DOUBLES[name],
            *("yes" if name in dev.doubles.get(p, []) else "" for p in ("sf", "ldf")),
        )
        for name in TEST_DOUBLES
        if any(name in used for used in dev.doubles.values())
    ]
    bars = [
        {"pattern": labels[p], "measure": "orchestration code lines", "lines": totals[p]}
        for p in totals
    ] + [
        {"pattern": labels[g], "measure": "test code lines", "lines": sum(f.code for f in files)}
        for g, files in dev.tests.items()
        if g in labels
    ]
    return Section(
        "developer-experience",
        "Developer experience",
        [
            "Measured from this repository when the report was made.",
            Table(
                ("pattern", "file", "code lines", "comment lines", "decision points"), orchestration
            ),
            Table(("tests of", "files", "code lines"), tests),
            Table(("pattern", f"coverage ({dev.coverage_source})"), coverage),
            Chart("Lines of code", _grouped(bars, "measure", "lines")),
            Table(("double or emulator", "what", "used by sf tests", "used by ldf tests"), doubles),
            Table(("", *(labels.values())), [tuple(row) for row in EMULATORS]),
            *(f"How: {name}: {how}." for name, how in dev.method.items()),
        ],
    )


def _method(data: ReportData) -> Section:
    rates = [
        (
            name,
            f"${rate.usd} per {rate.unit}"
            if rate.per == 1
            else f"${rate.usd} per {rate.per:,} {rate.unit}",
            rate.source,
        )
        for name, rate in data.rates.sources()
    ]
    blocks: list[Block] = [
        f"AWS rates: {data.rates.region}, as of {data.rates.as_of.isoformat()}.",
        Table(("item", "rate", "source"), rates),
    ]
    if data.config:
        settings = [(k, str(v)) for k, v in data.config.items()]
        blocks.append(Table(("bench setting", "value"), settings))
    if data.environment:
        blocks.append(
            Table(("environment", "value"), [(k, str(v)) for k, v in data.environment.items()])
        )
    blocks.append("Not measured: " + " ".join(NOT_MEASURED))
    return Section("method", "Method and sources", blocks)


def _color() -> alt.Color:
    return alt.Color(
        "pattern:N",
        scale=alt.Scale(domain=list(PATTERN_COLORS), range=list(PATTERN_COLORS.values())),
    )


def _strip(points: list[dict[str, Any]]) -> dict[str, Any]:
    chart = (
        alt.Chart(alt.InlineData(values=points))
        .mark_tick(thickness=2, size=18)
        .encode(x=alt.X("active seconds:Q"), y=alt.Y("pattern:N", title=None), color=_color())
        .properties(width=520, height=90)
    )
    spec: dict[str, Any] = chart.to_dict()
    return spec


def _grouped(rows: list[dict[str, Any]], category: str, value: str) -> dict[str, Any]:
    order = list(dict.fromkeys(str(row[category]) for row in rows))
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_bar()
        .encode(
            x=alt.X(f"{category}:N", title=None, sort=order, axis=alt.Axis(labelAngle=0)),
            xOffset="pattern:N",
            y=alt.Y(f"{value}:Q"),
            color=_color(),
        )
        .properties(width=520, height=220)
    )
    spec: dict[str, Any] = chart.to_dict()
    return spec


def _lines(rows: list[dict[str, Any]]) -> dict[str, Any]:
    chart = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("workflows:Q", scale=alt.Scale(type="log"), title="workflows per month"),
            y=alt.Y("USD:Q", scale=alt.Scale(type="log"), title="USD per month"),
            color=_color(),
        )
        .properties(width=520, height=260)
    )
    spec: dict[str, Any] = chart.to_dict()
    return spec


def _curves(data: ReportData) -> tuple[list[Point], list[Point]]:
    """Cost per workflow along the price API latency and along the review wait."""
    latency = float((data.config or {}).get("price_latency") or 0.0)
    starts = {
        p: found
        for p in PATTERNS
        if (found := measured(p, completed(data.workflows, p), latency)) is not None
    }
    return (
        curve(starts, LATENCIES_S, cost_at_latency, data.rates),
        curve(starts, REVIEW_WAITS_S, cost_at_review_wait, data.rates),
    )


def _summary(data: ReportData) -> Section:
    figures = summary_figures(data.workflows, data.scenarios, data.dev, data.volume, data.rates)
    rows = verdict_rows(figures, data.volume)
    latency, wait = _curves(data)
    return Section(
        "summary",
        "The answer",
        [
            "Lower wins on every row. Costs are AWS list rates for the measured usage "
            f"({data.rates.region}); the monthly cost adds each pattern's own fixed costs.",
            Table(
                ("measure", *(p.label for p in PATTERNS), "wins, by how much"),
                [(row.measure, *(row.values[p] for p in PATTERNS), row.verdict) for row in rows],
            ),
            "Cold starts: "
            + "; ".join(
                f"{p.label}: {figures[p].cold_start_source or 'not measured'}" for p in PATTERNS
            )
            + ".",
            "When the verdict flips:",
            *flip_sentences(latency, wait, data.scenarios),
        ],
    )


def _failure(data: ReportData) -> Section:
    if not data.scenarios:
        return Section(
            "failure",
            "What failure costs",
            ["No failure scenarios measured: run albumreg bench --scenarios all, then "
             "albumreg report."],
        )  # fmt: skip
    described = [
        (name, str(found.get("description", ""))) for name, found in data.scenarios.items()
    ]
    return Section(
        "failure",
        "What failure costs",
        [
            f"Source: {data.scenario_source or 'a bench scenario run'}. Each scenario ran "
            "through both orchestrators on the local cloud, where its faults are injected "
            "(the local pricing API's knobs, the local recognizer, the automatic reviewer). "
            "Each figure shows its change from happy in brackets; every finished workflow "
            "counts, failed and rejected ones too.",
            Table(SCENARIO_HEADERS, render_rows(failure_rows(data.scenarios))),
            Table(("scenario", "what goes wrong"), described),
        ],
    )


def _sensitivity(data: ReportData) -> Section:
    latency, wait = _curves(data)
    if not latency:
        return Section("sensitivity", "Sensitivity", ["No completed workflow to vary."])
    return Section(
        "sensitivity",
        "Sensitivity",
        [
            "The mean completed workflow of each pattern, costed again as one quantity "
            "varies. Price API latency: every agent waits for its requests one after the "
            "other; in Step Functions each of the six agents is a Lambda invocation billed "
            "for its own wait, in the durable function the six are threads of one invocation "
            "billed once. The model assumes the client waits for every answer: past the "
            f"client's read timeout ({PRICING_READ_TIMEOUT_SECONDS:g} s) requests time out "
            "and are retried instead, which the pricing-outage scenario measures.",
            Chart(
                "Cost per workflow by price API latency (USD)",
                _curve_chart(latency, "seconds per pricing request"),
            ),
            describe(latency, "Price API latency", latency_label),
            "While a person reviews, a Standard state machine waiting on a task token is "
            "billed nothing; a durable execution's checkpointed data is retained for the "
            "execution's duration plus the retention period, so its cost grows with the wait.",
            Chart(
                "Cost per workflow by review wait (USD)",
                _curve_chart(wait, "seconds until the person answers"),
            ),
            describe(wait, "Review wait", wait_label),
        ],
    )


def _curve_chart(points: Sequence[Point], axis: str) -> dict[str, Any]:
    rows = [{"pattern": p.pattern.label, "x": p.x, "USD": p.usd} for p in points]
    lines = (
        alt.Chart(alt.InlineData(values=rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("x:Q", scale=alt.Scale(type="log"), title=axis),
            y=alt.Y("USD:Q", title="USD per workflow"),
            color=_color(),
        )
        .properties(width=520, height=240)
    )
    crossings = [{"x": x} for x in break_even(points)]
    # A dashed rule marks each break-even point.
    rules = alt.Chart(alt.InlineData(values=crossings)).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    spec: dict[str, Any] = (lines + rules if crossings else lines).to_dict()
    return spec


def sections(data: ReportData) -> list[Section]:
    """The report's parts, in order: the answer first."""
    return [
        _summary(data),
        _runtime(data),
        _cost(data),
        _failure(data),
        _sensitivity(data),
        _projections(data),
        _developer(data),
        _method(data),
    ]


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
  color: #1b1b1b; line-height: 1.45; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left;
  vertical-align: top; }}
th {{ background: #f3f3f3; }}
figure {{ margin: 1rem 0; }}
figcaption {{ font-weight: 600; }}
nav a {{ margin-right: 1rem; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>Generated {generated}. Runtime numbers: {source}.</p>
<nav>{nav}</nav>
{body}
</body>
</html>
"""

TITLE = "Album registration: Step Functions versus Lambda durable functions"


def _html_block(block: Block) -> str:
    if isinstance(block, str):
        return f"<p>{html.escape(block)}</p>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in block.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    svg = vl_convert.vegalite_to_svg(block.spec)
    return f"<figure><figcaption>{html.escape(block.title)}</figcaption>{svg}</figure>"


def render_html(data: ReportData) -> str:
    """One self-contained page: inline CSS and inline SVG charts, no scripts, no network."""
    parts = sections(data)
    body = "\n".join(
        f'<section id="{s.id}"><h2>{html.escape(s.title)}</h2>'
        + "".join(_html_block(b) for b in s.blocks)
        + "</section>"
        for s in parts
    )
    nav = "".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in parts)
    return _PAGE.format(
        title=html.escape(TITLE),
        generated=html.escape(data.generated_at.isoformat(timespec="seconds")),
        source=html.escape(data.source),
        nav=nav,
        body=body,
    )


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(data: ReportData) -> str:
    """The same report in Markdown; charts are in the HTML page only."""
    lines = [
        f"# {TITLE}",
        "",
        f"Generated {data.generated_at.isoformat(timespec='seconds')}. "
        f"Runtime numbers: {data.source}.",
    ]
    for section in sections(data):
        lines += ["", f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, str):
                lines += [block, ""]
            elif isinstance(block, Table):
                lines.append("| " + " | ".join(_md_cell(h) or " " for h in block.headers) + " |")
                lines.append("|" + "---|" * len(block.headers))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
                lines.append("")
            else:
                lines += [f"*Chart: {block.title} (in the HTML report).*", ""]
    return "\n".join(lines).rstrip() + "\n"


def report_data(
    workflows: list[MeasuredWorkflow],
    dev: DevMetrics,
    source: str,
    *,
    lost: Mapping[str, int] | None = None,
    config: Mapping[str, Any] | None = None,
    environment: Mapping[str, Any] | None = None,
    generated_at: datetime | None = None,
    scenarios: Mapping[str, Any] | None = None,
    scenario_source: str | None = None,
    volume: int = DEFAULT_VOLUME,
) -> ReportData:
    """Bundle what the report shows (the clock is read here unless given)."""
    return ReportData(
        generated_at=generated_at or datetime.now(UTC),
        source=source,
        workflows=workflows,
        dev=dev,
        lost=lost,
        config=config,
        environment=environment,
        scenarios=scenarios,
        scenario_source=scenario_source,
        volume=volume,
    )
