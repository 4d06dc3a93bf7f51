"""``partition_queries`` changes how long a moto Query takes, never what it returns."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from albumreg.cloud.moto_queries import partition_queries
from handlers.adapters.table_schema import (
    PARTITION_KEY,
    SORT_KEY,
    STATUS_INDEX,
    STATUS_INDEX_PARTITION_KEY,
    STATUS_INDEX_SORT_KEY,
    create_table_request,
)

TABLE = "queries"


@pytest.fixture
def dynamodb() -> Any:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_request(TABLE))
        # Partitions and index entries written out of key order, so sorting matters.
        for n in (7, 3, 9, 1, 5, 8, 2, 6, 4, 0):
            for sk in ("META", "ALBUM#2", "ALBUM#1", "REVIEW"):
                item = {PARTITION_KEY: {"S": f"sf#UPLOAD#{n}"}, SORT_KEY: {"S": sk}}
                if sk == "META":
                    item[STATUS_INDEX_PARTITION_KEY] = {"S": f"sf#UPLOAD#S{n % 2}"}
                    item[STATUS_INDEX_SORT_KEY] = {"S": f"2026-01-0{n % 3 + 1}#{n}"}
                client.put_item(TableName=TABLE, Item=item)
        yield client


def _pages(client: Any, **request: Any) -> list[list[dict[str, Any]]]:
    """Every page of a Query, following LastEvaluatedKey."""
    pages = []
    while True:
        response = client.query(TableName=TABLE, **request)
        pages.append(response["Items"])
        if "LastEvaluatedKey" not in response:
            return pages
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


QUERIES: list[dict[str, Any]] = [
    {
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
        "ExpressionAttributeValues": {":pk": {"S": "sf#UPLOAD#3"}},
    },
    {
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :album)",
        "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
        "ExpressionAttributeValues": {":pk": {"S": "sf#UPLOAD#3"}, ":album": {"S": "ALBUM#"}},
        "ScanIndexForward": False,
    },
    {
        "IndexName": STATUS_INDEX,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": STATUS_INDEX_PARTITION_KEY},
        "ExpressionAttributeValues": {":pk": {"S": "sf#UPLOAD#S1"}},
        "ScanIndexForward": False,
        "Limit": 2,
    },
    {
        "IndexName": STATUS_INDEX,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": STATUS_INDEX_PARTITION_KEY},
        "ExpressionAttributeValues": {":pk": {"S": "sf#UPLOAD#S0"}},
        "Limit": 3,
    },
]


@pytest.mark.parametrize("request_", QUERIES, ids=["table", "range-desc", "index-desc", "index"])
def test_query_results_and_pages_are_unchanged(dynamodb: Any, request_: dict[str, Any]) -> None:
    expected = _pages(dynamodb, **request_)
    with partition_queries():
        patched = _pages(dynamodb, **request_)
    assert patched == expected
    assert sum(len(page) for page in expected) > 1


def test_scan_keeps_moto_order_and_the_patch_is_undone(dynamodb: Any) -> None:
    original = (Table.query, Table.all_items)
    expected = dynamodb.scan(TableName=TABLE, Limit=7)["Items"]
    with partition_queries():
        assert dynamodb.scan(TableName=TABLE, Limit=7)["Items"] == expected
    assert (Table.query, Table.all_items) == original
