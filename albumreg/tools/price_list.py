"""Current AWS rates from the AWS Price List Query API, with the snapshot as the fallback.

``PriceListReader`` asks ``pricing:GetProducts`` for the products of one Region (a
``regionCode`` filter per service), finds the ones the cost model uses, and reads their
on-demand USD rate per unit. What it cannot find keeps the snapshot's figure, relabelled to
say so, so no Region is ever without a rate card. The same code writes the committed snapshot
(``handlers/domain/rate_snapshot.json``): ``snapshot_document`` serialises rate cards, and
``albumreg rates --live --write-snapshot`` runs it on AWS.

Response format, as the Price List API documents it (Billing User Guide, "Calling AWS services
and prices using the AWS Price List"; boto3 ``Pricing.Client.get_products``): ``PriceList`` is
a list of JSON *strings*, each with ``product.sku``, ``product.attributes`` (``usagetype``,
``regionCode``...) and ``terms.OnDemand.<offer>.priceDimensions.<rate>`` holding ``unit``,
``beginRange`` and ``pricePerUnit.USD``. Today ``albumreg rates --live`` and ``albumreg doctor``
use it; the collector Lambda costs workflows from the snapshot. It needs only botocore, and the
client is passed in, so it could run in Lambda as it is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from handlers.domain.cost import Rate, RateCard, RateSnapshot, snapshot

logger = logging.getLogger(__name__)

PRICE_LIST_REGION = "us-east-1"
"""The Price List Query API answers from us-east-1 (and a few others) for every Region."""

SOURCE = "AWS Price List Query API (GetProducts)"


class PriceListClient(Protocol):
    """The one call of boto3's ``pricing`` client this module makes."""

    def get_products(self, **kwargs: Any) -> Mapping[str, Any]:
        """``pricing:GetProducts``."""
        ...


@dataclass(frozen=True)
class Wanted:
    """How one rate of the cost model is found among a service's products.

    Attributes:
        key: the ``RateCard`` key it fills.
        service_code: the Price List service code.
        usagetype: the ``usagetype`` attribute without its Region prefix (``USE2-``).
        per: the card keeps the rate per this many units.
    """

    key: str
    service_code: str
    usagetype: str
    per: int


WANTED: tuple[Wanted, ...] = (
    Wanted("state_transition", "AmazonStates", "StateTransition", 1_000),
    Wanted("lambda_request", "AWSLambda", "Request", 1_000_000),
    Wanted("lambda_gb_second:x86_64", "AWSLambda", "Lambda-GB-Second", 1),
    Wanted("lambda_gb_second:arm64", "AWSLambda", "Lambda-GB-Second-ARM", 1),
    Wanted("durable_operation", "AWSLambda", "Lambda-Durable-Operations", 1_000_000),
    Wanted("durable_gb_written", "AWSLambda", "Lambda-Durable-Data-Written", 1),
    Wanted("durable_gb_month_retained", "AWSLambda", "Lambda-Durable-Data-Retained", 1),
    Wanted("dynamodb_write_unit", "AmazonDynamoDB", "WriteRequestUnits", 1_000_000),
    Wanted("dynamodb_read_unit", "AmazonDynamoDB", "ReadRequestUnits", 1_000_000),
    Wanted("s3_put", "AmazonS3", "Requests-Tier1", 1_000),
    Wanted("s3_get", "AmazonS3", "Requests-Tier2", 1_000),
    Wanted("eventbridge_event", "AWSEvents", "Event-64K-Chunks", 1_000_000),
    Wanted("cloudwatch_request", "AmazonCloudWatch", "CW:Requests", 1_000),
    Wanted("cloudwatch_metric_month", "AmazonCloudWatch", "CW:MetricMonitorUsage", 1),
    Wanted("cloudwatch_dashboard_month", "AmazonCloudWatch", "DashboardsUsageHour", 1),
    Wanted("cloudwatch_alarm_month", "AmazonCloudWatch", "CW:AlarmMonitorUsage", 1),
    Wanted("secret_month", "AWSSecretsManager", "AWSSecretsManager-Secrets", 1),
)
"""The products read from the Price List. The usage types are the names AWS's public offer
files use as far as we know them; none was checked against a live response from here (no AWS
access), so a name that does not match leaves that rate on the snapshot, labelled. Bedrock
token rates are not read: their products differ per model and provider."""


