"""``albumreg report``: the comparison report, HTML with Markdown beside it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from albumreg.client.connect import connect
from albumreg.client.console import fail
from albumreg.client.target import TargetError
from albumreg.client.verdict import DEFAULT_VOLUME
from albumreg.tools.report_page import render_html, render_markdown, report_data
from albumreg.tools.repository_metrics import measure
from albumreg.tools.scenario_bench import DEFAULT_SCENARIOS_SAVE
from albumreg.tools.scenarios import BASELINE
from albumreg.tools.workflow_bench import DEFAULT_SAVE
from handlers.domain.errors import AlbumRegError
from handlers.domain.tenant import PATTERNS
from handlers.domain.workflow_metrics import MeasuredWorkflow

DEFAULT_OUT = Path("report.html")


def register(subparsers: Any) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report", help="write the comparison report (runtime, cost, code, tests)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the HTML file to write")
    parser.add_argument(
        "--bench",
        type=Path,
        help=f"use this albumreg bench document instead of a running system (default: a "
        f"running system, else {DEFAULT_SAVE})",
    )
    parser.add_argument(
        "--limit", type=int, default=200, help="newest workflows per pattern and status to read"
    )
    parser.add_argument("--env-file", type=Path, help="the running system's env file")
    parser.add_argument(
        "--scenarios",
        type=Path,
        default=DEFAULT_SCENARIOS_SAVE,
        help="the albumreg bench --scenarios document for What failure costs "
        "(default %(default)s, when it exists)",
    )
    parser.add_argument(
        "--volume",
        type=int,
        default=DEFAULT_VOLUME,
        help="workflows per month for the summary's monthly cost (default %(default)s)",
    )
    parser.set_defaults(run=run)


def _scenarios(
    path: Path,
) -> tuple[dict[str, Any], list[MeasuredWorkflow], dict[str, Any]]:
    """The failure scenarios of a scenario run, and its happy workflows with their source.

    The happy workflows stand in for the runtime numbers when no other run is at hand. All
    three are empty when there was no scenario run.
    """
    if not path.is_file():
        return {}, [], {}
    document = json.loads(path.read_text())
    finished = document["environment"]["finished_at"]
    source = f"albumreg bench --scenarios document {path} ({finished})"
    happy = [w for w in _workflows(document) if w.scenario == BASELINE]
    stand_in = {
        "source": f"the {BASELINE} scenario of {source}",
        "lost": {
            p.value: int(document["scenarios"][BASELINE][p.value].get("lost", 0)) for p in PATTERNS
        },
        "config": document.get("config"),
        "environment": document.get("environment"),
    }
    return {"scenarios": document["scenarios"], "scenario_source": source}, happy, stand_in


def _workflows(document: dict[str, Any]) -> list[MeasuredWorkflow]:
    """A bench document's workflows; documents of earlier versions read as well."""
    return [MeasuredWorkflow.model_validate(w) for w in document["workflows"]]


def _from_bench(path: Path) -> tuple[list[MeasuredWorkflow], dict[str, Any]]:
    document = json.loads(path.read_text())
    extras = {
        "source": f"albumreg bench document {path} ({document['environment']['finished_at']})",
        "lost": {p.value: int(document[p.value]["lost"]) for p in PATTERNS},
        "config": document.get("config"),
        "environment": document.get("environment"),
    }
    return _workflows(document), extras


def _from_system(
    env_file: Path | None, limit: int
) -> tuple[list[MeasuredWorkflow], dict[str, Any]]:
    connection = connect(env_file)
    workflows = [
        found.workflow
        for pattern in PATTERNS
        for found in connection.collector.collect_recent(pattern, limit)
    ]
    return workflows, {"source": f"metrics collected from {connection.target.source}"}


def run(args: argparse.Namespace) -> int:
    """Gather the numbers, render both files, say where they are."""
    try:
        if args.bench is not None:
            workflows, extras = _from_bench(args.bench)
        else:
            try:
                workflows, extras = _from_system(args.env_file, args.limit)
            except TargetError:
                workflows, extras = [], {"source": "no running system and no bench document"}
            if not workflows and DEFAULT_SAVE.is_file():
                workflows, extras = _from_bench(DEFAULT_SAVE)
        scenarios, happy, stand_in = _scenarios(args.scenarios)
        if not workflows and happy:
            workflows, extras = happy, stand_in
        extras |= scenarios
    except (OSError, KeyError, ValueError, AlbumRegError) as exc:
        return fail(f"cannot read the metrics: {exc}")
    if args.volume <= 0:
        return fail("--volume must be positive")
    data = report_data(workflows, measure(), volume=args.volume, **extras)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_html(data))
    markdown = args.out.with_suffix(".md")
    markdown.write_text(render_markdown(data))
    print(f"wrote {args.out} and {markdown} ({len(workflows)} workflows; {extras['source']})")
    return 0
