"""The Comparison page's opening table, as plain data: which orchestrator wins, by how much.

The same rows as the report's "The answer" (``albumreg.client.verdict``), from the METRICS items of
the newest completed executions of each pattern. Two measures need tools the dashboard does not
run: lines of code (``albumreg report`` counts them in the repository) and the cost of failure
(``albumreg bench --scenarios`` injects the faults); their rows say so. Must not import
Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping

from albumreg.client.verdict import PatternFigures, VerdictRow, measured_figures, verdict_rows
from albumreg.dashboard.data.backend import Backend
from handlers.domain.cost import FALLBACK_REGION, rate_card
from handlers.domain.records import UploadSummary
from handlers.domain.tenant import PATTERNS, Pattern

ELSEWHERE = {
    "orchestration code": "measured by albumreg report",
    "test code of one pattern": "measured by albumreg report",
}
"""Rows whose figures come from the repository, not from the running system."""


def summary_rows(
    backend: Backend, completed: Mapping[Pattern, list[UploadSummary]], volume: int
) -> list[VerdictRow]:
    """The summary table from the stored METRICS of the given completed uploads.

    One BatchGetItem per hundred uploads and pattern. The AWS rates are the card of the region
    the metrics were costed in (us-east-1 when none is stored).
    """
    figures: dict[Pattern, PatternFigures] = {}
    for pattern in PATTERNS:
        ids = [summary.upload_id for summary in completed.get(pattern, [])]
        stored = backend.deps.repo.get_metrics(pattern, ids) if ids else {}
        values = list(stored.values())
        region = next((v.region for v in values if v.region), FALLBACK_REGION)
        figures[pattern] = measured_figures(pattern, values, volume, rate_card(region))
    rows = verdict_rows(figures, volume)
    return [
        row
        if row.measure not in ELSEWHERE
        else VerdictRow(
            row.measure,
            dict.fromkeys(PATTERNS, ELSEWHERE[row.measure]),
            None,
            "see the report",
        )
        for row in rows
    ]