@dataclass(frozen=True)
class ListedRate:
    """One on-demand rate of one product, as the Price List states it."""

    sku: str
    usagetype: str
    region: str
    unit: str
    usd_per_unit: Decimal


@dataclass
class RegionRates:
    """What the Price List said about one Region on one day.

    Attributes:
        region: the Region.
        fetched_on: when it was read (the cache key's date).
        found: rates by ``RateCard`` key.
        missing: keys the Price List had no product for, with the reason.
    """

    region: str
    fetched_on: date
    found: dict[str, Rate] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def durable_listed(self) -> bool:
        """Whether the Price List sells durable operations in this Region."""
        return "durable_operation" in self.found


def parse_price_list(entries: Iterable[str]) -> Iterator[ListedRate]:
    """The first-tier on-demand USD rate of every product in a ``PriceList``.

    Entries that are not in the documented format are skipped with a warning: one odd product
    must not hide the others.
    """
    for entry in entries:
        try:
            document = json.loads(entry)
            product = document["product"]
            attributes = product["attributes"]
            for offer in document["terms"]["OnDemand"].values():
                for dimension in offer["priceDimensions"].values():
                    if str(dimension.get("beginRange", "0")) not in ("0", "0.0"):
                        continue  # a later tier of a tiered rate: the model uses the first
                    yield ListedRate(
                        sku=product["sku"],
                        usagetype=attributes.get("usagetype", ""),
                        region=attributes.get("regionCode", ""),
                        unit=dimension.get("unit", ""),
                        usd_per_unit=Decimal(dimension["pricePerUnit"]["USD"]),
                    )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, InvalidOperation):
            logger.warning("skipped a Price List entry not in the documented format")


def _usage_suffix(usagetype: str) -> str:
    """``USE2-Lambda-GB-Second`` -> ``Lambda-GB-Second`` (us-east-1 often has no prefix)."""
    head, sep, rest = usagetype.partition("-")
    return rest if sep and head.isupper() and head.isalnum() and len(head) <= 5 else usagetype


class PriceListReader:
    """Reads a Region's rates from the Price List API once per day, then from its cache.

    Args:
        client: a ``pricing`` client (endpoint in ``PRICE_LIST_REGION``).
        today: the date stamped on what is read, injected for tests.
    """

    def __init__(self, client: PriceListClient, today: Callable[[], date] = date.today) -> None:
        self._client = client
        self._today = today
        self._cache: dict[str, RegionRates] = {}

    def read(self, region: str) -> RegionRates:
        """The Region's rates; every lookup that fails is recorded in ``missing``."""
        cached = self._cache.get(region)
        if cached is not None and cached.fetched_on == self._today():
            return cached
        result = RegionRates(region=region, fetched_on=self._today())
        by_service: dict[str, list[Wanted]] = {}
        for item in WANTED:
            by_service.setdefault(item.service_code, []).append(item)
        for service_code, wanted in by_service.items():
            try:
                listed = list(parse_price_list(self._products(service_code, region)))
            except (ClientError, BotoCoreError) as exc:
                for item in wanted:
                    result.missing[item.key] = f"GetProducts {service_code} failed: {exc}"
                continue
            for item in wanted:
                match = [p for p in listed if _usage_suffix(p.usagetype) == item.usagetype]
                if not match:
                    result.missing[item.key] = f"no {service_code} product {item.usagetype}"
                    continue
                result.found[item.key] = _rate(item, match[0], result.fetched_on)
        self._cache[region] = result
        return result

    def _products(self, service_code: str, region: str) -> Iterator[str]:
        token: str | None = None
        while True:
            request: dict[str, Any] = {
                "ServiceCode": service_code,
                "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
                "FormatVersion": "aws_v1",
                "MaxResults": 100,
            }
            if token:
                request["NextToken"] = token
            page = self._client.get_products(**request)
            yield from page.get("PriceList", [])
            token = page.get("NextToken")
            if not token:
                return


