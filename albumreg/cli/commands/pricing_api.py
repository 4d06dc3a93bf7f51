"""``albumreg pricing-api``: serve the local pricing API (sample catalog) until Ctrl-C.

Imports ``albumreg.cloud.fake_discogs`` (and so rapidfuzz) only when the command runs, so building
the CLI parser stays cheap.
"""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

DEFAULT_PORT = 8700


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction between 0 and 1")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds")
    return value


def register(subparsers: Any) -> None:
    """Add the ``pricing-api`` subcommand."""
    parser = subparsers.add_parser(
        "pricing-api",
        help="serve the local Discogs-like pricing API with the sample catalog",
        description="Serve the Discogs API subset the price agents use (search, marketplace "
        "stats, price suggestions) from the bundled SAMPLE catalog, with fault knobs. Knobs can "
        "also be changed at run time: POST /_admin/knobs; counts: GET /_admin/stats.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="TCP port, 0 for any (default %(default)s)"
    )
    parser.add_argument("--latency", type=_seconds, default=0.0, help="seconds added per request")
    parser.add_argument("--jitter", type=_seconds, default=0.0, help="up to this many more seconds")
    parser.add_argument("--error-rate", type=_fraction, default=0.0, help="fraction answered 500")
    parser.add_argument("--rate-limit", type=_fraction, default=0.0, help="fraction answered 429")
    parser.add_argument(
        "--retry-after", type=int, default=1, help="Retry-After seconds of a 429 (default 1)"
    )
    parser.add_argument(
        "--hang-rate", type=_fraction, default=0.0, help="fraction stalled past client timeouts"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for reproducible faults")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM (exit 0); exit 2 when the address cannot be bound."""
    # Local-only dependencies, loaded when the command actually runs.
    from pydantic import ValidationError  # noqa: PLC0415

    from albumreg.cloud.fake_discogs import Knobs, PricingApiServer  # noqa: PLC0415

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        knobs = Knobs(
            latency=args.latency,
            jitter=args.jitter,
            error_rate=args.error_rate,
            rate_limit=args.rate_limit,
            retry_after=args.retry_after,
            hang_rate=args.hang_rate,
            seed=args.seed,
        )
    except ValidationError as exc:
        print(f"albumreg pricing-api: invalid knobs: {exc}", file=sys.stderr)
        return 2
    server = PricingApiServer(args.host, args.port, knobs)
    try:
        server.start()
    except OSError as exc:
        reason = "port already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        print(
            f"albumreg pricing-api: cannot listen on {args.host}:{args.port}: {reason}",
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Handled explicitly (not as KeyboardInterrupt) so Ctrl-C and SIGTERM both exit cleanly,
    # even when a parent shell started us with SIGINT ignored.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f"pricing API on {server.url} (SAMPLE catalog); Ctrl-C to stop", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
