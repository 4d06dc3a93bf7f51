"""Functional fixtures: an in-process moto account with the project's table."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.adapters.table_schema import create_table_request

TABLE = "albumreg-test"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None):
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(**create_table_request(TABLE))
    return client


@pytest.fixture
def repo(dynamodb) -> DynamoDbAlbumRepository:
    return DynamoDbAlbumRepository(dynamodb, TABLE)
