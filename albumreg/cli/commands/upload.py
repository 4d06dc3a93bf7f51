"""``albumreg upload PATH``: put a photo of six albums into the bucket; both workflows start."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from albumreg.client.connect import connect
from albumreg.client.console import fail
from albumreg.client.target import TargetError
from albumreg.client.uploads import upload_image
from handlers.domain.errors import AlbumRegError


def register(subparsers: Any) -> None:
    """Add the ``upload`` subcommand."""
    parser = subparsers.add_parser("upload", help="upload a photo of six albums")
    parser.add_argument("path", type=Path, help="a JPEG, PNG or WebP photo")
    parser.add_argument("--key", help="object key (default: uploads/<file name>)")
    parser.add_argument("--env-file", type=Path, help="the local cloud's env file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Upload and print the upload id."""
    try:
        connection = connect(args.env_file)
        uploaded = upload_image(
            connection.client("s3"), connection.target.bucket, args.path, args.key
        )
    except FileNotFoundError:
        return fail(f"{args.path}: no such file")
    except (AlbumRegError, TargetError) as exc:
        return fail(f"{args.path}: {exc}")
    print(f"uploaded s3://{uploaded.bucket}/{uploaded.key}")
    print(f"upload id {uploaded.upload_id}: both workflows started")
    return 0