def _rate(wanted: Wanted, listed: ListedRate, fetched_on: date) -> Rate:
    return Rate(
        usd=listed.usd_per_unit * wanted.per,
        per=wanted.per,
        unit=listed.unit,
        source=f"{SOURCE}, {listed.region or 'Region'} SKU {listed.sku}, "
        f"fetched {fetched_on.isoformat()}",
        sku=listed.sku,
    )


def live_card(region: str, read: RegionRates, snapshot: RateSnapshot) -> RateCard:
    """The Price List's figures over the snapshot's card; each fallback says why.

    Durable functions count as offered when the Price List lists their operations for the
    Region, or when the snapshot already knows they are.
    """
    base = snapshot.card(region)
    rates = base.keyed()
    for key, rate in rates.items():
        if key in read.found:
            rates[key] = read.found[key]
        else:
            reason = read.missing.get(key, "not read from the Price List")
            rates[key] = replace(
                rate,
                source=f"{rate.source} [snapshot of {snapshot.as_of.isoformat()}: "
                f"Price List had none: {reason}]",
            )
    return RateCard.from_keyed(
        region,
        read.fetched_on,
        rates,
        durable_offered=read.durable_listed or base.durable_offered,
        origin=f"{SOURCE}, fetched {read.fetched_on.isoformat()}, snapshot for the rest",
    )


class LiveRates:
    """The cost model's rate cards on AWS: the Price List's figures, the snapshot's elsewhere.

    Build one per process and ask it for a Region's card: the first call of a day reads the
    Price List, later ones use its cache; no call raises, since whatever the Price List does not
    give keeps the snapshot's figure, labelled. The caller needs ``pricing:GetProducts`` (on
    ``*``: the Price List has no resource ARNs).

    Args:
        client: a ``pricing`` client (endpoint in ``PRICE_LIST_REGION``).
        today: the date stamped on what is read, injected for tests.
    """

    def __init__(self, client: PriceListClient, today: Callable[[], date] = date.today) -> None:
        self.reader = PriceListReader(client, today)

    def card(self, region: str) -> RateCard:
        """The Region's card, read today or earlier today."""
        return live_card(region, self.reader.read(region), snapshot())


def _rate_json(rate: Rate) -> dict[str, Any]:
    return {
        "usd": str(rate.usd),
        "per": rate.per,
        "unit": rate.unit,
        "source": rate.source,
        "sku": rate.sku,
    }


def snapshot_document(
    cards: Iterable[RateCard], base: RateSnapshot, as_of: date, source: str
) -> dict[str, Any]:
    """The snapshot file's JSON for these cards (``RateSnapshot.from_document`` reads it).

    A card that offers durable functions adds its Region to the durable list; the Step
    Functions rates of further Regions are carried over from ``base``.
    """
    written = list(cards)
    durable = set(base.durable_regions) | {t.region for t in written if t.durable_offered}
    return {
        "format": 1,
        "as_of": as_of.isoformat(),
        "source": source,
        "durable_regions": {"regions": sorted(durable), "source": base.durable_regions_source},
        "regions": {
            card.region: {"rates": {key: _rate_json(rate) for key, rate in card.keyed().items()}}
            for card in written
        },
        "state_transitions": {
            "source": _transitions_source(base),
            "rates": {r: _rate_json(p) for r, p in sorted(base.state_transitions.items())},
        },
    }


def _transitions_source(base: RateSnapshot) -> str:
    sources = {rate.source for rate in base.state_transitions.values()}
    return sources.pop() if len(sources) == 1 else "per Region, see each rate"
