"""``albumreg uploads list``: uploads of both patterns by status, with the reason when refused.

The same status-index Query the dashboard uses; rejected and failed uploads show why.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from albumreg.cli.commands.review import PATTERN_CHOICES
from albumreg.client.connect import connect
from albumreg.client.console import fail, table
from albumreg.client.target import TargetError
from handlers.domain.models import WorkflowStatus

DEFAULT_LIMIT = 50


def register(subparsers: Any) -> None:
    """Add ``uploads list``."""
    parser = subparsers.add_parser("uploads", help="list uploads by status (and why they failed)")
    parser.add_argument("--env-file", type=Path, help="the local cloud's env file")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="uploads in one status, newest first")
    listing.add_argument(
        "--status",
        choices=[status.value for status in WorkflowStatus],
        default=WorkflowStatus.COMPLETED.value,
    )
    listing.add_argument("--pattern", choices=sorted(PATTERN_CHOICES), default="both")
    listing.add_argument("--limit", type=int, default=DEFAULT_LIMIT)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_list)


def run_list(args: argparse.Namespace) -> int:
    """Print the uploads of the chosen patterns in the chosen status."""
    if args.limit <= 0:
        return fail("--limit must be positive")
    try:
        repo = connect(args.env_file).deps.repo
        status = WorkflowStatus(args.status)
        uploads = [
            summary
            for pattern in PATTERN_CHOICES[args.pattern]
            for summary in repo.list_uploads(pattern, status, args.limit)
        ]
    except TargetError as exc:
        return fail(str(exc))
    uploads.sort(key=lambda summary: summary.received_at, reverse=True)
    if args.json:
        print(json.dumps([summary.model_dump(mode="json") for summary in uploads]))
        return 0
    if not uploads:
        print(f"no {status.value} uploads")
        return 0
    rows = [
        (
            summary.upload_id,
            summary.pattern.value,
            summary.key,
            summary.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            f"{summary.error}: {summary.cause}" if summary.error else None,
        )
        for summary in uploads
    ]
    print(table(("upload", "pattern", "key", "received (UTC)", "reason"), rows))
    return 0
