"""``albumreg bench-dashboard``: seconds per dashboard page over a large table, and Scan count."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from albumreg.tools.dashboard_bench import render_table, run_benchmark


def register(subparsers: Any) -> None:
    """Add the ``bench-dashboard`` subcommand."""
    parser = subparsers.add_parser(
        "bench-dashboard",
        help="time every dashboard page over N seeded uploads per pattern; count Scans",
    )
    parser.add_argument(
        "--uploads",
        type=int,
        default=1000,
        metavar="N",
        help="uploads seeded per pattern (default %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Seed, draw, report; exit 1 when a page failed or a Scan was issued."""
    if args.uploads < 1:
        print("--uploads must be at least 1", file=sys.stderr)
        return 2
    bench = run_benchmark(args.uploads, lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(bench.as_dict(), indent=2) if args.json else render_table(bench))
    return 0 if bench.ok else 1
