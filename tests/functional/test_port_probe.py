"""The port probe: a port left in TIME_WAIT by a previous run is free, a listener is not."""

from __future__ import annotations

import socket
import time

import pytest

from albumreg.cloud.local_cloud import PortInUseError, check_port_free

LOOPBACK = "127.0.0.1"


def _port_in_time_wait() -> int:
    """A port whose last connection the server side closed first: it stays in TIME_WAIT."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, 0))
        listener.listen(1)
        port = int(listener.getsockname()[1])
        client = socket.create_connection((LOOPBACK, port), timeout=5)
        accepted, _ = listener.accept()
        accepted.close()  # the server closes first, as an HTTP server ending a response does
        client.settimeout(5)
        assert client.recv(1) == b""
        client.close()
    time.sleep(0.05)
    return port


def test_port_in_time_wait_is_free() -> None:
    port = _port_in_time_wait()
    # GIVEN the port really is in TIME_WAIT: a plain bind (without SO_REUSEADDR) is refused
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as plain, pytest.raises(OSError):
        plain.bind((LOOPBACK, port))
    # WHEN the local cloud probes it THEN it counts as free
    check_port_free(LOOPBACK, port)


def test_listening_port_is_taken() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, 0))
        listener.listen(1)
        port = int(listener.getsockname()[1])
        with pytest.raises(PortInUseError, match=f"port {port} on {LOOPBACK} is in use"):
            check_port_free(LOOPBACK, port)
