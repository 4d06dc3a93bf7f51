"""The flaky ``dictionary changed size during iteration``: moto's ``transact_write_items`` copies
the table while other threads write to it. A 1 µs thread switch interval makes the race near
certain; ``local.moto_fixes.serialized_dynamodb`` removes it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from handlers.adapters.table_schema import create_table_request
from local.moto_fixes import serialized_dynamodb

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

    assert errors, "moto's transactions no longer race: local.moto_fixes may be retired"
    assert set(errors) == {"dictionary changed size during iteration"}
    assert stored == TRANSACTIONS - len(errors)


def test_serialized_dynamodb_keeps_every_concurrent_transaction(aws: None) -> None:
    with serialized_dynamodb():
        errors, stored = transactions_beside_writes()

    assert errors == []
    assert stored == TRANSACTIONS
