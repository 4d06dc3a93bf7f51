"""Recognition accuracy benchmark: generated shelf photos of every variant through a recognizer.

Counts, per variant, catalog covers identified correctly, wrongly and flagged, and covers that
must be flagged (no text, album outside the catalog) that were matched anyway; plus seconds per
image. Local only; used by ``albumreg bench-recognition``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from albumreg.cloud.catalog import CatalogAlbum
from albumreg.tools.sample_photos import VARIANTS, make_sample
from handlers.domain.models import Album
from handlers.domain.ports import Recognizer

BENCH_SEED = 1000
"""First seed of the benchmark's photos; the tests use other seeds, so this set stays unseen."""


@dataclass
class VariantScore:
    """Tallies for one variant.

    Attributes:
        variant: the photo variant.
        images: photos recognised.
        catalog_covers: covers showing a catalog album.
        correct: catalog covers identified as the right album.
        wrong: covers identified as an album they do not show (catalog or not): must stay 0.
        flagged: catalog covers left unrecognized (safe, but a miss).
        foreign_covers: covers with no text or an album outside the catalog.
        foreign_flagged: of those, the ones correctly left unrecognized.
        seconds: recognition time of each photo.
    """

    variant: str
    images: int = 0
    catalog_covers: int = 0
    correct: int = 0
    wrong: int = 0
    flagged: int = 0
    foreign_covers: int = 0
    foreign_flagged: int = 0
    seconds: list[float] = field(default_factory=list)

    @property
    def identified(self) -> float:
        """Share of catalog covers identified correctly, 0..1."""
        return self.correct / self.catalog_covers if self.catalog_covers else 1.0

    @property
    def seconds_per_image(self) -> float:
        """Mean recognition time."""
        return sum(self.seconds) / len(self.seconds) if self.seconds else 0.0

    def add(self, albums: Sequence[Album], truth: Sequence[CatalogAlbum | None]) -> list[str]:
        """Score one photo; returns a line per mistake (wrong album or miss), for the log."""
        mistakes: list[str] = []
        for album, expected in zip(albums, truth, strict=True):
            if expected is None:
                self.foreign_covers += 1
                if album.unrecognized:
                    self.foreign_flagged += 1
                else:
                    self.wrong += 1
                    mistakes.append(f"slot {album.slot}: WRONG {album.title} / {album.artist}")
                continue
            self.catalog_covers += 1
            if album.unrecognized:
                self.flagged += 1
                mistakes.append(f"slot {album.slot}: missed {expected.title} ({album.note})")
            elif (album.title, album.artist) == (expected.title, expected.artist):
                self.correct += 1
            else:
                self.wrong += 1
                mistakes.append(
                    f"slot {album.slot}: WRONG {album.title} / {album.artist} "
                    f"for {expected.title} / {expected.artist}"
                )
        return mistakes

    def as_dict(self) -> dict[str, object]:
        """JSON-ready numbers, rounded."""
        data = asdict(self)
        data["seconds"] = [round(value, 3) for value in self.seconds]
        data["identified"] = round(self.identified, 4)
        data["seconds_per_image"] = round(self.seconds_per_image, 3)
        return data


@dataclass
class BenchReport:
    """The whole run: per-variant scores, the totals and the machine they ran on."""

    variants: list[VariantScore]
    warmup_seconds: float
    cpu_count: int
    load_average: tuple[float, float, float]

    @property
    def total(self) -> VariantScore:
        """All variants added together."""
        total = VariantScore(variant="all")
        for score in self.variants:
            total.images += score.images
            total.catalog_covers += score.catalog_covers
            total.correct += score.correct
            total.wrong += score.wrong
            total.flagged += score.flagged
            total.foreign_covers += score.foreign_covers
            total.foreign_flagged += score.foreign_flagged
            total.seconds.extend(score.seconds)
        return total

    def as_dict(self) -> dict[str, object]:
        """JSON-ready report."""
        return {
            "variants": [score.as_dict() for score in self.variants],
            "total": self.total.as_dict(),
            "warmup_seconds": round(self.warmup_seconds, 3),
            "cpu_count": self.cpu_count,
            "load_average": [round(value, 2) for value in self.load_average],
        }


def run_benchmark(
    recognizer: Recognizer,
    *,
    images_per_variant: int,
    variants: Sequence[str] = VARIANTS,
    first_seed: int = BENCH_SEED,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Recognise ``images_per_variant`` generated photos of each variant and score them.

    One photo is recognised first and not counted, so model loading (about two seconds for
    OCR) shows up as ``warmup_seconds`` rather than in the per-image time.
    """
    say = progress or (lambda _line: None)
    started = time.perf_counter()
    recognizer.recognize(make_sample("clean", first_seed - 1).image)
    warmup = time.perf_counter() - started
    say(f"warm-up {warmup:.2f} s")
    scores = []
    for variant in variants:
        score = VariantScore(variant=variant)
        for index in range(images_per_variant):
            sample = make_sample(variant, first_seed + index)
            started = time.perf_counter()
            extraction = recognizer.recognize(sample.image)
            elapsed = time.perf_counter() - started
            score.images += 1
            score.seconds.append(elapsed)
            mistakes = score.add(extraction.albums, sample.truth)
            say(f"{variant} seed {sample.seed}: {elapsed:.2f} s, {len(mistakes)} mistakes")
            for mistake in mistakes:
                say(f"    {mistake}")
        scores.append(score)
    return BenchReport(
        variants=scores,
        warmup_seconds=warmup,
        cpu_count=os.cpu_count() or 1,
        load_average=os.getloadavg(),
    )


def render_table(report: BenchReport) -> str:
    """The report as a fixed-width text table."""
    header = (
        f"{'variant':<10} {'images':>6} {'covers':>6} {'correct':>7} {'wrong':>5} "
        f"{'flagged':>7} {'foreign ok':>10} {'identified':>10} {'s/image':>8}"
    )
    rows = [header, "-" * len(header)]
    for score in [*report.variants, report.total]:
        rows.append(
            f"{score.variant:<10} {score.images:>6} {score.catalog_covers:>6} "
            f"{score.correct:>7} {score.wrong:>5} {score.flagged:>7} "
            f"{f'{score.foreign_flagged}/{score.foreign_covers}':>10} "
            f"{score.identified:>10.1%} {score.seconds_per_image:>8.2f}"
        )
    rows.append(
        f"warm-up {report.warmup_seconds:.2f} s; {report.cpu_count} CPUs; load average "
        f"{' '.join(f'{value:.2f}' for value in report.load_average)} (other work on the "
        "machine slows the timings)"
    )
    return "\n".join(rows)
