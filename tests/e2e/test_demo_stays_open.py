"""The demo a person runs keeps the cloud and the dashboard up after its table, until Ctrl-C."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import ALBUMREG, ROOT, cli_env, run_cli
from tests.e2e.test_demo_twice import LOOPBACK, _three_free_ports

pytestmark = pytest.mark.e2e
KEEPS_RUNNING = "The local cloud keeps running (Ctrl-C to stop):"


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """Everything the process prints, line by line, read on a thread so it never blocks."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


def _until(lines: queue.Queue[str], text: str, timeout: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} not printed within {timeout}s:\n" + "\n".join(seen))


def test_interactive_demo_stays_up_with_links_until_ctrl_c(tmp_path: Path) -> None:
    base = _three_free_ports()
    dashboard_port = _three_free_ports()
    env_file = tmp_path / "demo.env"
    process = subprocess.Popen(
        [
            *ALBUMREG,
            "demo",
            "--review-timeout",
            "3",
            "--port-base",
            str(base),
            "--dashboard-port",
            str(dashboard_port),
            "--env-file",
            str(env_file),
        ],
        cwd=ROOT,
        env=cli_env(env_file),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _lines(process)
        printed = _until(lines, KEEPS_RUNNING, timeout=240)
        upload_id = next(
            line.split("(upload ")[1].rstrip(")") for line in printed if "(upload " in line
        )
        printed += _until(lines, "CLI:", timeout=10)
        dashboard = f"http://{LOOPBACK}:{dashboard_port}"
        assert f"  Albums:      {dashboard}/albums?upload={upload_id}" in printed
        assert f"  Comparison:  {dashboard}/comparison" in printed
        # the hint names this interpreter, since it was started as a module
        assert any("-m albumreg.cli.main review approve" in line for line in printed)

        # THEN the local cloud still answers: the upload is listed, completed in both patterns
        listed = run_cli(env_file, "uploads", "list", "--status", "COMPLETED", "--json")
        assert listed.returncode == 0, listed.stderr
        assert {u["pattern"] for u in json.loads(listed.stdout)} == {"sf", "ldf"}
        # AND so does the dashboard
        with urllib.request.urlopen(f"{dashboard}/_stcore/health", timeout=10) as health:  # noqa: S310 - loopback
            assert health.status == 200
        assert process.poll() is None

        # WHEN the person presses Ctrl-C THEN everything stops cleanly
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert not env_file.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
