"""The report's opening: the summary figures per pattern, and when the verdict flips.

Pure: collected workflows, a bench run's failure scenarios and the repository's line counts go
in; ``albumreg.client.verdict.PatternFigures`` and sentences come out. The sentences name the
break-even points of the sensitivity curves (``albumreg.tools.sensitivity``) and what the failure
scenarios cost each orchestrator (``albumreg.tools.failure_costs``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from albumreg.client.verdict import PatternFigures, measured_figures, usd
from albumreg.tools.failure_costs import BASELINE, extra_cost
from albumreg.tools.repository_metrics import DevMetrics
from albumreg.tools.sensitivity import Point, describe, latency_label, wait_label
from handlers.domain.cost import RateCard
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.workflow_metrics import MeasuredWorkflow

OUTAGE = "pricing-outage"
"""The scenario the summary's "cost of failure" row reads: every price agent exhausts its
retries, so it shows what each orchestrator's retries cost."""


def completed(workflows: Sequence[MeasuredWorkflow], pattern: Pattern) -> list[MeasuredWorkflow]:
    """One pattern's completed workflows (failure scenarios are reported apart)."""
    return [w for w in workflows if w.pattern is pattern and w.completed]


def summary_figures(
    workflows: Sequence[MeasuredWorkflow],
    scenarios: Mapping[str, Mapping[str, Any]] | None,
    dev: DevMetrics,
    volume: int,
    rates: RateCard,
) -> dict[Pattern, PatternFigures]:
    """Every figure of the summary table, per pattern."""
    figures = {}
    for pattern in PATTERNS:
        found = measured_figures(pattern, completed(workflows, pattern), volume, rates)
        figures[pattern] = dataclasses.replace(
            found,
            failure_extra_usd=extra_cost(scenarios, OUTAGE, pattern) if scenarios else None,
            orchestration_lines=sum(f.code for f in dev.orchestration.get(pattern.value, [])),
            test_lines=sum(f.code for f in dev.tests.get(pattern.value, [])),
        )
    return figures


def failure_sentence(scenarios: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Which orchestrator spends less extra when something fails, scenario by scenario."""
    extras: dict[str, dict[Pattern, float]] = {}
    for name in scenarios:
        if name == BASELINE:
            continue
        found = {
            p: extra for p in PATTERNS if (extra := extra_cost(scenarios, name, p)) is not None
        }
        if len(found) == len(PATTERNS):
            extras[name] = found
    if not extras:
        return None
    wins = {p: [n for n, e in extras.items() if e[p] < e[_other(p)]] for p in PATTERNS}
    leader = max(PATTERNS, key=lambda p: len(wins[p]))
    worst = max(extras, key=lambda n: max(extras[n].values()))
    worst_pattern = max(PATTERNS, key=lambda p: extras[worst][p])
    return (
        f"When something fails, {leader.label} spends less extra per workflow than happy in "
        f"{len(wins[leader])} of {len(extras)} failure scenarios"
        + (
            f" (the other way round in {', '.join(wins[_other(leader)])})"
            if wins[_other(leader)]
            else ""
        )
        + f"; the costliest failure is {worst} on {worst_pattern.label}, "
        f"{usd(extras[worst][worst_pattern])} more than a happy workflow."
    )


def _other(pattern: Pattern) -> Pattern:
    return Pattern.DURABLE if pattern is Pattern.STEP_FUNCTIONS else Pattern.STEP_FUNCTIONS


def flip_sentences(
    latency: Sequence[Point],
    review_wait: Sequence[Point],
    scenarios: Mapping[str, Mapping[str, Any]] | None,
) -> list[str]:
    """When the verdict on cost flips: the sensitivity curves and the failure scenarios."""
    sentences = [
        describe(latency, "Price API latency", latency_label),
        describe(review_wait, "Review wait", wait_label),
    ]
    failure = failure_sentence(scenarios) if scenarios else None
    sentences.append(
        failure or "Failure scenarios: not measured (run albumreg bench --scenarios all)."
    )
    return sentences
