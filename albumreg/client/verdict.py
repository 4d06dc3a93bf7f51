"""The answer first: one table that says which orchestrator wins each measure, and by how much.

Pure: per-pattern figures go in (from collected METRICS items, a bench run's failure scenarios
and the repository's line counts), rows come out. The report and the dashboard's Comparison
page open with the same rows. Lower is better for every measure in the table.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.adapters.metrics_collector import CUSTOM_METRICS_PER_PATTERN
from handlers.domain.cost import (
    ALARMS,
    FixedResources,
    RateCard,
    mean_cost,
    monthly_projection,
)
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics

DEFAULT_VOLUME = 100_000
"""Workflows per month the summary's monthly cost is shown for."""

NOT_MEASURED = "not measured"
SAME = 0.01
"""Figures within 1% of each other are a tie: closer than the run-to-run noise."""


@dataclass(frozen=True)
class PatternFigures:
    """What the summary compares for one orchestrator; None where it was not measured.

    Attributes:
        cost_per_workflow_usd: mean cost of a completed workflow.
        cost_per_month_usd: that cost times the monthly volume, plus the pattern's own fixed
            monthly costs (its custom metrics and alarms).
        active_p50_s: median active duration (total minus the human wait).
        cold_starts: median cold starts per workflow.
        cold_start_source: where the cold-start figure comes from.
        failure_extra_usd: what a workflow costs more when the pricing API is down.
        orchestration_lines: code lines of the orchestration (ASL plus task handlers, or the
            durable handler).
        test_lines: code lines of the tests of this pattern alone.
    """

    cost_per_workflow_usd: float | None = None
    cost_per_month_usd: float | None = None
    active_p50_s: float | None = None
    cold_starts: float | None = None
    cold_start_source: str | None = None
    failure_extra_usd: float | None = None
    orchestration_lines: int | None = None
    test_lines: int | None = None


@dataclass(frozen=True)
class VerdictRow:
    """One measure: each pattern's value, the winner and the margin, in words.

    Attributes:
        measure: what is compared.
        values: each pattern's value, formatted (``not measured`` where absent).
        winner: the pattern with the lower value; None for a tie or a missing value.
        margin: by how much it wins, e.g. ``3.1x less`` or ``0.42 s less (13%)``.
    """

    measure: str
    values: dict[Pattern, str]
    winner: Pattern | None
    margin: str

    @property
    def verdict(self) -> str:
        """``Durable functions, 3.1x less``, ``tie`` or why there is no verdict."""
        if self.winner is None:
            return self.margin
        return f"{self.winner.label}, {self.margin}"


def usd(value: float) -> str:
    """Dollars with enough digits for a fraction of a cent."""
    if value == 0:
        return "$0"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    return f"${value:.6f}" if abs(value) >= 1e-4 else f"${value:.8f}"


def seconds(value: float) -> str:
    """Seconds, to the hundredth."""
    return f"{value:.2f} s"


def count(value: float) -> str:
    """A count or a median of counts."""
    return f"{value:g}"


def lines(value: float) -> str:
    """Lines of code."""
    return f"{value:,.0f} lines"


def compare(
    measure: str,
    figures: Mapping[Pattern, float | None],
    shown: Callable[[float], str],
    missing: str = NOT_MEASURED,
) -> VerdictRow:
    """The row of one measure where lower wins.

    The margin is a ratio when the loser is at least 1.5 times the winner, else the
    difference with its share of the loser's value.
    """
    known = {p: float(v) for p in PATTERNS if (v := figures.get(p)) is not None}
    values = {p: shown(known[p]) if p in known else missing for p in PATTERNS}
    if len(known) < len(PATTERNS):
        return VerdictRow(measure, values, None, "no verdict")
    low, high = sorted(PATTERNS, key=lambda p: known[p])
    best, worst = known[low], known[high]
    if worst == 0 or (worst - best) <= SAME * abs(worst):
        return VerdictRow(measure, values, None, "tie")
    if best > 0 and worst / best >= 1.5:
        return VerdictRow(measure, values, low, f"{worst / best:.1f}x less")
    share = (worst - best) / worst
    return VerdictRow(measure, values, low, f"{shown(worst - best)} less ({share:.0%})")


def verdict_rows(figures: Mapping[Pattern, PatternFigures], volume: int) -> list[VerdictRow]:
    """The summary table: cost, monthly cost, latency, cold starts, failure, code and tests."""

    def pick(attribute: str) -> dict[Pattern, float | None]:
        return {p: getattr(figures[p], attribute) for p in PATTERNS}

    return [
        compare("cost per workflow", pick("cost_per_workflow_usd"), usd),
        compare(f"cost per month at {volume:,} workflows", pick("cost_per_month_usd"), usd),
        compare("active latency p50", pick("active_p50_s"), seconds),
        compare("cold starts per workflow (p50)", pick("cold_starts"), count),
        compare(
            "cost of failure (pricing API down, extra per workflow)",
            pick("failure_extra_usd"),
            usd,
            missing="not measured (albumreg bench --scenarios)",
        ),
        compare("orchestration code", pick("orchestration_lines"), lines),
        compare("test code of one pattern", pick("test_lines"), lines),
    ]


def _median(values: Sequence[Any]) -> float | None:
    numbers = [float(v) for v in values if v is not None]
    return statistics.median(numbers) if numbers else None


def measured_figures(
    pattern: Pattern,
    completed: Sequence[WorkflowMetrics],
    volume: int,
    rates: RateCard,
) -> PatternFigures:
    """Cost, monthly cost, latency and cold starts of one pattern from its METRICS values.

    Args:
        pattern: which orchestrator.
        completed: the METRICS values of its completed workflows.
        volume: workflows per month for the monthly cost.
        rates: the AWS rate card for the fixed monthly costs.
    """
    breakdowns = [b for w in completed if (b := w.breakdown(pattern)) is not None]
    monthly = None
    per_workflow = None
    if breakdowns:
        mean = mean_cost(breakdowns)
        own = FixedResources(custom_metrics=CUSTOM_METRICS_PER_PATTERN, alarms=ALARMS[pattern])
        monthly = float(monthly_projection(mean, volume, own, rates).total_usd)
        per_workflow = float(mean.total)
    # Workflows that ran before cold starts were measured say so; the others say how.
    found = {w.cold_start_source for w in completed if w.cold_start_source}
    sources = sorted(found - {NOT_MEASURED} or found)
    return PatternFigures(
        cost_per_workflow_usd=per_workflow,
        cost_per_month_usd=monthly,
        active_p50_s=_median([w.active_seconds for w in completed]),
        cold_starts=_median([w.cold_starts for w in completed]),
        cold_start_source="; ".join(sources) or None,
    )
