"""``albumreg prices``: the price table the cost model uses for a Region, its source and date.

Offline it prints the committed snapshot (``handlers/domain/price_snapshot.json``); with
``--live`` it reads the AWS Price List API first and marks every price it could not find
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

from handlers.adapters.price_list import (
    PRICE_LIST_REGION,
    SOURCE,
    LivePrices,
    PriceListReader,
    live_table,
    snapshot_document,
)
from handlers.domain import cost
from handlers.domain.cost import DURABLE_KEYS, PriceTable, service_of, snapshot

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
    """Add the ``prices`` subcommand."""
    parser = subparsers.add_parser(
        "prices", help="the price table the cost model uses for a Region, with sources"
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
        help="read current prices from the AWS Price List API (needs AWS credentials)",
    )
    parser.add_argument(
        "--write-snapshot",
        action="store_true",
        help="with --live: rewrite the committed snapshot with what the Price List returned",
    )
    parser.set_defaults(run=run)


def item_label(key: str) -> str:
    """A readable name for a price key."""
    head, _, rest = key.partition(":")
    if head == "lambda_gb_second":
        return f"duration ({rest})"
    if head == "bedrock":
        model, _, direction = rest.partition(":")
        return f"{model} {direction} tokens"
    return LABELS[head]


def listing(table: PriceTable) -> list[dict[str, Any]]:
    """Every price of a table as JSON items; durable ones only where durable is offered."""
    return [
        {
            "service": service_of(key),
            "item": item_label(key),
            "key": key,
            "unit": price.unit,
            "per": price.per,
            "usd": float(price.usd),
            "source": price.source,
            "sku": price.sku,
        }
        for key, price in table.keyed().items()
        if table.durable_offered or key not in DURABLE_KEYS
    ]


def durable_note(table: PriceTable) -> str:
    """One sentence on durable functions in the table's Region, with its source."""
    if table.durable_offered:
        return f"Lambda durable functions are offered in {table.region}."
    return (
        f"Lambda durable functions are not offered in {table.region} as far as this table "
        "knows, so its durable prices are left out (--json: durable_regions_source)."
    )


def run(args: argparse.Namespace) -> int:
    """Print the table; 2 when the live read was asked for and failed as a whole."""
    table = cost.price_table(args.region)
    if args.live:
        live = LivePrices(boto3.client("pricing", region_name=PRICE_LIST_REGION))
        table = live.table(args.region)
        if not live.reader.read(args.region).found:
            print(f"{SOURCE} returned no price for {args.region}: snapshot shown", file=sys.stderr)
        if args.write_snapshot:
            _write_snapshot(live.reader, args.region)
    items = listing(table)
    document = {
        "region": table.region,
        "as_of": table.as_of.isoformat(),
        "origin": table.origin,
        "snapshot_source": snapshot().source,
        "durable_offered": table.durable_offered,
        "durable_note": durable_note(table),
        "durable_regions_source": snapshot().durable_regions_source,
        "items": items,
    }
    if args.json:
        print(json.dumps(document, indent=2))
        return 0
    print(f"Prices for {table.region} ({table.origin}, as of {table.as_of.isoformat()})")
    print(durable_note(table))
    for item in items:
        print(
            f"  {item['service']:<30} {item['item']:<38} "
            f"${item['usd']:.10g} per {item['per']:,} {item['unit']}"
        )
        print(f"      source: {item['source']}")
    return 0


def _write_snapshot(reader: PriceListReader, region: str) -> None:
    base = snapshot()
    regions = sorted({*base.tables, region})
    tables = [live_table(r, reader.read(r), base) for r in regions]
    today = date.today()
    document = snapshot_document(
        tables, base, today, f"{SOURCE} on {today.isoformat()}, the previous snapshot elsewhere"
    )
    path = Path(cost.__file__).with_name(cost.SNAPSHOT_FILE)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
