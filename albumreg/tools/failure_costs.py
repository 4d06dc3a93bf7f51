"""What failure costs: each scenario's figures per orchestrator, and their difference from happy.

Pure: per-workflow METRICS values (as ``albumreg bench`` collects them) go in, the figures of
``scenarios.<name>.<sf|ldf>`` and the rows of the report's "What failure costs" table come out.
Unlike the runtime summary, every finished workflow counts (failed and rejected ones too):
what a failure costs is the point.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from albumreg.tools.workflow_bench import percentile
from handlers.domain.models import WorkflowStatus
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics

BASELINE = "happy"


def _values(values: Iterable[float | Decimal | None]) -> list[float]:
    return [float(value) for value in values if value is not None]


def retry_count(workflow: WorkflowMetrics) -> int | None:
    """Retries of one workflow over all its steps (METRICS ``retries``), None if not recorded."""
    return None if workflow.retries is None else sum(workflow.retries.values())


def scenario_figures(
    workflows: Sequence[WorkflowMetrics], lost: int, unfinished: int = 0
) -> dict[str, Any]:
    """One pattern's figures in one scenario, over every workflow that finished.

    ``lost`` counts workflows that never finished; ``unfinished`` those still making progress
    when the bench stopped waiting (see ``albumreg.tools.workflow_bench``).

    Medians of timings and counts, the mean of the cost; None where no workflow recorded it
    (``retries`` and the other retry figures come with the METRICS item when it has them).
    """
    statuses = [w.workflow_status for w in workflows]
    retries = [float(n) for w in workflows if (n := retry_count(w)) is not None]
    costs = _values(w.cost_total_usd for w in workflows)
    return {
        "completed": statuses.count(WorkflowStatus.COMPLETED),
        "failed": statuses.count(WorkflowStatus.FAILED),
        "rejected": statuses.count(WorkflowStatus.REJECTED),
        "lost": lost,
        "unfinished": unfinished,
        "active_p50_s": percentile(_values(w.active_seconds for w in workflows), 0.5),
        "billed_units_p50": percentile(_values(w.billed_units for w in workflows), 0.5),
        "retries_p50": percentile(retries, 0.5),
        "retry_billed_units_p50": percentile(_values(w.retry_billed_units for w in workflows), 0.5),
        "lambda_invocations_p50": percentile(_values(w.lambda_invocations for w in workflows), 0.5),
        "retry_lambda_invocations_p50": percentile(
            _values(w.retry_lambda_invocations for w in workflows), 0.5
        ),
        "backoff_p50_s": percentile(_values(w.backoff_seconds for w in workflows), 0.5),
        "cost_per_workflow_usd": statistics.fmean(costs) if costs else None,
    }


COMPARED: tuple[tuple[str, str], ...] = (
    ("active_p50_s", "active p50 (s)"),
    ("billed_units_p50", "billed units p50"),
    ("retries_p50", "retries p50"),
    ("lambda_invocations_p50", "Lambda invocations p50"),
    ("cost_per_workflow_usd", "cost per workflow (USD)"),
)
"""The figures shown with their difference from ``happy``, and their column titles."""


@dataclass(frozen=True)
class FailureRow:
    """One scenario and pattern: outcomes, and each compared figure with its change.

    Attributes:
        scenario: the scenario's name.
        pattern: which orchestrator.
        outcomes: completed / failed / rejected / lost, as text.
        figures: each compared key -> (value, value minus happy's), None where unknown.
    """

    scenario: str
    pattern: Pattern
    outcomes: str
    figures: dict[str, tuple[float | None, float | None]]


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _difference(value: Any, base: Any) -> float | None:
    if value is None or base is None:
        return None
    return float(value) - float(base)


def failure_rows(scenarios: Mapping[str, Mapping[str, Any]]) -> list[FailureRow]:
    """Rows of the "What failure costs" table: every scenario and pattern, in document order.

    Args:
        scenarios: ``scenarios`` of a bench document: name -> pattern value -> figures.
    """
    baseline = scenarios.get(BASELINE, {})
    rows = []
    for name, by_pattern in scenarios.items():
        for pattern in PATTERNS:
            figures = by_pattern.get(pattern.value)
            if not isinstance(figures, Mapping):
                continue
            base = baseline.get(pattern.value) or {}
            outcomes = ", ".join(
                f"{figures.get(key, 0)} {key}"
                for key in ("completed", "failed", "rejected", "lost", "unfinished")
                if figures.get(key)
            )
            rows.append(
                FailureRow(
                    scenario=name,
                    pattern=pattern,
                    outcomes=outcomes or "none finished",
                    figures={
                        key: (
                            _number(figures.get(key)),
                            None
                            if name == BASELINE
                            else _difference(figures.get(key), base.get(key)),
                        )
                        for key, _ in COMPARED
                    },
                )
            )
    return rows


def extra_cost(
    scenarios: Mapping[str, Mapping[str, Any]], scenario: str, pattern: Pattern
) -> float | None:
    """What one workflow costs more in ``scenario`` than in ``happy`` (None when unknown)."""
    found = scenarios.get(scenario, {}).get(pattern.value) or {}
    base = scenarios.get(BASELINE, {}).get(pattern.value) or {}
    return _difference(found.get("cost_per_workflow_usd"), base.get("cost_per_workflow_usd"))
