"""The Price List reader against constructed ``get_products`` responses (botocore Stubber).

The fixtures under ``tests/events/pricing`` are CONSTRUCTED in the documented response format,
not recorded from AWS (see their ``_comment``): the tests check the parsing, the matching, the
cache and every fallback, not AWS's current rates.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from albumreg.tools.price_list import (
    WANTED,
    LiveRates,
    PriceListReader,
    live_card,
    parse_price_list,
    snapshot_document,
)
from handlers.domain.cost import DURABLE_KEYS, RateSnapshot, snapshot

FIXTURES = Path(__file__).parents[1] / "events" / "pricing"
TODAY = date(2026, 12, 3)


def fixture(region: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"get_products_{region}.json").read_text())


def listed(region: str, usagetype: str) -> dict[str, Any]:
    """The fixture's product with this usage type (without the Region prefix)."""
    for pages in fixture(region)["responses"].values():
        for page in pages:
            for entry in page["PriceList"]:
                if entry.startswith("{not json"):
                    continue
                document = json.loads(entry)
                if document["product"]["attributes"]["usagetype"].endswith(f"-{usagetype}"):
                    return document
    raise AssertionError(usagetype)


def usd_of(document: dict[str, Any]) -> Decimal:
    (offer,) = document["terms"]["OnDemand"].values()
    first = next(iter(offer["priceDimensions"].values()))
    return Decimal(first["pricePerUnit"]["USD"])


def services_in_read_order() -> list[str]:
    order: list[str] = []
    for wanted in WANTED:
        if wanted.service_code not in order:
            order.append(wanted.service_code)
    return order


def stub_region(stubber: Stubber, region: str) -> None:
    """Queue the fixture's pages in the order the reader asks for them."""
    responses = fixture(region)["responses"]
    for service in services_in_read_order():
        pages = responses.get(service, [{"FormatVersion": "aws_v1", "PriceList": []}])
        token = None
        for page in pages:
            expected: dict[str, Any] = {
                "ServiceCode": service,
                "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
                "FormatVersion": "aws_v1",
                "MaxResults": 100,
            }
            if token:
                expected["NextToken"] = token
            stubber.add_response("get_products", page, expected)
            token = page.get("NextToken")


@pytest.fixture
def pricing():
    client = boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("region", ["us-east-2", "eu-west-3"])
def test_reader_finds_each_listed_rate_with_its_sku(pricing, region):
    client, stubber = pricing
    stub_region(stubber, region)
    read = PriceListReader(client, today=lambda: TODAY).read(region)
    # Rates are stored per the card's unit: the Price List's per-unit figure times ``per``.
    transition = read.found["state_transition"]
    product = listed(region, "StateTransition")
    assert transition.usd == usd_of(product) * 1000
    assert transition.sku == product["product"]["sku"]
    assert f"{region} SKU {product['product']['sku']}" in transition.source
    assert "fetched 2026-12-03" in transition.source
    # The second Lambda page (NextToken) was read: arm64 duration is on it.
    assert read.found["lambda_gb_second:arm64"].usd == Decimal("0.0000133334")
    # A tiered rate keeps its first tier.
    assert read.found["s3_get"].usd == Decimal("0.0000004") * 1000
    # The fixture lists no CloudWatch dashboard product: that rate is missing, with the reason.
    assert "cloudwatch_dashboard_month" not in read.found
    assert "DashboardsUsageHour" in read.missing["cloudwatch_dashboard_month"]


def test_durable_is_listed_only_where_the_price_list_sells_it(pricing):
    client, stubber = pricing
    stub_region(stubber, "us-east-2")
    stub_region(stubber, "eu-west-3")
    reader = PriceListReader(client, today=lambda: TODAY)
    ohio, paris = reader.read("us-east-2"), reader.read("eu-west-3")
    assert ohio.durable_listed
    assert ohio.found["durable_operation"].usd == Decimal("8.000000")
    assert not paris.durable_listed
    assert set(DURABLE_KEYS) <= set(paris.missing)


def test_reader_caches_a_region_for_the_day(pricing):
    client, stubber = pricing
    stub_region(stubber, "us-east-2")
    reader = PriceListReader(client, today=lambda: TODAY)
    first = reader.read("us-east-2")
    # The Stubber has nothing more queued: a second request would fail the test.
    assert reader.read("us-east-2") is first


def test_a_failing_service_falls_back_to_the_snapshot_labelled(pricing):
    client, stubber = pricing
    for _service in services_in_read_order():
        stubber.add_client_error("get_products", "ThrottlingException", "slow down")
    read = PriceListReader(client, today=lambda: TODAY).read("us-east-2")
    assert not read.found
    card = live_card("us-east-2", read, snapshot())
    for key, rate in card.keyed().items():
        if key in {w.key for w in WANTED}:
            assert "Price List had none: GetProducts" in rate.source, key
            assert "ThrottlingException" in rate.source, key
    # The snapshot's own durable knowledge still holds.
    assert card.durable_offered


def test_live_card_takes_the_price_list_over_the_snapshot(pricing):
    client, stubber = pricing
    stub_region(stubber, "eu-west-3")
    read = PriceListReader(client, today=lambda: TODAY).read("eu-west-3")
    card = live_card("eu-west-3", read, snapshot())
    assert card.state_transition.usd == Decimal("0.0297")
    assert card.state_transition.sku == listed("eu-west-3", "StateTransition")["product"]["sku"]
    assert "snapshot of 2026-12-03" in card.cloudwatch_dashboard_month.source
    assert not card.durable_offered
    assert card.as_of == TODAY


def test_malformed_entries_are_skipped_not_fatal():
    entries = fixture("us-east-2")["responses"]["AmazonStates"][0]["PriceList"]
    parsed = list(parse_price_list(entries))
    assert len(entries) == 2
    assert [p.usagetype for p in parsed] == ["USE2-StateTransition"]


def test_snapshot_written_from_a_live_read_round_trips(pricing):
    client, stubber = pricing
    stub_region(stubber, "us-east-2")
    read = PriceListReader(client, today=lambda: TODAY).read("us-east-2")
    base = snapshot()
    document = snapshot_document([live_card("us-east-2", read, base)], base, TODAY, "test")
    again = RateSnapshot.from_document(json.loads(json.dumps(document)))
    ohio = again.card("us-east-2")
    durable = listed("us-east-2", "Lambda-Durable-Operations")
    assert ohio.durable_operation.sku == durable["product"]["sku"]
    assert "us-east-2" in again.durable_regions
    assert again.state_transitions == base.state_transitions


def test_live_rates_read_a_region_once_a_day(pricing):
    client, stubber = pricing
    day = {"today": TODAY}
    stub_region(stubber, "us-east-2")
    stub_region(stubber, "us-east-2")
    live = LiveRates(client, today=lambda: day["today"])
    first = live.card("us-east-2")
    # Same day: from the cache (one set of answers is still queued, so no request was made).
    assert live.card("us-east-2").state_transition == first.state_transition
    # The next day it reads again (the second set of queued answers).
    day["today"] = date(2026, 12, 4)
    assert live.card("us-east-2").as_of == date(2026, 12, 4)
