"""``albumreg recognize``: read the six albums of one photo with the offline OCR or with Bedrock."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from handlers.config import DEFAULT_VISION_MODEL, Settings
from handlers.domain.errors import InvalidImageError, RecognitionError, TransientError
from handlers.domain.models import Extraction


def register(subparsers: Any) -> None:
    """Add the ``recognize`` subcommand."""
    parser = subparsers.add_parser("recognize", help="print the six albums seen in a photo")
    parser.add_argument("path", type=Path, metavar="PATH", help="a JPEG, PNG or WebP photo")
    parser.add_argument(
        "--engine",
        choices=("ocr", "bedrock"),
        default="ocr",
        help="ocr: offline, bundled catalog (default); bedrock: Amazon Bedrock, needs AWS "
        f"credentials and VISION_MODEL_ID (default {DEFAULT_VISION_MODEL})",
    )
    parser.add_argument("--json", action="store_true", help="print the extraction as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Recognise one photo; exit 2 for a missing or unusable file, 1 when the engine fails."""
    path: Path = args.path
    if not path.is_file():
        print(f"recognize: no such file: {path}", file=sys.stderr)
        return 2
    # boto3 is imported here so `albumreg --help` stays fast.
    import boto3  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError  # noqa: PLC0415

    from albumreg.cloud.recognition import offline_recognizer  # noqa: PLC0415
    from handlers.adapters.recognition import build_recognizer  # noqa: PLC0415

    started = time.perf_counter()
    try:
        if args.engine == "ocr":
            recognizer = offline_recognizer()
        else:
            settings = Settings(
                table_name="unused-by-recognize",
                vision_model_id=os.environ.get("VISION_MODEL_ID", DEFAULT_VISION_MODEL),
            )
            recognizer = build_recognizer(settings, boto3.session.Session())
        extraction = recognizer.recognize(path.read_bytes())
    except InvalidImageError as exc:
        print(f"recognize: {path} is not a usable image: {exc}", file=sys.stderr)
        return 2
    except (TransientError, RecognitionError, BotoCoreError) as exc:
        print(f"recognize: {args.engine} failed: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    if args.json:
        print(extraction.model_dump_json(indent=2))
    else:
        print(render(extraction, elapsed))
    return 0


def render(extraction: Extraction, seconds: float) -> str:
    """The six albums as a fixed-width table, then the engine's notes."""
    header = f"{'slot':<4}  {'title':<32}  {'artist':<24}  {'year':<4}  {'conf':>4}  note"
    rows = [header, "-" * len(header)]
    for album in extraction.albums:
        rows.append(
            f"{album.slot:<4}  {_cell(album.title, 32)}  {_cell(album.artist, 24)}  "
            f"{album.year or '-':<4}  {album.confidence:>4.2f}  "
            f"{'UNRECOGNIZED: ' if album.unrecognized else ''}{album.note or ''}".rstrip()
        )
    usage = extraction.usage
    rows.append(
        f"engine {extraction.engine}, {seconds:.2f} s, tokens in/out "
        f"{usage.input_tokens}/{usage.output_tokens}"
    )
    rows.extend(f"note: {note}" for note in extraction.notes)
    return "\n".join(rows)


def _cell(text: str | None, width: int) -> str:
    value = text or "?"
    return (value if len(value) <= width else value[: width - 1] + "…").ljust(width)
