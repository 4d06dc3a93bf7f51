"""The committed rate snapshot: coverage of every Region, honesty of its sources, the CLI."""

from __future__ import annotations

import json

import pytest

from albumreg.cli.main import main
from handlers.domain.cost import DURABLE_KEYS, SCALAR_KEYS, rate_card, snapshot

SNAPSHOT = snapshot()
DURABLE_REGIONS = sorted(SNAPSHOT.durable_regions)
PUBLISHED_SF_REGIONS = sorted(SNAPSHOT.state_transitions)


def test_snapshot_lists_at_least_the_sample_stacks_region_as_durable():
    assert "us-east-2" in SNAPSHOT.durable_regions


@pytest.mark.parametrize("region", DURABLE_REGIONS)
def test_every_durable_region_has_a_full_card_of_its_own(region):
    card = SNAPSHOT.cards[region]
    assert card.durable_offered
    assert set(SCALAR_KEYS) <= set(card.keyed())
    for key in DURABLE_KEYS | {"state_transition"}:
        assert card.keyed()[key].usd > 0, key


@pytest.mark.parametrize("region", PUBLISHED_SF_REGIONS)
def test_every_region_with_a_published_step_functions_rate_gets_it(region):
    assert rate_card(region).state_transition == SNAPSHOT.state_transitions[region]


@pytest.mark.parametrize("region", ["eu-south-2", "il-central-1", "xx-nowhere-9"])
def test_any_other_region_gets_us_east_1_figures_each_labelled(region):
    card = rate_card(region)
    assert not card.durable_offered
    for key, rate in card.keyed().items():
        assert f"us-east-1 figure used for {region}" in rate.source, key
        assert rate.sku is None


def test_snapshot_claims_no_sku_it_does_not_have_and_says_where_figures_come_from():
    assert "no AWS access" in SNAPSHOT.source
    for card in SNAPSHOT.cards.values():
        for key, rate in card.keyed().items():
            assert rate.sku is None, key
            assert rate.source.startswith("https://aws.amazon.com/"), key


@pytest.mark.parametrize("region", DURABLE_REGIONS)
def test_rates_json_for_a_durable_region(region, capsys):
    assert main(["rates", "--region", region, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["region"] == region
    assert document["durable_offered"] is True
    items = {item["key"]: item for item in document["items"]}
    for key in ("state_transition", "durable_operation"):
        assert {"service", "item", "unit", "usd", "source"} <= set(items[key])
        assert items[key]["usd"] > 0
    assert items["durable_operation"]["service"] == "AWS Lambda durable functions"


def test_rates_for_a_region_without_durable_functions(capsys):
    assert main(["rates", "--region", "eu-west-3"]) == 0
    out = capsys.readouterr().out
    assert "durable functions are not offered in eu-west-3" in out
    assert "Standard workflow state transition" in out
    assert "$0.0297 per 1,000 transitions" in out
    assert "durable operation" not in out
