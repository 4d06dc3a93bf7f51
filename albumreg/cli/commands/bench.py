"""``albumreg bench``: many uploads through both workflows; timings and cost per pattern."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from albumreg.client.console import fail
from albumreg.client.target import TargetError
from albumreg.cloud.local_cloud import PortInUseError
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from albumreg.tools.scenario_bench import DEFAULT_SCENARIOS_SAVE, run_scenario_bench
from albumreg.tools.scenarios import ALL, SCENARIOS, select
from albumreg.tools.workflow_bench import DEFAULT_SAVE, STANDARD_COMMAND, BenchOptions, run_bench
from handlers.domain.errors import AlbumRegError


def register(subparsers: Any) -> None:
    """Add the ``bench`` subcommand."""
    defaults = BenchOptions()
    parser = subparsers.add_parser(
        "bench",
        help="run many uploads through both workflows and compare timings and cost",
        description=f"Standard configuration (make bench): {STANDARD_COMMAND}",
    )
    parser.add_argument("--uploads", type=int, default=defaults.uploads, help="photos to upload")
    parser.add_argument(
        "--concurrency", type=int, default=defaults.concurrency, help="uploads in flight at once"
    )
    parser.add_argument(
        "--price-latency",
        type=float,
        default=defaults.price_latency,
        help="seconds the local pricing API adds to each request (default %(default)s)",
    )
    parser.add_argument(
        "--vision-latency",
        type=float,
        default=defaults.vision_latency,
        help="seconds added before each recognition, like a remote model (default %(default)s)",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=defaults.fault_rate,
        help="fraction of pricing API requests failing (default %(default)s)",
    )
    parser.add_argument(
        "--review-timeout",
        type=int,
        default=defaults.review_timeout_seconds,
        help="seconds the workflows wait for the automatic reviewer (default %(default)s)",
    )
    parser.add_argument(
        "--recognizer",
        choices=("ocr", "replay"),
        default=defaults.recognizer,
        help="ocr reads every photo; replay reads each distinct photo once, so many copies "
        "measure orchestration rather than this machine's OCR queue (default %(default)s)",
    )
    parser.add_argument(
        "--target",
        choices=("local", "aws"),
        default=defaults.target,
        help="a local cloud started by the bench, or the deployed stack (default %(default)s)",
    )
    parser.add_argument("--image", type=Path, default=SAMPLE_PHOTO, help="a JPEG of six albums")
    parser.add_argument(
        "--save", type=Path, default=DEFAULT_SAVE, help="where the JSON document is written"
    )
    parser.add_argument("--env-file", type=Path, help="the deployed target's env file (aws)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--scenarios",
        metavar="NAMES",
        help=f"run failure scenarios through both patterns: {ALL} or a comma list of "
        f"{', '.join(s.name for s in SCENARIOS)} (saved to {DEFAULT_SCENARIOS_SAVE} unless "
        "--save says otherwise)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; exit status 0 only when no workflow was lost."""
    options = BenchOptions(
        uploads=args.uploads,
        concurrency=args.concurrency,
        price_latency=args.price_latency,
        vision_latency=args.vision_latency,
        fault_rate=args.fault_rate,
        review_timeout_seconds=args.review_timeout,
        recognizer=args.recognizer,
        target=args.target,
        image=args.image,
        save=args.save,
        env_file=args.env_file,
    )
    if not options.image.is_file():
        return fail(f"{options.image}: no such file")
    try:
        options.check()
        if args.scenarios:
            save = DEFAULT_SCENARIOS_SAVE if args.save == DEFAULT_SAVE else args.save
            chosen = select(args.scenarios)
            return run_scenario_bench(
                options, chosen, sys.stdout, sys.stderr, as_json=args.json, save=save
            )
        return run_bench(options, sys.stdout, sys.stderr, as_json=args.json)
    except (ValueError, PortInUseError, TargetError, AlbumRegError) as exc:
        # ValueError covers bad options and RateCardError (a region or model without AWS rates).
        return fail(str(exc))
