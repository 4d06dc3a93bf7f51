"""``albumreg bench --scenarios`` end to end on the local cloud: one upload per scenario.

A throttled vision model is retried by both orchestrators exactly as the policy says and billed
one unit (and one Lambda invocation) per retry; a pricing API that is down exhausts every
agent's attempts and still completes with six error estimates; a model that returns nothing
usable fails both workflows at once, without a retry.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest

from albumreg.cli.main import main
from handlers.domain.names import PRICE_ONE_ALBUM, Step
from handlers.domain.policy import ALBUMS_PER_IMAGE, PRICE_RETRY
from handlers.domain.tenant import PATTERNS

REQUIRED = {
    "completed",
    "failed",
    "lost",
    "active_p50_s",
    "billed_units_p50",
    "retries_p50",
    "lambda_invocations_p50",
    "cost_per_workflow_usd",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One scenario run (happy and three failures), as the CLI prints it."""
    saved = tmp_path_factory.mktemp("scenarios") / "scenarios.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(
            [
                "bench",
                "--scenarios", "vision-throttled,pricing-outage,extract-failure",
                "--uploads", "1",
                "--price-latency", "0.05",
                "--recognizer", "replay",
                "--save", str(saved),
                "--json",
            ]
        )  # fmt: skip
    assert status == 0
    found: dict[str, Any] = json.loads(out.getvalue())
    assert found == json.loads(saved.read_text())
    return found


@pytest.mark.timeout(600)
def test_every_scenario_reports_both_patterns_with_the_promised_figures(
    document: dict[str, Any],
) -> None:
    assert list(document["scenarios"]) == [
        "happy",
        "pricing-outage",
        "vision-throttled",
        "extract-failure",
    ]
    for name, figures in document["scenarios"].items():
        for pattern in PATTERNS:
            assert set(figures[pattern]) >= REQUIRED, (name, pattern)
            assert figures[pattern]["lost"] == 0, (name, pattern)
    assert {w["scenario"] for w in document["workflows"]} == set(document["scenarios"])


@pytest.mark.timeout(600)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_throttled_extract_is_retried_once_and_billed_one_unit_more(
    document: dict[str, Any], pattern: str
) -> None:
    happy = document["scenarios"]["happy"][pattern]
    throttled = document["scenarios"]["vision-throttled"][pattern]
    (workflow,) = [
        w
        for w in document["workflows"]
        if w["scenario"] == "vision-throttled" and w["pattern"] == pattern
    ]

    assert throttled["completed"] == 1
    # Each workflow's first attempt was throttled; the policy allows more, one was enough.
    assert workflow["retries"] == {Step.EXTRACT.value: 1}
    # A retry is one more state transition (sf) or one more durable operation (ldf), and one
    # more Lambda invocation on either side.
    assert throttled["billed_units_p50"] == happy["billed_units_p50"] + 1
    assert throttled["lambda_invocations_p50"] == happy["lambda_invocations_p50"] + 1


@pytest.mark.timeout(600)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_extract_failure_fails_at_once_without_retries(
    document: dict[str, Any], pattern: str
) -> None:
    failed = document["scenarios"]["extract-failure"][pattern]

    assert (failed["completed"], failed["failed"]) == (0, 1)
    assert failed["retries_p50"] == 0
    # Entering extract, its failure recorded, and the end: the review was never reached.
    assert failed["billed_units_p50"] < document["scenarios"]["happy"][pattern]["billed_units_p50"]
    assert failed["cost_per_workflow_usd"] > 0


@pytest.mark.timeout(600)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_pricing_outage_spends_every_agents_retries_and_still_completes(
    document: dict[str, Any], pattern: str
) -> None:
    happy = document["scenarios"]["happy"][pattern]
    outage = document["scenarios"]["pricing-outage"][pattern]
    (workflow,) = [
        w
        for w in document["workflows"]
        if w["scenario"] == "pricing-outage" and w["pattern"] == pattern
    ]
    retries = ALBUMS_PER_IMAGE * PRICE_RETRY.retries

    assert outage["completed"] == 1
    assert workflow["albums_priced"] == 0
    assert workflow["retries"] == {PRICE_ONE_ALBUM: retries}
    # Each retry is one more billed unit; Step Functions also enters each agent's Catch state.
    assert workflow["retry_billed_units"] == retries
    assert outage["billed_units_p50"] >= happy["billed_units_p50"] + retries
