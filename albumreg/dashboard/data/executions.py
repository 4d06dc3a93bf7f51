"""The Executions page's data: which uploads can be inspected, and both executions of one.

Every status of both patterns, newest first, failures first; the inspection itself is
``albumreg.client.inspector``'s, shared with ``albumreg inspect``.
"""

from __future__ import annotations

from albumreg.client.inspector import Inspection, history_reader, inspect_upload
from albumreg.dashboard.data.albums import UploadRow, list_uploads, merge_uploads
from albumreg.dashboard.data.backend import Backend
from handlers.domain.models import WorkflowStatus
from handlers.domain.tenant import PATTERNS


def inspectable_uploads(backend: Backend, limit: int) -> list[UploadRow]:
    """Uploads of both patterns in every status, newest first, those that failed first.

    One Query on the status index per pattern and status.
    """
    summaries = [
        summary
        for pattern in PATTERNS
        for status in WorkflowStatus
        for summary in list_uploads(backend, pattern, status, limit)
    ]
    rows = merge_uploads(summaries)
    failed = [row for row in rows if WorkflowStatus.FAILED in row.statuses.values()]
    return failed + [row for row in rows if row not in failed]


def inspection(backend: Backend, upload_id: str) -> Inspection:
    """Both executions of one upload, with console links when the system runs on AWS."""
    deps = backend.deps
    read = history_reader(deps.client("stepfunctions"), deps.client("lambda"))
    region = None if backend.target.is_local else backend.target.region
    return inspect_upload(deps.repo, read, upload_id, region=region)
