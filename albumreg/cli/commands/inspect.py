"""``albumreg inspect UPLOAD_ID``: both executions of one upload, operation by operation.

Every state or durable operation in the order it started, with its attempts, errors and
causes, the delays before retries, how each execution ended and, on AWS, where its console page
is. The data comes from ``albumreg.client.inspector``, as on the dashboard's Executions page.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from albumreg.client.connect import connect
from albumreg.client.console import fail, table
from albumreg.client.inspector import (
    Inspection,
    history_reader,
    inspect_upload,
    operation_rows,
    outcome,
)
from albumreg.client.target import TargetError


def register(subparsers: Any) -> None:
    """Add the ``inspect`` subcommand."""
    parser = subparsers.add_parser(
        "inspect", help="both executions of one upload: every step, attempt, error and retry"
    )
    parser.add_argument("upload_id", metavar="UPLOAD_ID", help="as albumreg uploads list shows")
    parser.add_argument("--env-file", type=Path, help="the running system's env file")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(run=run)


def render(inspection: Inspection) -> str:
    """Each execution's header and its operations table, Step Functions first."""
    blocks = [f"upload {inspection.upload_id}"]
    for side in inspection.sides:
        lines = [f"== {side.pattern.label}: {outcome(side)}"]
        if side.trace is not None:
            lines.append(f"execution {side.trace.execution_id}")
            retries = side.trace.retries
            lines.append(
                "retries: "
                + (", ".join(f"{name} {count}" for name, count in retries.items()) or "none")
            )
        if side.console:
            lines.append(f"console: {side.console}")
        if side.trace is not None:
            rows = operation_rows(side.trace)
            headers = tuple(rows[0]) if rows else ("operation",)
            lines.append(table(headers, [tuple(row.values()) for row in rows]))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def run(args: argparse.Namespace) -> int:
    """Read both executions of the upload and print them."""
    try:
        connection = connect(args.env_file)
    except TargetError as exc:
        return fail(str(exc))
    read = history_reader(connection.client("stepfunctions"), connection.client("lambda"))
    region = None if connection.target.is_local else connection.target.region
    inspection = inspect_upload(connection.deps.repo, read, args.upload_id, region=region)
    if all(side.summary is None for side in inspection.sides):
        return fail(f"no upload {args.upload_id} in either pattern (see albumreg uploads list)")
    if args.json:
        print(json.dumps(asdict(inspection), indent=2, default=str))
    else:
        print(render(inspection))
    return 0
