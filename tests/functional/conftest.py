"""Functional fixtures: an in-process moto account with the project's table and bucket, a set of
handler dependencies whose model and pricing API are fakes, and ``swapped`` to replace some of
them for a block, whichever orchestrator runs the handlers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handlers.adapters.dynamodb import DynamoDbAlbumRepository
from handlers.adapters.s3_images import S3ImageStore
from handlers.adapters.table_schema import create_table_request
from handlers.config import Settings
from handlers.wiring import Dependencies, use
from tests.conftest import FixedClock, make_extraction, s3_event
from tests.fakes import RecordingMetrics, ScriptedPricing, ScriptedRecognizer

TABLE = "albumreg-test"
BUCKET = "albumreg-uploads-test"


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


@pytest.fixture
def s3(aws: None):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


@dataclass
class Workbench:
    """Everything a handler-level test touches: real moto storage, fake model and API."""

    deps: Dependencies
    repo: DynamoDbAlbumRepository
    recognizer: ScriptedRecognizer
    pricing: ScriptedPricing
    metrics: RecordingMetrics
    s3: object

    def upload(self, key: str = "uploads/shelf.jpg", body: bytes = b"jpeg") -> dict[str, object]:
        """Put an object and return the S3 event that would start both workflows."""
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)  # type: ignore[attr-defined]
        return s3_event(BUCKET, key, size=len(body))


@pytest.fixture
def workbench(repo: DynamoDbAlbumRepository, s3) -> Iterator[Workbench]:
    """Installs dependencies for every handler in the process (``handlers.wiring.use``)."""
    recognizer = ScriptedRecognizer(make_extraction())
    pricing = ScriptedPricing()
    metrics = RecordingMetrics()
    deps = Dependencies(
        Settings(table_name=TABLE, review_timeout_seconds=60, metrics_mode="off"),
        repo=repo,
        images=S3ImageStore(s3),
        recognizer=recognizer,
        pricing=pricing,
        metrics=metrics,
        clock=FixedClock(),
    )
    with use(deps):
        yield Workbench(deps, repo, recognizer, pricing, metrics, s3)


@contextmanager
def swapped(
    bench: Workbench, *, settings: dict[str, Any] | None = None, **adapters: Any
) -> Iterator[Dependencies]:
    """The workbench's adapters with some replaced (``pricing=``, ``recognizer=``, ``repo=``...)
    or its settings changed (a review timeout of seconds), installed for every handler in the
    process while the block runs, whichever orchestrator calls them."""
    deps = bench.deps
    current: dict[str, Any] = {
        "repo": deps.repo,
        "images": deps.images,
        "recognizer": deps.recognizer,
        "pricing": deps.pricing,
        "metrics": deps.metrics,
        "clock": deps.clock,
    }
    changed = Dependencies(replace(deps.settings, **(settings or {})), **(current | adapters))
    with use(changed):
        yield changed
