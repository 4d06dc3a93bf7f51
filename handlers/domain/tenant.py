"""The two orchestrators, which are also the tenants of the shared table (`sf#` / `ldf#`)."""

from __future__ import annotations

from enum import StrEnum


class Pattern(StrEnum):
    """Which orchestrator ran a workflow; its value is the key prefix in DynamoDB."""

    STEP_FUNCTIONS = "sf"
    DURABLE = "ldf"

    @property
    def label(self) -> str:
        """Human name for tables and charts."""
        return "Step Functions" if self is Pattern.STEP_FUNCTIONS else "Durable functions"

    @property
    def metric_namespace(self) -> str:
        """CloudWatch namespace: each orchestrator reports into its own."""
        suffix = "StepFunctions" if self is Pattern.STEP_FUNCTIONS else "DurableFunctions"
        return f"AlbumRegistration/{suffix}"

    @property
    def billed_unit(self) -> str:
        """What the orchestrator bills per workflow: the unit of its ``billed_units`` count."""
        return "state transitions" if self is Pattern.STEP_FUNCTIONS else "durable operations"


PATTERNS: tuple[Pattern, ...] = tuple(Pattern)
"""Both orchestrators, Step Functions first: the order of every table, chart and loop."""
