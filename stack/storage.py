"""Storage component: the upload bucket (which starts both workflows) and the workflow table.

Pulumi only. The table comes from ``handlers.adapters.table_schema``, the one definition the
local cloud and the tests use too: this module translates it and adds only AWS settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from handlers.adapters.table_schema import create_table_request
from stack.buckets import private_bucket

ABORT_INCOMPLETE_UPLOAD_DAYS = 1
"""A multipart upload not finished within a day is abandoned; its parts cost storage."""


def table_args(request: Mapping[str, Any]) -> dict[str, Any]:
    """``aws.dynamodb.Table`` arguments from a DynamoDB ``CreateTable`` request.

    The table name is left out: Pulumi names the table (``tableName`` is a stack output).
    """
    key = {item["KeyType"]: item["AttributeName"] for item in request["KeySchema"]}
    return {
        "billing_mode": request["BillingMode"],
        "hash_key": key["HASH"],
        "range_key": key["RANGE"],
        "attributes": [
            {"name": item["AttributeName"], "type": item["AttributeType"]}
            for item in request["AttributeDefinitions"]
        ],
        "global_secondary_indexes": [
            {
                "name": index["IndexName"],
                "key_schemas": [
                    {"attribute_name": item["AttributeName"], "key_type": item["KeyType"]}
                    for item in index["KeySchema"]
                ],
                "projection_type": index["Projection"]["ProjectionType"],
            }
            for index in request.get("GlobalSecondaryIndexes", [])
        ],
    }


@dataclass(frozen=True)
class StorageArgs:
    """Arguments of ``Storage``.

    Attributes:
        upload_prefix: key prefix of uploaded photos (the prefix the trigger listens to).
        upload_expiry_days: photos under the prefix are deleted after this many days.
    """

    upload_prefix: pulumi.Input[str]
    upload_expiry_days: pulumi.Input[int]


class Storage(pulumi.ComponentResource):
    """The upload bucket and the single workflow table."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    table_name: pulumi.Output[str]
    table_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("albumreg:index:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        bucket = private_bucket(f"{name}-uploads", self)
        # Object Created events go to EventBridge, where one rule starts both workflows; S3's
        # own notifications could reach only one of the two targets per prefix.
        aws.s3.BucketNotification(
            f"{name}-uploads-events", bucket=bucket.id, eventbridge=True, opts=child
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-uploads-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-uploads",
                    "status": "Enabled",
                    "filter": {"prefix": args.upload_prefix},
                    "expiration": {"days": args.upload_expiry_days},
                },
                {
                    "id": "abort-incomplete-uploads",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": ABORT_INCOMPLETE_UPLOAD_DAYS
                    },
                },
            ],
            opts=child,
        )

        table = aws.dynamodb.Table(
            f"{name}-table",
            **table_args(create_table_request(table_name="")),
            point_in_time_recovery={"enabled": True},
            # A customer-visible KMS key (aws/dynamodb) rather than the default AWS-owned one,
            # so key use shows in CloudTrail; the functions need no KMS grant for it.
            server_side_encryption={"enabled": True},
            # A demo stack: `pulumi destroy` must be able to remove the table.
            deletion_protection_enabled=False,
            opts=child,
        )

        self.bucket_name = bucket.id
        self.bucket_arn = bucket.arn
        self.table_name = table.name
        self.table_arn = table.arn
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "table_name": self.table_name,
                "table_arn": self.table_arn,
            }
        )
