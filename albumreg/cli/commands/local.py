"""``albumreg local``: the local cloud in the foreground until Ctrl-C, keeping its data folder."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from albumreg.cli.invocation import cli_command
from albumreg.client.console import fail
from albumreg.client.target import DEFAULT_ENV_FILE
from albumreg.cloud.local_cloud import CloudOptions, LocalCloud, PortInUseError
from albumreg.cloud.persistence import DataFolderError, Restored, default_data_dir
from handlers.domain.policy import DEFAULT_REVIEW_TIMEOUT_SECONDS


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` and ``--fresh``: where the local cloud keeps its state across restarts."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="folder the local cloud keeps its state in across restarts (default %(default)s)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="start empty: delete what the data folder holds"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def describe_restored(restored: Restored | None, data_dir: Path) -> list[str]:
    """Lines telling a person what a start found in the data folder, and what it closed."""
    if restored is None:
        return []
    if not restored.items and not restored.objects:
        return [f"  data folder {data_dir}: empty, state is kept there from now on"]
    counts = (
        _count(restored.items, "item"),
        _count(restored.objects, "photo"),
        _count(restored.datapoints, "metric datapoint"),
    )
    lines = [f"  data folder {data_dir}: restored {', '.join(counts)}"]
    if restored.interrupted:
        lines.append(
            f"  {len(restored.interrupted)} workflow(s) had not finished when the cloud "
            f"stopped: marked FAILED (Interrupted); see `{cli_command()} uploads list "
            "--status FAILED`"
        )
    return lines


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
    add_data_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Start, print the endpoints, wait for Ctrl-C (or SIGTERM), stop cleanly."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options = CloudOptions(
        host=args.host,
        port_base=args.port_base,
        review_timeout_seconds=args.review_timeout,
        env_file=args.env_file,
        data_dir=args.data_dir,
        fresh=args.fresh,
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
            for line in describe_restored(cloud.restored, args.data_dir):
                print(line)
            print(f"  endpoints written to {options.env_file}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                stopping.wait()
            print("stopping", flush=True)
    except (PortInUseError, DataFolderError) as exc:
        return fail(str(exc))
    return 0
