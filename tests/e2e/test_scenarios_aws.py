"""The end-to-end scenarios against a deployed stack (``make test-aws``).

They run only when ``ALBUMREG_AWS_TESTS=1`` (``make test-aws`` sets it), so no other test run
ever looks for AWS credentials. The stack is found from its outputs (``pulumi stack output
--json`` in the project directory, or the ``ALBUMREG_*`` variables). Without credentials or a
stack, every test here is skipped with the one reason why. What the scenarios upload is
deleted afterwards; their records stay in the table like any other upload's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from albumreg.client.target import Target, TargetError, load_target
from tests.e2e.target_scenarios import SCENARIOS
from tests.e2e.target_world import TargetWorld, cli_environment

pytestmark = [pytest.mark.aws, pytest.mark.e2e]

SETTLE_SECONDS = 300.0
"""Bedrock and the real pricing API are slower than the local stand-ins."""


ENABLE_VARIABLE = "ALBUMREG_AWS_TESTS"


def deployed_target() -> Target:
    """The stack under test, or a skip saying what is missing."""
    if os.environ.get(ENABLE_VARIABLE) != "1":
        pytest.skip(f"AWS scenarios run with `make test-aws` ({ENABLE_VARIABLE}=1)")
    try:
        identity = boto3.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        pytest.skip(f"no usable AWS credentials ({exc}); `aws sso login` or set AWS_PROFILE")
    try:
        target = load_target()
    except TargetError as exc:
        pytest.skip(f"no deployed stack: {exc}")
    if target.is_local:
        pytest.skip(f"{target.source} points at the local cloud; stop `albumreg local` first")
    if not target.durable_function:
        pytest.skip("the stack outputs name no durable function; run `pulumi up`")
    print(f"AWS scenarios as {identity['Arn']} against {target.source}")
    return target


def review_timeout_of(target: Target) -> int:
    """The deployed review timeout, as the durable function's environment holds it."""
    config = boto3.client("lambda", region_name=target.region).get_function_configuration(
        FunctionName=target.durable_function
    )
    return int(config["Environment"]["Variables"]["REVIEW_TIMEOUT_SECONDS"])


@pytest.fixture(scope="module")
def aws_world() -> Iterator[TargetWorld]:
    target = deployed_target()
    # The CLI finds the same stack through these variables, without calling Pulumi again.
    env = cli_environment(
        {
            "ALBUMREG_BUCKET": target.bucket,
            "TABLE_NAME": target.table_name,
            "ALBUMREG_STATE_MACHINE_ARN": target.state_machine_arn,
            "ALBUMREG_DURABLE_FUNCTION": target.durable_function,
            "AWS_DEFAULT_REGION": target.region,
        }
    )
    world = TargetWorld(
        target, env, review_timeout_seconds=review_timeout_of(target), settle_seconds=SETTLE_SECONDS
    )
    yield world
    world.cleanup()


@pytest.mark.parametrize("scenario", list(SCENARIOS.values()), ids=list(SCENARIOS))
def test_scenario_on_aws(aws_world: TargetWorld, scenario: Callable[[TargetWorld], None]) -> None:
    scenario(aws_world)
