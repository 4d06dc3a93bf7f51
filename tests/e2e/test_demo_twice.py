"""Two demos back to back on the same ports and data folder, as a script or a newcomer runs them.

Each run is also the end-to-end check of ``albumreg demo --auto-approve --json`` itself: what its
document says of both workflows, and that it leaves nothing in the checkout.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, run_cli

pytestmark = pytest.mark.e2e
LOOPBACK = "127.0.0.1"
SAMPLE_YEARS = [1959, 1969, 1977, 1971, 1984, 1997]
"""The years of the six albums on the demo's sample photo, slot by slot."""
BILLED_UNITS = {"sf": 11, "ldf": 13}
"""A happy-path workflow's state transitions and durable operations."""


def _three_free_ports() -> int:
    """A base port the OS picked, with the two after it free too (the demo needs three).

    The ports must be the same for both runs: the first run's connections leave them in
    TIME_WAIT, which is what the second run must not mistake for "in use".
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((LOOPBACK, 0))
            base = int(probe.getsockname()[1])
        if base + 2 > 65535:
            continue
        try:
            for port in (base, base + 1, base + 2):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
                    taken.bind((LOOPBACK, port))
        except OSError:
            continue
        return base
    raise AssertionError("no three consecutive free ports on loopback")


def test_demo_auto_approve_json_twice_in_a_row(tmp_path: Path, start_cloud) -> None:
    base = _three_free_ports()
    env_file = tmp_path / "demo.env"
    documents = []
    for _ in range(2):
        result = run_cli(
            env_file,
            "demo",
            "--auto-approve",
            "--json",
            "--port-base",
            str(base),
            "--env-file",
            str(env_file),
            "--data-dir",
            str(tmp_path / "data"),
            timeout=180,
        )
        assert result.returncode == 0, result.stderr
        documents.append(json.loads(result.stdout))
    # Each run is an upload of its own, and both complete in both patterns, with the sample's
    # years, a price for every album and the billed units of a happy path.
    assert documents[0]["upload_id"] != documents[1]["upload_id"]
    for document in documents:
        for pattern, billed in BILLED_UNITS.items():
            part = document[pattern]
            assert part["status"] == "COMPLETED"
            assert part["execution_id"]
            assert [a["year"] for a in part["albums"]] == SAMPLE_YEARS
            assert all(a["price"] > 0 and a["currency"] == "USD" for a in part["albums"])
            assert part["timings"]["steps"]["extract-albums"] > 0
            assert part["timings"]["billed_units"] == billed
    # --env-file kept the demo's env file out of the checkout.
    assert not (ROOT / ".albumreg" / "demo.env").exists()
    # Both runs were kept: the local cloud started on the same folder lists them.
    cloud = start_cloud(data_dir=tmp_path / "data")
    listed = run_cli(cloud.env_file, "uploads", "list", "--status", "COMPLETED", "--json")
    assert listed.returncode == 0, listed.stderr
    found = {(u["pattern"], u["upload_id"]) for u in json.loads(listed.stdout)}
    assert found == {(p, d["upload_id"]) for p in ("sf", "ldf") for d in documents}
