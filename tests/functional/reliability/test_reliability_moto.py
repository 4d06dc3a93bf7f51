"""Races in moto that made tests flaky, each made near certain here, and the fix that removes it.

- ``dictionary changed size during iteration``: moto's ``transact_write_items`` copies the table
  while other threads write to it. A 1 µs thread switch interval makes the race near certain;
  ``albumreg.cloud.moto_fixes.serialized_dynamodb`` removes it.
- One Map iteration retried once more than ``MaxAttempts``: the iterations, threads sharing one
  parsed Retrier, each make its lazily created heap key when they fail at once, and an
  iteration that counted under a key that lost starts counting again. Failing every iteration
  at the same moment, with a slow key, makes the race near certain;
  ``albumreg.cloud.moto_fixes.stable_heap_keys`` removes it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.asl.component import eval_component
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from albumreg.cloud.moto_fixes import serialized_dynamodb, stable_heap_keys
from albumreg.cloud.sfn_runner import MOTO_CONFIG, routed_invokes, wait_for_execution
from handlers.adapters.table_schema import create_table_request
from handlers.domain.errors import TransientError

HERE = __name__

TABLE = "race"
TRANSACTIONS = 40
SEEDED_ITEMS = 100
"""Enough items that copying the table takes many thread switches."""


@contextlib.contextmanager
def switching_often() -> Iterator[None]:
    """Let threads interleave every microsecond, as a loaded machine eventually does."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def transactions_beside_writes() -> tuple[list[str], int]:
    """Transactions on one partition while another thread adds items; (errors, items)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(**create_table_request(TABLE))
    for index in range(SEEDED_ITEMS):
        client.put_item(TableName=TABLE, Item={"pk": {"S": f"seed#{index}"}, "sk": {"S": "META"}})
    errors: list[str] = []
    done = threading.Event()

    def transact() -> None:
        writer = boto3.client("dynamodb", region_name="us-east-1")
        for index in range(TRANSACTIONS):
            item = {"pk": {"S": "sf#UPLOAD#1"}, "sk": {"S": f"ALBUM#{index}"}}
            try:
                writer.transact_write_items(
                    TransactItems=[{"Put": {"TableName": TABLE, "Item": item}}]
                )
            except RuntimeError as exc:
                errors.append(str(exc))
        done.set()

    def put() -> None:
        writer = boto3.client("dynamodb", region_name="us-east-1")
        index = 0
        while not done.is_set():
            index += 1
            item = {"pk": {"S": f"ldf#UPLOAD#{index}"}, "sk": {"S": "META"}}
            writer.put_item(TableName=TABLE, Item=item)

    threads = [threading.Thread(target=transact), threading.Thread(target=put)]
    with switching_often():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    stored = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "sf#UPLOAD#1"}},
    )["Count"]
    return errors, stored


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_moto_transaction_races_a_concurrent_write_without_serialization(aws: None) -> None:
    errors, stored = transactions_beside_writes()

    assert errors, "moto's transactions no longer race: albumreg.cloud.moto_fixes may be retired"
    assert set(errors) == {"dictionary changed size during iteration"}
    assert stored == TRANSACTIONS - len(errors)


def test_serialized_dynamodb_keeps_every_concurrent_transaction(aws: None) -> None:
    with serialized_dynamodb():
        errors, stored = transactions_beside_writes()

    assert errors == []
    assert stored == TRANSACTIONS


ITERATIONS = 6
RETRIES = 2
"""The Retrier's ``MaxAttempts``: each iteration runs its task at most ``RETRIES + 1`` times."""
KEY_DELAY_SECONDS = 0.05
"""How long making a heap key takes here: every failing iteration asks within it."""


class FailingAgent:
    """A task that fails every attempt; the iterations' first attempts fail all at once."""

    def __init__(self) -> None:
        self.attempts: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._together = threading.Barrier(ITERATIONS, timeout=10)

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.attempts[event["item"]] += 1
            first = self.attempts[event["item"]] == 1
        if first:
            self._together.wait()
        raise TransientError("pricing API unavailable")


AGENT = FailingAgent()
"""Replaced by each test's own (``map_machine``)."""


def failing_agent(event: dict[str, Any], context: Any) -> None:
    AGENT(event)


def map_definition(function_arn: str) -> str:
    """A Map over the items; each iteration's task retries ``RETRIES`` times, then is caught."""
    agent = {
        "Type": "Task",
        "Resource": function_arn,
        "Retry": [{"ErrorEquals": ["TransientError"], "MaxAttempts": RETRIES}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "gave-up"}],
        "End": True,
    }
    iteration = {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "agent",
        "States": {"agent": agent, "gave-up": {"Type": "Pass", "End": True}},
    }
    each = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"item.$": "$$.Map.Item.Value"},
        "ItemProcessor": iteration,
        "End": True,
    }
    return json.dumps({"StartAt": "each", "States": {"each": each}})


def slow_heap_key() -> str:
    """moto's key source, made slow enough that concurrent first asks overlap."""
    time.sleep(KEY_DELAY_SECONDS)
    return str(uuid.uuid4())


@dataclass(frozen=True)
class MapMachine:
    sfn: Any
    arn: str
    agent: FailingAgent


@pytest.fixture
def map_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[MapMachine]:
    """The Map machine in a moto account that executes it, with no wait between retries."""
    agent = FailingAgent()
    monkeypatch.setattr(f"{HERE}.AGENT", agent)
    monkeypatch.setattr(eval_component, "long_uid", slow_heap_key)
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda _seconds: None))
    with mock_aws(config=MOTO_CONFIG), routed_invokes(packages=("tests.",)):
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="map", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        function = boto3.client("lambda", region_name="us-east-1").create_function(
            FunctionName="agent",
            Runtime="python3.13",
            Role=role,
            Handler=f"{HERE}.failing_agent",
            Code={"ZipFile": b"PK"},
        )
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(
            name="map", definition=map_definition(function["FunctionArn"]), roleArn=role
        )["stateMachineArn"]
        yield MapMachine(sfn, arn, agent)
        # A live execution would outlive mock_aws: stop it.
        running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")
        for execution in running["executions"]:
            sfn.stop_execution(executionArn=execution["executionArn"])


def attempts_per_iteration(machine: MapMachine) -> dict[int, int]:
    """Run the Map once over ``ITERATIONS`` items; how many times each item's task ran."""
    started = machine.sfn.start_execution(
        stateMachineArn=machine.arn, input=json.dumps({"items": list(range(ITERATIONS))})
    )
    ended = wait_for_execution(machine.sfn, started["executionArn"])
    assert ended["status"] == "SUCCEEDED"
    return dict(machine.agent.attempts)


def test_moto_map_iterations_race_for_one_retry_counter(map_machine: MapMachine) -> None:
    attempts = attempts_per_iteration(map_machine)

    assert max(attempts.values()) > RETRIES + 1, (
        "moto's retry counters no longer race: "
        "albumreg.cloud.moto_fixes.stable_heap_keys may be retired"
    )


def test_stable_heap_keys_keeps_each_iteration_to_its_attempts(map_machine: MapMachine) -> None:
    with stable_heap_keys():
        attempts = attempts_per_iteration(map_machine)

    assert attempts == dict.fromkeys(range(ITERATIONS), RETRIES + 1)
