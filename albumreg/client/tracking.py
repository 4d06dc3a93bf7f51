"""Following workflows to their end: shared by ``albumreg demo`` and ``albumreg bench``.

Imports no CLI module; works on the local cloud and on AWS through the same ``Dependencies``.
"""

from __future__ import annotations

from handlers.domain.errors import AlbumRegError
from handlers.domain.models import FINAL_STATUSES, ReviewDecision
from handlers.domain.records import UploadRecord
from handlers.domain.reviews import submit_review
from handlers.domain.tenant import Pattern
from handlers.domain.timeline import Timeline
from handlers.wiring import Dependencies

GRACE_SECONDS = 120
"""How long a follower waits beyond the review timeout before it gives up on a workflow."""


def is_final(record: UploadRecord | None, timeline: Timeline | None) -> bool:
    """Final once the stored record is, and the orchestrator has closed the execution too."""
    return (
        record is not None
        and record.summary.status in FINAL_STATUSES
        and timeline is not None
        and timeline.ended_at is not None
    )


def approve(pattern: Pattern, upload_id: str, deps: Dependencies, reviewer: str) -> str | None:
    """Approve an open review as extracted, as a person would.

    Returns:
        None when the workflow was resumed, or why it could not be (already closed, expired).
    """
    try:
        submit_review(
            pattern,
            upload_id,
            ReviewDecision(action="approve", reviewer=reviewer),
            repo=deps.repo,
            inbox=deps.inbox,
            clock=deps.clock,
        )
    except AlbumRegError as exc:
        return str(exc)
    return None
