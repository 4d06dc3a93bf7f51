"""The demo's cost table and JSON fields, from stored METRICS items."""

from __future__ import annotations

from decimal import Decimal

from albumreg.cli.workflow_costs import cost_fields, cost_table, wait_for_metrics
from handlers.domain.tenant import Pattern
from handlers.domain.workflow_metrics import WorkflowMetrics

SF, LDF = Pattern.STEP_FUNCTIONS, Pattern.DURABLE
STORED = WorkflowMetrics.model_validate(
    {
        "collected_at": "2026-12-03T07:00:00+00:00",
        "cost": {"orchestration": Decimal("0.000275"), "compute": Decimal("0.000641")},
        "cost_total_usd": Decimal("0.00096"),
        "cost_orchestration_usd": Decimal("0.000916"),
        "cold_starts": Decimal(2),
        "init_durations_s": [Decimal("1.61"), Decimal("0.76")],
        "cold_start_source": "local worker processes",
    }
)
NOT_COLLECTED = WorkflowMetrics(execution_id="x", albums_priced=6)


class Repo:
    """Answers ``get_metrics`` with the results at first, the collected item after some reads."""

    def __init__(self, ready_after: int) -> None:
        self.reads = 0
        self.ready_after = ready_after

    def get_metrics(self, pattern: Pattern, upload_ids: list[str]) -> dict[str, WorkflowMetrics]:
        self.reads += 1
        if self.reads == 1:
            return {}
        return {upload_ids[0]: STORED if self.reads > self.ready_after else NOT_COLLECTED}


def test_fields_carry_the_stored_figures_as_json_numbers() -> None:
    fields = cost_fields(STORED)
    assert fields["cost_per_workflow_usd"] == 0.00096
    assert fields["cost_orchestration_usd"] == 0.000916
    assert fields["cost_components_usd"] == {"orchestration": 0.000275, "compute": 0.000641}
    assert (fields["cold_starts"], fields["init_durations_s"]) == (2, [1.61, 0.76])
    assert isinstance(fields["cold_starts"], int)  # a count, not a float, in the demo's JSON
    assert cost_fields(None)["cost_per_workflow_usd"] is None
    assert cost_fields(NOT_COLLECTED)["cost_components_usd"] is None


def test_table_shows_orchestration_compute_total_and_cold_starts_per_pattern() -> None:
    text = cost_table({SF: cost_fields(STORED), LDF: cost_fields(None)})
    sf_row = next(line for line in text.splitlines() if line.startswith(SF.label))
    assert "$0.000275" in sf_row and "$0.000641" in sf_row and "$0.000960" in sf_row
    assert "1.61s, 0.76s" in sf_row
    assert "Cold starts: local worker processes." in text


def test_waits_until_the_collector_wrote_the_item() -> None:
    repo = Repo(ready_after=2)
    waits: list[float] = []
    found = wait_for_metrics(repo, "u", [SF], sleep=waits.append)  # type: ignore[arg-type]
    assert found[SF].cost_total_usd == Decimal("0.00096")
    assert len(waits) == 2
