"""``albumreg pricing-api`` run in-process: serves with the flags' knobs, stops cleanly on a
signal (exit 0), and says so when the port is taken (exit 2)."""

from __future__ import annotations

import signal
import socket
import threading
import time
from typing import Any

import urllib3

from albumreg.cli.main import main


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_pricing_api_serves_until_signalled(monkeypatch, capsys):
    # GIVEN signal handlers captured instead of installed, so the test can "press Ctrl-C"
    handlers: dict[int, Any] = {}
    monkeypatch.setattr(signal, "signal", handlers.setdefault)
    port = free_port()
    seen: dict[str, Any] = {}

    def operator() -> None:
        http = urllib3.PoolManager(retries=False, timeout=2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                seen["knobs"] = http.request("GET", f"http://127.0.0.1:{port}/_admin/knobs").json()
                break
            except urllib3.exceptions.HTTPError:
                time.sleep(0.05)
        handlers[signal.SIGINT](signal.SIGINT, None)

    helper = threading.Thread(target=operator)
    helper.start()
    status = main(
        [
            "pricing-api",
            "--port",
            str(port),
            "--latency",
            "0.25",
            "--error-rate",
            "0.1",
            "--seed",
            "3",
        ]
    )
    helper.join(timeout=10)
    assert status == 0
    assert seen["knobs"]["latency"] == 0.25
    assert seen["knobs"]["error_rate"] == 0.1
    assert seen["knobs"]["seed"] == 3
    assert f"http://127.0.0.1:{port}" in capsys.readouterr().out


def test_pricing_api_port_in_use_exits_2(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(["pricing-api", "--port", str(port)])
    assert status == 2
    assert "port already in use" in capsys.readouterr().err
