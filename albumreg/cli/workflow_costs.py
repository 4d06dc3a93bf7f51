"""Cost per workflow and cold starts as each workflow recorded them, for the demo's closing table.

The collector function writes them into the upload's METRICS item a moment after the execution
ends (``albumreg.cloud.status_events``); this waits for that item, reads it and lays it out. Nothing
is computed here: the figures are the stored ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from albumreg.client.console import table
from handlers.domain.cost import SHARED_COMPONENTS, Component, in_words
from handlers.domain.ports import AlbumRepository
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics

WAIT_SECONDS = 30.0
"""How long after both workflows ended the demo waits for their METRICS items."""


def wait_for_metrics(
    repo: AlbumRepository,
    upload_id: str,
    patterns: Iterable[Pattern],
    *,
    timeout: float = WAIT_SECONDS,
    poll: float = 0.25,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[Pattern, WorkflowMetrics]:
    """Each pattern's METRICS item once the collector wrote it (missing ones after ``timeout``)."""
    wanted = list(patterns)
    found: dict[Pattern, WorkflowMetrics] = {}
    deadline = time.monotonic() + timeout
    while True:
        for pattern in [p for p in wanted if p not in found]:
            item = repo.get_metrics(pattern, [upload_id]).get(upload_id)
            if item is not None and item.collected:
                found[pattern] = item
        if len(found) == len(wanted) or time.monotonic() >= deadline:
            return found
        sleep(poll)


def cost_fields(metrics: WorkflowMetrics | None) -> dict[str, Any]:
    """The JSON a pattern's part of the demo document carries about cost and cold starts.

    ``cost_per_workflow_usd`` is the workflow's whole cost, ``cost_orchestration_usd`` what
    depends on the orchestrator (orchestration plus compute, as in the METRICS item), and
    ``cost_components_usd`` each component; None when the workflow recorded nothing.
    """
    found = metrics or WorkflowMetrics()
    return {
        "cost_per_workflow_usd": _number(found.cost_total_usd),
        "cost_orchestration_usd": _number(found.cost_orchestration_usd),
        "cost_components_usd": (
            {name: float(usd) for name, usd in found.cost.items()} if found.cost else None
        ),
        "cold_starts": found.cold_starts,
        "init_durations_s": list(found.init_durations_s),
        "cold_start_source": found.cold_start_source,
    }


def cost_table(parts: Mapping[Pattern, Mapping[str, Any]]) -> str:
    """Per pattern: orchestration, compute and total USD per workflow, and its cold starts."""
    rows = []
    sources = set()
    for pattern, part in parts.items():
        components = part.get("cost_components_usd") or {}
        durations = part.get("init_durations_s") or []
        cold = part.get("cold_starts")
        if part.get("cold_start_source"):
            sources.add(str(part["cold_start_source"]))
        rows.append(
            (
                pattern.label,
                _usd(components.get(Component.ORCHESTRATION)),
                _usd(components.get(Component.COMPUTE)),
                _usd(part.get("cost_per_workflow_usd")),
                "-" if cold is None else f"{cold:g}",
                ", ".join(f"{s:.2f}s" for s in durations) or "-",
            )
        )
    text = table(
        (
            "pattern",
            Component.ORCHESTRATION,
            Component.COMPUTE,
            "cost per workflow",
            "cold starts",
            "init",
        ),
        rows,
    )
    notes = [
        "USD per workflow at AWS list rates; the total adds the shared "
        f"{in_words(SHARED_COMPONENTS)} costs (the offline recognizer costs nothing)."
    ]
    notes += [f"Cold starts: {source}." for source in sorted(sources)]
    return text + "\n" + "\n".join(notes)


def _number(value: Decimal | int | None) -> float | None:
    return None if value is None else float(value)


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:.6f}"
