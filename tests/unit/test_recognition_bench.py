"""Scoring of the recognition benchmark: what counts as correct, wrong and flagged."""

from __future__ import annotations

import json

import pytest

from albumreg.cloud.catalog import load_catalog
from albumreg.tools.recognition_bench import VariantScore, render_table, run_benchmark
from albumreg.tools.sample_photos import demo_albums, fonts_available
from handlers.domain.models import Album, Extraction, unrecognized_album


def test_variant_score_counts_right_wrong_missed_and_foreign():
    kind_of_blue, abbey_road, rumours = demo_albums()[:3]
    albums = [
        Album(slot=1, title=kind_of_blue.title, artist=kind_of_blue.artist, confidence=1),
        Album(slot=2, title=rumours.title, artist=rumours.artist, confidence=1),
        unrecognized_album(3, "unclear"),
        unrecognized_album(4, "no text"),
        Album(slot=5, title=abbey_road.title, artist=abbey_road.artist, confidence=1),
    ]
    score = VariantScore(variant="mixed")
    mistakes = score.add(albums, [kind_of_blue, abbey_road, rumours, None, None])
    assert (score.catalog_covers, score.correct, score.wrong, score.flagged) == (3, 1, 2, 1)
    assert (score.foreign_covers, score.foreign_flagged) == (2, 1)
    assert score.identified == pytest.approx(1 / 3)
    assert len(mistakes) == 3
    assert sum("WRONG" in line for line in mistakes) == 2


class FlagsEverything:
    def recognize(self, image: bytes) -> Extraction:
        return Extraction(
            albums=[unrecognized_album(slot, "nothing") for slot in range(1, 7)], engine="none"
        )


@pytest.mark.skipif(not fonts_available(), reason="DejaVu fonts missing (fonts-dejavu-core)")
def test_run_benchmark_reports_every_variant_with_totals():
    lines: list[str] = []
    report = run_benchmark(
        FlagsEverything(), images_per_variant=1, variants=("clean", "notext"), progress=lines.append
    )
    assert [score.variant for score in report.variants] == ["clean", "notext"]
    total = report.total
    assert (total.images, total.catalog_covers, total.correct, total.wrong) == (2, 11, 0, 0)
    assert (total.flagged, total.foreign_flagged) == (11, 1)
    assert lines[0].startswith("warm-up")
    table = render_table(report)
    assert "notext" in table and "all" in table
    assert json.loads(json.dumps(report.as_dict()))["total"]["identified"] == 0.0
    assert len(load_catalog()) > 6
