"""``albumreg bench --scenarios``: each failure scenario through both orchestrators.

Each scenario gets a fresh local cloud (so its pricing faults, vision fault and review timeout
start clean), the same uploads as a plain bench run, and an automatic reviewer that does what
the scenario says. The document holds ``scenarios.<name>.<sf|ldf>`` (see
``albumreg.tools.failure_costs.scenario_figures``) and every workflow's METRICS values tagged with
its scenario. Local cloud only: the faults are knobs of the local pricing API and recognizer.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from albumreg.client.console import table
from albumreg.tools.failure_costs import COMPARED, FailureRow, failure_rows, scenario_figures
from albumreg.tools.scenarios import ReviewAction, Scenario
from albumreg.tools.workflow_bench import REVIEWER, Bench, BenchOptions, local_system
from handlers.adapters.metrics_collector import MetricsCollector
from handlers.domain.errors import AlbumRegError
from handlers.domain.models import ReviewDecision
from handlers.domain.reviews import submit_review
from handlers.domain.tenant import PATTERNS, Pattern
from handlers.domain.workflow_metrics import MeasuredWorkflow
from handlers.wiring import Dependencies

DEFAULT_SCENARIOS_SAVE = Path(".albumreg") / "bench-scenarios.json"
"""Where a scenario run's document goes; ``albumreg report`` reads it for "What failure costs"."""

REJECT_COMMENT = "rejected by albumreg bench (scenario review-rejected)"


class ScenarioBench(Bench):
    """A bench run whose automatic reviewer approves, rejects or never answers."""

    def __init__(
        self,
        options: BenchOptions,
        deps: Dependencies,
        collector: MetricsCollector,
        bucket: str,
        progress: Callable[[str], None],
        review: ReviewAction,
    ) -> None:
        super().__init__(options, deps, collector, bucket, progress)
        self.review = review

    def decide(self, pattern: Pattern, upload_id: str) -> None:
        """Approve, reject, or leave the review open until the workflow's timeout."""
        if self.review == "approve":
            super().decide(pattern, upload_id)
        elif self.review == "reject":
            decision = ReviewDecision(action="reject", reviewer=REVIEWER, comment=REJECT_COMMENT)
            try:
                submit_review(
                    pattern,
                    upload_id,
                    decision,
                    repo=self.deps.repo,
                    inbox=self.deps.inbox,
                    clock=self.deps.clock,
                )
            except AlbumRegError:
                # Already closed or expired: the workflow decides without us, and the
                # collected outcome says what happened.
                return


def run_scenario(
    options: BenchOptions, scenario: Scenario, progress: Callable[[str], None]
) -> tuple[dict[str, Any], list[MeasuredWorkflow]]:
    """One scenario on a fresh local cloud.

    Returns:
        The figures per pattern (with the scenario's description), and its workflows.
    """
    timeout = scenario.review_timeout_seconds or options.review_timeout_seconds
    scenario_options = replace(options, review_timeout_seconds=timeout, save=None)
    with (
        tempfile.TemporaryDirectory(prefix=f"albumreg-{scenario.name}-") as faults,
        local_system(
            scenario_options,
            pricing=scenario.knobs(options.price_latency),
            fault=scenario.injector(Path(faults)),
        ) as (deps, collector, bucket),
    ):
        bench = ScenarioBench(
            scenario_options,
            deps,
            collector,
            bucket,
            lambda text: progress(f"{scenario.name}: {text}" if text else ""),
            scenario.review,
        )
        bench.run()
    figures: dict[str, Any] = {"description": scenario.description}
    for pattern in PATTERNS:
        mine = [w for w in bench.workflows if w.pattern is pattern]
        figures[pattern.value] = scenario_figures(
            mine, bench.lost[pattern], bench.unfinished[pattern]
        )
    return figures, [w.model_copy(update={"scenario": scenario.name}) for w in bench.workflows]


def scenarios_document(
    options: BenchOptions,
    scenarios: Sequence[Scenario],
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Run every scenario, one after the other; the JSON document."""
    started = time.monotonic()
    results: dict[str, Any] = {}
    workflows: list[MeasuredWorkflow] = []
    for scenario in scenarios:
        results[scenario.name], found = run_scenario(options, scenario, progress)
        workflows += found
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "config": asdict(options)
        | {
            "image": str(options.image),
            "save": None,
            "env_file": None,
            "scenarios": [scenario.name for scenario in scenarios],
        },
        "environment": {
            "cpus": os.cpu_count(),
            "load_average": list(load) if load else None,
            "python": sys.version.split()[0],
            "finished_at": datetime.now(UTC).isoformat(),
            "wall_seconds": time.monotonic() - started,
        },
        "scenarios": results,
        "workflows": [w.model_dump(mode="json", exclude_none=True) for w in workflows],
    }


def _cell(value: float | None, difference: float | None, usd: bool) -> str:
    if value is None:
        return "-"
    shown = f"${value:.8f}" if usd else f"{value:.3g}"
    if difference is None:
        return shown
    change = f"{difference:+.8f}" if usd else f"{difference:+.3g}"
    return f"{shown} ({change})"


def render_rows(rows: Sequence[FailureRow]) -> list[tuple[str, ...]]:
    """The "What failure costs" rows as text cells: each figure with its change from happy."""
    return [
        (
            row.scenario,
            row.pattern.label,
            row.outcomes,
            *(_cell(*row.figures[key], usd=key.endswith("_usd")) for key, _ in COMPARED),
        )
        for row in rows
    ]


HEADERS = ("scenario", "pattern", "outcomes", *(title for _, title in COMPARED))


def render_scenarios(document: Mapping[str, Any]) -> str:
    """The scenario table as aligned text: values with their difference from ``happy``."""
    return table(HEADERS, render_rows(failure_rows(document["scenarios"])))


def run_scenario_bench(
    options: BenchOptions,
    scenarios: Sequence[Scenario],
    out: TextIO,
    err: TextIO,
    *,
    as_json: bool,
    save: Path | None = DEFAULT_SCENARIOS_SAVE,
) -> int:
    """Run, print, save; exit status 0 only when no workflow was lost.

    Raises:
        ValueError: options a scenario run cannot take (a deployed target, a global fault rate).
    """
    options.check()
    if options.target != "local":
        raise ValueError("--scenarios injects faults into the local cloud: use --target local")
    if options.fault_rate:
        raise ValueError("--fault-rate and --scenarios do not mix: each scenario sets its faults")

    def progress(text: str) -> None:
        end = "\n" if not text else ""
        err.write(f"\r{text}{end}")
        err.flush()

    names = ", ".join(scenario.name for scenario in scenarios)
    err.write(f"albumreg bench: {options.uploads} uploads per scenario ({names})\n")
    document = scenarios_document(options, scenarios, progress)
    if save is not None:
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_text(json.dumps(document, indent=2, default=str) + "\n")
    if as_json:
        print(json.dumps(document, indent=2, default=str), file=out)
    else:
        print(render_scenarios(document), file=out)
        if save is not None:
            print(f"\nsaved to {save} (albumreg report reads it)", file=out)
    lost = sum(
        figures[p.value]["lost"] for figures in document["scenarios"].values() for p in PATTERNS
    )
    return 0 if lost == 0 else 1
