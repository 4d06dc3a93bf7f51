"""``albumreg review list | approve | reject``: the human step without the browser.

Uses the same code path as the dashboard: ``submit_review`` over the stored token, so a review
done here is validated, applied once, and refused clearly when it is too late.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from albumreg.client.connect import connect
from albumreg.client.console import fail, table
from albumreg.client.formatting import duration
from albumreg.client.target import TargetError
from handlers.domain.errors import AlbumRegError
from handlers.domain.models import ReviewDecision
from handlers.domain.reviews import submit_review
from handlers.domain.tenant import PATTERNS, Pattern

PATTERN_CHOICES: dict[str, tuple[Pattern, ...]] = {
    "sf": (Pattern.STEP_FUNCTIONS,),
    "ldf": (Pattern.DURABLE,),
    "both": PATTERNS,
}


def register(subparsers: Any) -> None:
    """Add ``review`` with its ``list``, ``approve`` and ``reject`` actions."""
    parser = subparsers.add_parser("review", help="list, approve or reject pending reviews")
    parser.add_argument("--env-file", type=Path, help="the local cloud's env file")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="open reviews of both patterns, newest first")
    listing.add_argument("--pattern", choices=sorted(PATTERN_CHOICES), default="both")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_list)

    approve = actions.add_parser("approve", help="approve, optionally correcting albums")
    approve.add_argument("upload_id")
    approve.add_argument("--pattern", choices=sorted(PATTERN_CHOICES), default="both")
    approve.add_argument("--year", action="append", default=[], metavar="SLOT=YEAR")
    approve.add_argument("--title", action="append", default=[], metavar="SLOT=TITLE")
    approve.add_argument("--artist", action="append", default=[], metavar="SLOT=ARTIST")
    approve.add_argument("--reviewer", help="who approved (stored with the review)")
    approve.set_defaults(run=run_decision, action_name="approve")

    reject = actions.add_parser("reject", help="reject the extraction; the upload ends REJECTED")
    reject.add_argument("upload_id")
    reject.add_argument("--pattern", choices=sorted(PATTERN_CHOICES), default="both")
    reject.add_argument("--comment", help="why (shown in the dashboard)")
    reject.add_argument("--reviewer")
    reject.set_defaults(run=run_decision, action_name="reject")


def run_list(args: argparse.Namespace) -> int:
    """Print the open reviews."""
    try:
        deps = connect(args.env_file).deps
        reviews = [
            review
            for pattern in PATTERN_CHOICES[args.pattern]
            for review in deps.repo.list_open_reviews(pattern)
        ]
    except TargetError as exc:
        return fail(str(exc))
    reviews.sort(key=lambda review: review.requested_at, reverse=True)
    now = deps.clock.now()
    if args.json:
        print(json.dumps([review.model_dump(mode="json", exclude={"token"}) for review in reviews]))
        return 0
    if not reviews:
        print("no open reviews")
        return 0
    rows = [
        (
            review.upload_id,
            review.pattern.value,
            duration((review.expires_at - now).total_seconds()),
            "; ".join(
                f"{a.slot}: {a.artist} - {a.title} ({a.year})"
                if not a.unrecognized
                else f"{a.slot}: (unrecognized)"
                for a in review.albums
            ),
        )
        for review in reviews
    ]
    print(table(("upload", "pattern", "time left", "albums"), rows))
    return 0


def _pairs(values: list[str], option: str) -> dict[int, str]:
    pairs: dict[int, str] = {}
    for value in values:
        slot, sep, rest = value.partition("=")
        if not sep or not slot.strip().isdigit():
            raise ValueError(f"{option} {value!r}: expected SLOT=VALUE, e.g. {option} 2=1970")
        pairs[int(slot)] = rest
    return pairs


def build_decision(args: argparse.Namespace) -> ReviewDecision:
    """Turn the command line into a validated decision (the same model the dashboard uses).

    Raises:
        ValueError: a malformed ``SLOT=VALUE`` pair or a value the model refuses.
    """
    if args.action_name == "reject":
        return ReviewDecision(action="reject", comment=args.comment, reviewer=args.reviewer)
    fields = {
        "year": _pairs(args.year, "--year"),
        "title": _pairs(args.title, "--title"),
        "artist": _pairs(args.artist, "--artist"),
    }
    slots = sorted({slot for values in fields.values() for slot in values})
    corrections = [
        {"slot": slot, **{name: values[slot] for name, values in fields.items() if slot in values}}
        for slot in slots
    ]
    try:
        return ReviewDecision.model_validate(
            {"action": "approve", "corrections": corrections, "reviewer": args.reviewer}
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ValueError(f"invalid review: {problems}") from exc


def run_decision(args: argparse.Namespace) -> int:
    """Approve or reject one upload's review in one or both patterns."""
    try:
        decision = build_decision(args)
        deps = connect(args.env_file).deps
    except (ValueError, TargetError) as exc:
        return fail(str(exc))
    status = 0
    for pattern in PATTERN_CHOICES[args.pattern]:
        try:
            result = submit_review(
                pattern,
                args.upload_id,
                decision,
                repo=deps.repo,
                inbox=deps.inbox,
                clock=deps.clock,
            )
        except AlbumRegError as exc:
            status = fail(f"{pattern.value}: {exc}")
            continue
        print(f"{pattern.value}: {result.outcome.value.lower()} upload {args.upload_id}")
    return status
