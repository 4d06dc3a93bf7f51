"""``albumreg bench`` on the in-process local cloud, and the pieces it is built from."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from PIL import Image

from albumreg.cli.main import main
from albumreg.tools.sample_photos import SAMPLE_PHOTO
from albumreg.tools.workflow_bench import BenchOptions, jpeg_variant, percentile, summarize
from handlers.domain.workflow_metrics import WorkflowMetrics

REQUIRED = {
    "completed",
    "failed",
    "lost",
    "active_p50_s",
    "active_p95_s",
    "parallel_efficiency",
    "overhead_ratio",
    "throughput_per_min",
    "cost_per_workflow_usd",
}


@pytest.mark.timeout(240)
def test_bench_three_uploads_loses_nothing(capsys, tmp_path) -> None:
    saved = tmp_path / "bench.json"
    status = main(
        [
            "bench",
            "--uploads", "3",
            "--concurrency", "3",
            "--price-latency", "0.05",
            "--recognizer", "replay",
            "--review-timeout", "30",
            "--save", str(saved),
            "--json",
        ]
    )  # fmt: skip
    out = capsys.readouterr()
    assert status == 0, out.err
    document = json.loads(out.out)
    assert document == json.loads(saved.read_text())
    for pattern in ("sf", "ldf"):
        figures = document[pattern]
        assert set(figures) >= REQUIRED, pattern
        assert figures["lost"] == 0
        assert figures["completed"] == 3
        assert figures["failed"] == 0
        assert 0 < figures["active_p50_s"] <= figures["active_p95_s"]
        assert 0 < figures["parallel_efficiency"] <= 1
        assert 0 <= figures["overhead_ratio"] < 1
        assert figures["cost_per_workflow_usd"] > 0
        assert figures["throughput_per_min"] > 0
    uploads = {w["upload_id"] for w in document["workflows"]}
    assert len(uploads) == 3
    assert len(document["workflows"]) == 6
    assert "workflows" in out.err


def test_jpeg_variant_changes_bytes_not_pixels() -> None:
    photo = SAMPLE_PHOTO.read_bytes()
    first, second = jpeg_variant(photo, "a #1"), jpeg_variant(photo, "a #2")
    assert len({photo, first, second}) == 3
    pixels = {Image.open(BytesIO(data)).tobytes() for data in (photo, first, second)}
    assert len(pixels) == 1
    with pytest.raises(ValueError, match="JPEG"):
        jpeg_variant(b"\x89PNG", "x")


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.95) == 4.0
    # ranks 0..3 of [1, 2, 3, 10]: p50 at 1.5 -> 2 + 0.5 x (3 - 2); p95 at 2.85 -> 3 + 0.85 x 7
    assert percentile([10.0, 1.0, 3.0, 2.0], 0.5) == pytest.approx(2.5)
    assert percentile([10.0, 1.0, 3.0, 2.0], 0.95) == pytest.approx(8.95)


def test_summarize_counts_and_throughput() -> None:
    def workflow(start: str, end: str, active: float, status: str = "COMPLETED") -> WorkflowMetrics:
        return WorkflowMetrics.model_validate(
            {
                "workflow_status": status,
                "started_at": f"2026-01-01T00:00:{start}+00:00",
                "ended_at": f"2026-01-01T00:00:{end}+00:00",
                "active_seconds": active,
                "step_seconds": {"extract-albums": active / 2},
                "cost_total_usd": 0.001,
                "cost": {"compute": 0.001},
            }
        )

    figures = summarize(
        [workflow("00", "10", 4.0), workflow("05", "30", 6.0), workflow("01", "02", 1.0, "FAILED")],
        lost=1,
    )
    assert (figures["completed"], figures["failed"], figures["lost"]) == (2, 1, 1)
    assert figures["active_p50_s"] == pytest.approx(5.0)
    assert figures["step_p50_s"] == {"extract-albums": pytest.approx(2.5)}
    # two completed between 00:00 and 00:30: 2 per 30 s = 4 per minute
    assert figures["throughput_per_min"] == pytest.approx(4.0)
    assert figures["first_active_s"] == 4.0
    assert figures["cost_per_workflow_usd"] == pytest.approx(0.001)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (BenchOptions(uploads=0), "at least 1"),
        (BenchOptions(fault_rate=2.0), "fault-rate"),
        (BenchOptions(target="aws", price_latency=0.5), "local cloud"),
    ],
)
def test_bench_options_refuse_what_cannot_run(options, message) -> None:
    with pytest.raises(ValueError, match=message):
        options.check()
