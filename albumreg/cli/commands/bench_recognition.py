"""``albumreg bench-recognition``: how often and how fast the offline recognizer reads covers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from albumreg.tools.recognition_bench import render_table, run_benchmark


def register(subparsers: Any) -> None:
    """Add the ``bench-recognition`` subcommand."""
    parser = subparsers.add_parser(
        "bench-recognition",
        help="measure the offline recognizer on generated photos of every variant",
    )
    parser.add_argument(
        "--images-per-variant",
        type=int,
        default=5,
        metavar="N",
        help="photos generated per variant (default 5; about 1 s each on 2 cores)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; progress goes to stderr, the report to stdout."""
    if args.images_per_variant < 1:
        print("--images-per-variant must be at least 1", file=sys.stderr)
        return 2
    # Local-only packages, imported when the command runs so other commands start fast.
    from albumreg.cloud.catalog import load_catalog  # noqa: PLC0415
    from albumreg.cloud.recognition.ocr import OcrRecognizer  # noqa: PLC0415

    report = run_benchmark(
        OcrRecognizer(load_catalog()),
        images_per_variant=args.images_per_variant,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(json.dumps(report.as_dict(), indent=2) if args.json else render_table(report))
    return 0
