"""``albumreg dashboard [--env-file F] [streamlit options]``: the Streamlit dashboard.

Runs ``streamlit run dashboard/app.py`` bound to 127.0.0.1, headless when there is no terminal,
with usage statistics off (nothing leaves the machine). Any other option goes to Streamlit
as given, e.g. ``albumreg dashboard --server.port 8600``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dashboard
from client.target import ENV_FILE_VARIABLE, TargetError, load_target

APP = Path(dashboard.__file__).with_name("app.py")
DEFAULTS: dict[str, str] = {
    "--server.address": "127.0.0.1",
    "--browser.gatherUsageStats": "false",
    # No "Deploy" button or developer menu: this page is for reviewers and readers.
    "--client.toolbarMode": "minimal",
}


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


def _given(options: Sequence[str], name: str) -> bool:
    return any(option == name or option.startswith(f"{name}=") for option in options)


def dashboard_command(
    extra: Sequence[str] = (), *, port: int | None = None, headless: bool | None = None
) -> list[str]:
    """The ``streamlit run`` command line: the defaults, then ``extra`` as given.

    Args:
        extra: Streamlit options; one given here replaces the default of the same name.
        port: the port to serve on (Streamlit's default, 8501, when None).
        headless: never open a browser; by default, when stdout is not a terminal.
    """
    if headless is None:
        headless = not sys.stdout.isatty()
    defaults = dict(DEFAULTS)
    if headless:
        defaults["--server.headless"] = "true"
    if port is not None:
        defaults["--server.port"] = str(port)
    command = [sys.executable, "-m", "streamlit", "run", str(APP)]
    for name, value in defaults.items():
        if not _given(extra, name):
            command += [name, value]
    return [*command, *extra]


def dashboard_env(env_file: Path | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the dashboard process: ``base`` plus the env file to read, if given."""
    env = dict(os.environ if base is None else base)
    if env_file is not None:
        env[ENV_FILE_VARIABLE] = str(env_file.resolve())
    return env


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
