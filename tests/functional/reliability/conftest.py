"""Fixtures of the reliability suite: every case runs once per orchestrator.

The moto account here executes state machines, and its DynamoDB takes one request at a time
(``albumreg.cloud.moto_fixes``), because both orchestrators' handlers write from many threads.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from albumreg.cloud.moto_fixes import serialized_dynamodb
from albumreg.cloud.sfn_runner import MOTO_CONFIG
from tests.functional.conftest import Workbench
from tests.functional.reliability_patterns import (
    PATTERN_IDS,
    PATTERNS,
    Orchestration,
    open_orchestration,
)


@pytest.fixture
def aws() -> Iterator[None]:
    """Overrides the plain moto account: this one executes state machines."""
    with mock_aws(config=MOTO_CONFIG), serialized_dynamodb():
        yield


@pytest.fixture(params=PATTERNS, ids=PATTERN_IDS)
def orchestration(request: pytest.FixtureRequest, workbench: Workbench) -> Iterator[Orchestration]:
    """The case's orchestrator: Step Functions (moto) or durable functions (the SDK's runner)."""
    with open_orchestration(request.param, workbench) as orchestration:
        yield orchestration
