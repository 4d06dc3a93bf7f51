"""Step names shared by the ASL states, the durable operations and the dashboard labels.

One list, kebab-case, so a timeline of either orchestrator reads the same. Must not import
anything outside the standard library.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """The four steps of the workflow, in order."""

    EXTRACT = "extract-albums"
    REVIEW = "review-years"
    PRICE = "price-albums"
    STORE = "store-results"


WORKFLOW_STEPS: tuple[Step, ...] = tuple(Step)

# Names of the supporting states/operations that are not business steps.
RECORD_FAILURE = "record-failure"
RECORD_REJECTION = "record-rejection"
RECORD_TIMEOUT = "record-review-timeout"
PRICE_ONE_ALBUM = "price-album"


def price_agent_name(slot: int) -> str:
    """Name of one price agent, e.g. ``price-album-3``: stable across replays."""
    return f"{PRICE_ONE_ALBUM}-{slot}"


STEP_LABELS: dict[Step, str] = {
    Step.EXTRACT: "Extract albums",
    Step.REVIEW: "Human review",
    Step.PRICE: "Price agents",
    Step.STORE: "Store results",
}

# Step Functions control states: the Choice, Pass, Succeed and Fail states of the
# ASL. They carry no business logic, so the durable workflow has no operation of these names.
REVIEW_OUTCOME = "review-outcome"
PRICE_FAILED = "price-album-failed"
DUPLICATE_UPLOAD = "duplicate-upload"
UPLOAD_REJECTED = "upload-rejected"
WORKFLOW_FAILED = "workflow-failed"
