"""The ``albumreg`` console script: a thin dispatcher over ``local/commands``.

Each module in ``albumreg.cli.commands`` registers its own parser with ``register(subparsers)`` and
sets ``run(args) -> int`` as the default ``run``; modules are discovered, so adding a command never
touches another one.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

import albumreg.cli.commands


def command_modules() -> list[ModuleType]:
    """Every subcommand module, in name order (imported lazily: only parsers are built here)."""
    names = sorted(info.name for info in pkgutil.iter_modules(albumreg.cli.commands.__path__))
    return [importlib.import_module(f"albumreg.cli.commands.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="albumreg",
        description="Register vinyl albums with Step Functions and Lambda durable functions, "
        "and compare the two.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in command_modules():
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run one subcommand; its return value is the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
