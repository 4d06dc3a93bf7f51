"""``albumreg make-sample``: draw a synthetic shelf photo of six covers, and print what is on it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from albumreg.tools.sample_photos import VARIANTS, FontsMissingError, demo_albums, make_sample


def register(subparsers: Any) -> None:
    """Add the ``make-sample`` subcommand."""
    parser = subparsers.add_parser(
        "make-sample", help="draw a synthetic photo of six album covers (with ground truth)"
    )
    parser.add_argument("--variant", choices=VARIANTS, default="clean", help="default clean")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same image (default 0)")
    parser.add_argument(
        "--demo-albums",
        action="store_true",
        help="draw the six albums of the bundled demo photo instead of six chosen by the seed",
    )
    parser.add_argument(
        "--out", type=Path, help="where to write the JPEG (default sample-VARIANT-SEED.jpg)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the photo and print one line per slot: what a recognizer should find."""
    try:
        sample = make_sample(
            args.variant, args.seed, albums=demo_albums() if args.demo_albums else None
        )
    except FontsMissingError as exc:
        print(f"make-sample: {exc}", file=sys.stderr)
        return 1
    out: Path = args.out or Path(f"sample-{args.variant}-{args.seed}.jpg")
    out.write_bytes(sample.image)
    print(f"wrote {out} ({len(sample.image)} bytes)")
    for slot, (album, drawn) in enumerate(zip(sample.truth, sample.drawn, strict=True), start=1):
        expected = f"{album.title} / {album.artist} ({album.year})" if album else "unrecognized"
        print(f"slot {slot}: {drawn:<50} expect {expected}")
    return 0
