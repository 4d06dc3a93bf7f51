"""Fixtures of the reliability suite: every case runs once per orchestrator.

The moto account here executes state machines (``sfn_harness.state_machine_account``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handlers.domain.tenant import PATTERNS
from tests.functional.conftest import Workbench
from tests.functional.reliability.patterns import (
    PATTERN_IDS,
    Orchestration,
    open_orchestration,
)
from tests.functional.sfn_harness import state_machine_account


@pytest.fixture
def aws() -> Iterator[None]:
    """Overrides the plain moto account: this one executes state machines."""
    with state_machine_account():
        yield


@pytest.fixture(params=PATTERNS, ids=PATTERN_IDS)
def orchestration(request: pytest.FixtureRequest, workbench: Workbench) -> Iterator[Orchestration]:
    """The case's orchestrator: Step Functions (moto) or durable functions (the SDK's runner)."""
    with open_orchestration(request.param, workbench) as orchestration:
        yield orchestration
