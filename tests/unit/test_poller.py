"""The local cloud's background poller: polls until stopped, and survives a poll that fails."""

from __future__ import annotations

import threading

import pytest

from albumreg.cloud.poller import Poller


def test_a_failed_poll_is_logged_and_polling_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    third = threading.Event()

    def poll() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("endpoint refused")
        if len(calls) == 3:
            third.set()

    poller = Poller("test-poller", poll, interval=0, retry_seconds=0.01)
    poller.start()
    try:
        assert third.wait(5), "polling stopped after the failed poll"
    finally:
        poller.stop()
    assert "test-poller: polling failed; retrying" in caplog.text


def test_stop_ends_the_thread_and_no_poll_follows() -> None:
    polled = threading.Event()
    calls: list[str] = []

    def poll() -> None:
        calls.append("poll")
        polled.set()

    poller = Poller("stopping", poll, interval=0.01, retry_seconds=0.01)
    poller.start()
    assert polled.wait(5)
    poller.stop()
    after_stop = len(calls)
    assert not any(t.name == "stopping" for t in threading.enumerate())
    assert len(calls) == after_stop


def test_the_interval_comes_before_each_poll() -> None:
    calls: list[str] = []
    poller = Poller("slow", lambda: calls.append("poll"), interval=60, retry_seconds=1)
    poller.start()
    poller.stop()
    assert calls == []
