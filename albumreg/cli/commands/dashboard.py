"""``albumreg dashboard [--env-file F] [streamlit options]``: the Streamlit dashboard.

Runs the page as ``albumreg.dashboard.launch`` says (127.0.0.1, headless without a terminal,
no usage statistics). Any other option goes to Streamlit as given, e.g. ``albumreg dashboard
--server.port 8600``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from albumreg.client.target import ENV_FILE_VARIABLE, TargetError, load_target
from albumreg.dashboard.launch import dashboard_command, dashboard_env


def register(subparsers: Any) -> None:
    """Add ``dashboard``; its options are parsed in ``run`` so Streamlit's can pass through."""
    # A prefix no option uses: every argument after ``dashboard`` arrives here untouched,
    # including ``--server.port``, which a normal subparser would reject as unknown.
    parser = subparsers.add_parser(
        "dashboard",
        help="the Streamlit dashboard: reviews, albums side by side, comparison charts",
        prefix_chars="+",
        add_help=False,
    )
    parser.add_argument("options", nargs="*")
    parser.set_defaults(run=run)


def _own_options() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="albumreg dashboard",
        description="Run the dashboard. Options not listed here go to `streamlit run`, e.g. "
        "--server.port 8600 or --server.address 0.0.0.0.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        help="the local cloud's env file (default: $ALBUMREG_ENV_FILE or .albumreg/local.env)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Replace this process with Streamlit, so Ctrl-C and signals reach it directly."""
    own, extra = _own_options().parse_known_args(args.options)
    env = dashboard_env(own.env_file)
    try:
        target = load_target(Path(env[ENV_FILE_VARIABLE]) if ENV_FILE_VARIABLE in env else None)
    except TargetError as exc:
        print(f"albumreg dashboard: {exc}; the page will say so until it runs", file=sys.stderr)
    else:
        print(f"albumreg dashboard: showing {target.source}", file=sys.stderr)
    command = dashboard_command(extra)
    sys.stderr.flush()
    os.execve(command[0], command, env)  # noqa: S606 - our own interpreter, fixed arguments
