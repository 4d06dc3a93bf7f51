"""Which addresses this machine's sockets listen on, read from Linux's ``/proc/net/tcp*``.

A server that says it binds 127.0.0.1 is checked by what the kernel reports, not by its config.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

LISTEN = "0A"
PROC_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


def listening_addresses(port: int) -> set[str]:
    """Every address a socket of this machine listens on for ``port`` (IPv4 and IPv6)."""
    found: set[str] = set()
    for table in PROC_TABLES:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] != LISTEN or int(hex_port, 16) != port:
                continue
            raw = bytes.fromhex(address)
            if len(raw) == 4:
                found.add(socket.inet_ntop(socket.AF_INET, struct.pack("<I", int(address, 16))))
            else:
                words = struct.unpack("<4I", raw)
                found.add(socket.inet_ntop(socket.AF_INET6, struct.pack(">4I", *words)))
    return found
