"""``albumreg demo``: the local cloud plus one upload through both workflows.

Run by a person, the local cloud and the dashboard stay up after the closing table until
Ctrl-C; ``--auto-approve`` and ``--json`` exit when both workflows have ended.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from albumreg.cli.commands.local import add_data_arguments
from albumreg.cli.demo_session import DEMO_REVIEW_TIMEOUT_SECONDS, DemoOptions, run_demo
from albumreg.client.console import fail
from albumreg.client.target import DEFAULT_ENV_FILE
from albumreg.cloud.local_cloud import PortInUseError
from albumreg.cloud.persistence import DataFolderError
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from handlers.domain.errors import AlbumRegError


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo", help="run one upload through both workflows on the local cloud"
    )
    parser.add_argument("--image", type=Path, default=SAMPLE_PHOTO, help="photo of six albums")
    parser.add_argument(
        "--auto-approve", action="store_true", help="approve both reviews without a person"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document at the end")
    parser.add_argument(
        "--review-timeout",
        type=int,
        default=DEMO_REVIEW_TIMEOUT_SECONDS,
        help="seconds the workflows wait for a person (default %(default)s)",
    )
    parser.add_argument(
        "--price-latency", type=float, default=0.0, help="seconds the pricing API adds"
    )
    parser.add_argument(
        "--price-fault-rate", type=float, default=0.0, help="fraction of pricing calls failing"
    )
    parser.add_argument("--port-base", type=int, default=4566, help="first of three ports")
    parser.add_argument(
        "--dashboard-port",
        type=int,
        default=8501,
        help="where the dashboard serves (without --auto-approve)",
    )
    parser.add_argument("--env-file", type=Path, default=DEFAULT_ENV_FILE)
    add_data_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo and return 0 only if both workflows completed."""
    if not 0.0 <= args.price_fault_rate <= 1.0:
        return fail("--price-fault-rate must be between 0 and 1")
    if args.review_timeout <= 0:
        return fail("--review-timeout must be positive")
    options = DemoOptions(
        image=args.image,
        auto_approve=args.auto_approve,
        as_json=args.json,
        review_timeout_seconds=args.review_timeout,
        price_latency=args.price_latency,
        price_fault_rate=args.price_fault_rate,
        port_base=args.port_base,
        env_file=args.env_file,
        dashboard_port=args.dashboard_port,
        data_dir=args.data_dir,
        fresh=args.fresh,
    )
    if not options.image.is_file():
        return fail(f"{options.image}: no such file")
    try:
        return run_demo(options, sys.stdout, sys.stderr)
    except (PortInUseError, DataFolderError) as exc:
        return fail(str(exc))
    except AlbumRegError as exc:
        return fail(f"{options.image}: {exc}")
