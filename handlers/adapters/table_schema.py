"""The single-table schema, defined once for the Pulumi stack, the local cloud and the tests.

No Pulumi and no boto3 import: the stack and the local cloud translate these plain values.
"""

from __future__ import annotations

from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
STATUS_INDEX = "by-status"
STATUS_INDEX_PARTITION_KEY = "gsi1pk"
STATUS_INDEX_SORT_KEY = "gsi1sk"

KEY_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    (PARTITION_KEY, "S"),
    (SORT_KEY, "S"),
    (STATUS_INDEX_PARTITION_KEY, "S"),
    (STATUS_INDEX_SORT_KEY, "S"),
)


def create_table_request(table_name: str) -> dict[str, Any]:
    """Arguments for DynamoDB ``CreateTable``: on-demand, with the status index (ALL projected)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in KEY_ATTRIBUTES
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": STATUS_INDEX,
                "KeySchema": [
                    {"AttributeName": STATUS_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": STATUS_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }
