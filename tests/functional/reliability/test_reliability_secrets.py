"""The pricing token never leaves the one header that needs it: a whole workflow at DEBUG, on
either orchestrator, with the production price agent, and the token is in no log record, stored
item or execution history.
"""

from __future__ import annotations

import json
import logging

import boto3
import pytest

from albumreg.cloud.fake_discogs import PricingApiServer
from handlers.adapters.pricing import build_pricing
from handlers.config import Settings
from tests.functional.conftest import TABLE, Workbench, swapped
from tests.functional.reliability.patterns import (
    COMPLETED,
    DurableOrchestration,
    Orchestration,
    SfOrchestration,
    run_with_approval,
)

SECRET = "Zq8-reliability-secret-token-4471"


def _history_text(orchestration: Orchestration, handle: str) -> str:
    if isinstance(orchestration, SfOrchestration):
        return json.dumps(orchestration.harness.history(handle), default=str)
    assert isinstance(orchestration, DurableOrchestration)
    history = orchestration.harness.runner.get_execution_history(
        handle, include_execution_data=True
    )
    return json.dumps([event.to_dict() for event in history.events], default=str)


def test_pricing_token_never_in_logs_records_or_history(
    orchestration: Orchestration,
    workbench: Workbench,
    dynamodb,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN an API that accepts only this token and rate-limits every third request
    with PricingApiServer(token=SECRET) as api:
        api.set_knobs(rate_limit_every=3, retry_after=0)
        settings = Settings(table_name=TABLE, pricing_base_url=api.url, pricing_token=SECRET)
        agent = build_pricing(settings, boto3.session.Session(region_name="us-east-1"))
        caplog.set_level(logging.DEBUG)
        event = workbench.upload()

        # WHEN a whole workflow runs, prices included, with every logger at DEBUG
        with swapped(workbench, pricing=agent):
            run = run_with_approval(orchestration, event)
            handle, ending = run.handle, run.ending
        stats = api.stats()

    # THEN the token was sent (the API priced and retried) but is nowhere else
    assert orchestration.outcome(handle, ending) == COMPLETED
    assert stats["by_status"]["200"] > 0
    assert stats["by_status"]["429"] > 0
    assert "unauthorized" not in stats["by_fault"]
    assert any("retry" in record.getMessage() for record in caplog.records)
    assert SECRET not in caplog.text
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    items = dynamodb.scan(TableName=TABLE)["Items"]
    assert items
    assert SECRET not in json.dumps(items)
    assert SECRET not in _history_text(orchestration, handle)
    assert SECRET not in repr(agent)
