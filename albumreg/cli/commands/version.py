"""``albumreg version``: the installed version and the pinned orchestrator SDKs."""

from __future__ import annotations

import argparse
from importlib.metadata import version
from typing import Any

PACKAGES = ("albumreg", "aws-durable-execution-sdk-python", "boto3", "moto", "pulumi-aws")


def register(subparsers: Any) -> None:
    """Add the ``version`` subcommand."""
    parser = subparsers.add_parser("version", help="print versions of albumreg and its SDKs")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print one ``name version`` line per package."""
    for package in PACKAGES:
        print(f"{package} {version(package)}")
    return 0
