"""How the dashboard is started: ``streamlit run`` on ``app.py``, bound to 127.0.0.1.

Shared by ``albumreg dashboard`` and the interactive demo, which serves the page beside its
local cloud. Headless when there is no terminal, usage statistics off (nothing leaves the
machine).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from albumreg.client.target import ENV_FILE_VARIABLE

APP = Path(__file__).with_name("app.py")
"""The Streamlit script: the one path every caller (and test) runs."""
DEFAULTS: dict[str, str] = {
    "--server.address": "127.0.0.1",
    "--browser.gatherUsageStats": "false",
    # No "Deploy" button or developer menu: this page is for reviewers and readers.
    "--client.toolbarMode": "minimal",
}


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
