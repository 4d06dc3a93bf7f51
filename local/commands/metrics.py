"""``albumreg metrics collect``: measure finished workflows from their execution histories."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from client.target import TargetError, load_target
from handlers.domain.errors import AlbumRegError
from handlers.domain.tenant import Pattern
from local.bench import PATTERNS, connect
from local.console import fail, table


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
        "--force", action="store_true", help="collect again (after a price table change)"
    )
    collect.add_argument("--env-file", type=Path, help="the running system's env file")
    collect.add_argument("--json", action="store_true", help="print the collected values")
    collect.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Collect and print one line per workflow."""
    patterns = [Pattern(args.pattern)] if args.pattern else list(PATTERNS)
    try:
        _, collector = connect(load_target(args.env_file))
        found = [
            collected
            for pattern in patterns
            for collected in collector.collect_recent(pattern, args.limit, force=args.force)
        ]
    except (TargetError, AlbumRegError, ValueError) as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps([{"pattern": c.pattern.value} | c.values for c in found], indent=2))
        return 0
    rows = [
        (
            c.pattern.value,
            c.upload_id,
            c.values.get("workflow_status"),
            c.values.get("active_seconds"),
            c.values.get("cost_total_usd"),
            "new" if c.written else "stored",
        )
        for c in found
    ]
    print(table(("pattern", "upload", "status", "active s", "cost USD", "metrics"), rows))
    return 0
