"""``albumreg dashboard``: loopback by default, Streamlit's options passed through."""

from __future__ import annotations

import sys
from pathlib import Path

from albumreg.cli.commands.dashboard import _own_options
from albumreg.cli.main import build_parser
from albumreg.dashboard.launch import APP, dashboard_command, dashboard_env


def option(command: list[str], name: str) -> str | None:
    """The value of ``name``, or None when absent; fails when it is given twice."""
    positions = [i for i, part in enumerate(command) if part == name]
    assert len(positions) <= 1, command
    return command[positions[0] + 1] if positions else None


def test_command_runs_the_app_on_loopback_without_usage_statistics() -> None:
    command = dashboard_command(headless=False)

    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(APP)]
    assert APP.is_file()
    assert option(command, "--server.address") == "127.0.0.1"
    assert option(command, "--browser.gatherUsageStats") == "false"
    assert option(command, "--server.headless") is None


def test_command_is_headless_without_a_terminal_and_takes_a_port() -> None:
    command = dashboard_command(port=8600, headless=True)

    assert option(command, "--server.headless") == "true"
    assert option(command, "--server.port") == "8600"


def test_options_given_replace_the_defaults_and_pass_through_in_order() -> None:
    extra = ["--server.address", "0.0.0.0", "--server.port=9000", "--theme.base", "dark"]  # noqa: S104

    command = dashboard_command(extra, port=8600, headless=True)

    assert option(command, "--server.address") == "0.0.0.0"  # noqa: S104
    assert "--server.port" not in command
    assert command[-len(extra) :] == extra


def test_cli_passes_unknown_options_to_streamlit_and_keeps_its_own() -> None:
    args = build_parser().parse_args(
        ["dashboard", "--server.port", "8600", "--env-file", "x.env", "--server.headless", "true"]
    )

    own, extra = _own_options().parse_known_args(args.options)

    assert own.env_file == Path("x.env")
    assert extra == ["--server.port", "8600", "--server.headless", "true"]


def test_env_names_the_env_file_absolutely(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)

    env = dashboard_env(Path("local.env"), base={"PATH": "/bin"})

    assert env == {"PATH": "/bin", "ALBUMREG_ENV_FILE": str(tmp_path / "local.env")}
    assert dashboard_env(None, base={"PATH": "/bin"}) == {"PATH": "/bin"}
