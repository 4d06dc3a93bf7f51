"""``albumreg rates``: the AWS rate card the cost model uses for a Region, its sources and date.

Offline it prints the committed snapshot (``handlers/domain/rate_snapshot.json``); with
``--live`` it reads the AWS Price List API first and marks every rate it could not find
there as a snapshot fallback. ``--write-snapshot`` (with ``--live``) rewrites the snapshot.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import boto3

from albumreg.tools.price_list import (
    PRICE_LIST_REGION,
    SOURCE,
    LiveRates,
    PriceListReader,
    live_card,
    snapshot_document,
)
from handlers.domain import cost
from handlers.domain.cost import DURABLE_KEYS, RateCard, service_of, snapshot

LABELS = {
    "state_transition": "Standard workflow state transition",
    "lambda_request": "request",
    "lambda_gb_second": "duration",
    "durable_operation": "durable operation",
    "durable_gb_written": "data written",
    "durable_gb_month_retained": "data retained",
    "dynamodb_write_unit": "on-demand write request unit",
    "dynamodb_read_unit": "on-demand read request unit",
    "s3_put": "PUT request",
    "s3_get": "GET request",
    "eventbridge_event": "event (S3 data event, 64 KB chunk)",
    "cloudwatch_request": "API request",
    "cloudwatch_metric_month": "custom metric",
    "cloudwatch_dashboard_month": "dashboard",
    "cloudwatch_alarm_month": "standard alarm",
    "secret_month": "secret",
}


def register(subparsers: Any) -> None:
    """Add the ``rates`` subcommand."""
    parser = subparsers.add_parser(
        "rates", help="the AWS rate card the cost model uses for a Region, with sources"
    )
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        help="AWS Region (default: $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document")
    parser.add_argument(
        "--live",
        action="store_true",
        help="read current rates from the AWS Price List API (needs AWS credentials)",
    )
    parser.add_argument(
        "--write-snapshot",
        action="store_true",
        help="with --live: rewrite the committed snapshot with what the Price List returned",
    )
    parser.set_defaults(run=run)


def item_label(key: str) -> str:
    """A readable name for a rate key."""
    head, _, rest = key.partition(":")
    if head == "lambda_gb_second":
        return f"duration ({rest})"
    if head == "bedrock":
        model, _, direction = rest.partition(":")
        return f"{model} {direction} tokens"
    return LABELS[head]


def listing(card: RateCard) -> list[dict[str, Any]]:
    """Every rate of a card as JSON items; durable ones only where durable is offered."""
    return [
        {
            "service": service_of(key),
            "item": item_label(key),
            "key": key,
            "unit": rate.unit,
            "per": rate.per,
            "usd": float(rate.usd),
            "source": rate.source,
            "sku": rate.sku,
        }
        for key, rate in card.keyed().items()
        if card.durable_offered or key not in DURABLE_KEYS
    ]


def durable_note(card: RateCard) -> str:
    """One sentence on durable functions in the card's Region, with its source."""
    if card.durable_offered:
        return f"Lambda durable functions are offered in {card.region}."
    return (
        f"Lambda durable functions are not offered in {card.region} as far as this card "
        "knows, so its durable rates are left out (--json: durable_regions_source)."
    )


def run(args: argparse.Namespace) -> int:
    """Print the card; a live read that found nothing says so and shows the snapshot."""
    card = cost.rate_card(args.region)
    if args.live:
        live = LiveRates(boto3.client("pricing", region_name=PRICE_LIST_REGION))
        card = live.card(args.region)
        if not live.reader.read(args.region).found:
            print(f"{SOURCE} returned no rate for {args.region}: snapshot shown", file=sys.stderr)
        if args.write_snapshot:
            _write_snapshot(live.reader, args.region)
    items = listing(card)
    document = {
        "region": card.region,
        "as_of": card.as_of.isoformat(),
        "origin": card.origin,
        "snapshot_source": snapshot().source,
        "durable_offered": card.durable_offered,
        "durable_note": durable_note(card),
        "durable_regions_source": snapshot().durable_regions_source,
        "items": items,
    }
    if args.json:
        print(json.dumps(document, indent=2))
        return 0
    print(f"AWS rates for {card.region} ({card.origin}, as of {card.as_of.isoformat()})")
    print(durable_note(card))
    for item in items:
        print(
            f"  {item['service']:<30} {item['item']:<38} "
            f"${item['usd']:.10g} per {item['per']:,} {item['unit']}"
        )
        print(f"      source: {item['source']}")
    return 0


def _write_snapshot(reader: PriceListReader, region: str) -> None:
    base = snapshot()
    regions = sorted({*base.cards, region})
    cards = [live_card(r, reader.read(r), base) for r in regions]
    today = date.today()
    document = snapshot_document(
        cards, base, today, f"{SOURCE} on {today.isoformat()}, the previous snapshot elsewhere"
    )
    path = Path(cost.__file__).with_name(cost.SNAPSHOT_FILE)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
