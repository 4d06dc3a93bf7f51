"""``albumreg metrics collect``: measure finished workflows from their execution histories.

A workflow whose history is gone (expired, or lost with a local cloud's restart: the local
cloud keeps Step Functions histories in memory only) is listed as such, and the others are
still collected.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from albumreg.client.connect import connect
from albumreg.client.console import fail, table
from albumreg.client.formatting import duration
from albumreg.client.target import TargetError
from handlers.adapters.metrics_collector import CollectedMetrics
from handlers.domain.errors import AlbumRegError
from handlers.domain.models import FINAL_STATUSES
from handlers.domain.records import UploadSummary
from handlers.domain.tenant import PATTERNS, Pattern


def register(subparsers: Any) -> None:
    """Add the ``metrics`` subcommand and its ``collect`` verb."""
    parser = subparsers.add_parser(
        "metrics", help="per-workflow metrics from the orchestrators' own records"
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    collect = verbs.add_parser(
        "collect",
        help="collect finished workflows: store their METRICS and publish to CloudWatch",
    )
    collect.add_argument(
        "--pattern", choices=[p.value for p in PATTERNS], help="one pattern (default: both)"
    )
    collect.add_argument(
        "--limit", type=int, default=50, help="newest workflows per pattern and final status"
    )
    collect.add_argument(
        "--force", action="store_true", help="collect again (after a rate card change)"
    )
    collect.add_argument("--env-file", type=Path, help="the running system's env file")
    collect.add_argument("--json", action="store_true", help="print the collected values")
    collect.set_defaults(run=run)


HISTORY_GONE = frozenset({"ExecutionDoesNotExist", "ResourceNotFoundException"})
"""What Step Functions and Lambda answer for an execution they no longer know."""


def run(args: argparse.Namespace) -> int:
    """Collect and print one line per workflow."""
    patterns = [Pattern(args.pattern)] if args.pattern else list(PATTERNS)
    found: list[CollectedMetrics] = []
    gone: list[UploadSummary] = []
    try:
        connection = connect(args.env_file)
        deps, collector = connection.deps, connection.collector
        for pattern in patterns:
            for status in sorted(FINAL_STATUSES):
                for summary in deps.repo.list_uploads(pattern, status, args.limit):
                    try:
                        collected = collector.collect(pattern, summary.upload_id, force=args.force)
                    except ClientError as exc:
                        if exc.response.get("Error", {}).get("Code") not in HISTORY_GONE:
                            raise
                        gone.append(summary)
                        continue
                    if collected is not None:
                        found.append(collected)
    except (TargetError, AlbumRegError, ValueError) as exc:
        return fail(str(exc))
    if args.json:
        documents = [c.workflow.model_dump(mode="json", exclude_none=True) for c in found]
        print(json.dumps(documents, indent=2))
        return 0
    rows = [
        (
            c.pattern.value,
            c.upload_id,
            c.metrics.workflow_status.value if c.metrics.workflow_status else None,
            _seconds(c.metrics.active_seconds),
            _usd(c.metrics.cost_total_usd),
            "new" if c.written else "stored",
        )
        for c in found
    ]
    rows += [
        (s.pattern.value, s.upload_id, s.status.value, None, None, "history gone") for s in gone
    ]
    print(table(("pattern", "upload", "status", "active", "cost", "metrics"), rows))
    return 0


def _seconds(value: float | None) -> str | None:
    return None if value is None else duration(value)


def _usd(value: Decimal | None) -> str | None:
    """Dollars to the hundred-millionth, as ``albumreg bench`` prints a workflow's cost."""
    return None if value is None else f"${float(value):.8f}"
