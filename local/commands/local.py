"""``albumreg local``: the local cloud in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from client.target import DEFAULT_ENV_FILE
from handlers.domain.policy import DEFAULT_REVIEW_TIMEOUT_SECONDS
from local.cloud import CloudOptions, LocalCloud, PortInUseError
from local.console import fail


def register(subparsers: Any) -> None:
    """Add the ``local`` subcommand."""
    parser = subparsers.add_parser("local", help="start the local cloud (foreground)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument(
        "--port-base",
        type=int,
        default=4566,
        help="moto on this port, the durable plane on +1, the pricing API on +2 (0: any free)",
    )
    parser.add_argument(
        "--review-timeout",
        type=int,
        default=DEFAULT_REVIEW_TIMEOUT_SECONDS,
        help="seconds a workflow waits for a person before going on",
    )
    parser.add_argument("--env-file", type=Path, default=DEFAULT_ENV_FILE)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Start, print the endpoints, wait for Ctrl-C (or SIGTERM), stop cleanly."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options = CloudOptions(
        host=args.host,
        port_base=args.port_base,
        review_timeout_seconds=args.review_timeout,
        env_file=args.env_file,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with LocalCloud(options) as cloud:
            target = cloud.target
            print("albumreg local cloud is running (Ctrl-C to stop)", flush=True)
            for name, url in sorted(target.endpoints.items()):
                print(f"  {name}={url}")
            print(f"  bucket {target.bucket}, table {target.table_name}")
            print(f"  endpoints written to {options.env_file}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                stopping.wait()
            print("stopping", flush=True)
    except PortInUseError as exc:
        return fail(str(exc))
    return 0
