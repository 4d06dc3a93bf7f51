"""The local trigger path: S3 -> EventBridge (the stack's event pattern) -> SQS -> both starters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
import pytest

from albumreg.cloud.router import MAX_DELIVERIES, EventRouter
from handlers.domain.events import parse_upload_event, upload_event_pattern

BUCKET = "albumreg-router-test"


@pytest.fixture
def queue(aws: None) -> str:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="uploads")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events", region_name="us-east-1")
    events.put_rule(Name="uploads", EventPattern=json.dumps(upload_event_pattern(BUCKET)))
    events.put_targets(Rule="uploads", Targets=[{"Id": "router", "Arn": arn}])
    return url


class Recorder:
    def __init__(self, failures: int = 0) -> None:
        self.events: list[tuple[Mapping[str, Any], str]] = []
        self.failures = failures

    def __call__(self, event: Mapping[str, Any], delivery_id: str) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("target unavailable")
        self.events.append((event, delivery_id))


def put(key: str, body: bytes = b"image") -> None:
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key=key, Body=body)


def test_router_delivers_upload_events_to_every_starter(queue: str) -> None:
    first, second = Recorder(), Recorder()
    router = EventRouter(boto3.client("sqs", region_name="us-east-1"), queue, [first, second])
    put("uploads/shelf.jpg")
    assert router.drain_once(wait_seconds=0) == 1
    [(event, delivery_id)] = first.events
    assert second.events == [(event, delivery_id)]
    upload = parse_upload_event(dict(event))
    assert (upload.bucket, upload.key) == (BUCKET, "uploads/shelf.jpg")


def test_router_ignores_objects_outside_the_prefix(queue: str) -> None:
    recorder = Recorder()
    router = EventRouter(boto3.client("sqs", region_name="us-east-1"), queue, [recorder])
    put("elsewhere/shelf.jpg")
    assert router.drain_once(wait_seconds=0) == 0
    assert recorder.events == []


def test_router_redelivers_after_a_failed_start(queue: str) -> None:
    flaky = Recorder(failures=1)
    sqs = boto3.client("sqs", region_name="us-east-1")
    router = EventRouter(sqs, queue, [flaky], redelivery_seconds=0)
    put("uploads/shelf.jpg")
    assert router.drain_once(wait_seconds=0) == 0
    assert router.drain_once(wait_seconds=0) == 1
    assert len(flaky.events) == 1


def test_router_gives_up_after_max_deliveries(queue: str) -> None:
    broken = Recorder(failures=MAX_DELIVERIES + 5)
    sqs = boto3.client("sqs", region_name="us-east-1")
    router = EventRouter(sqs, queue, [broken], redelivery_seconds=0)
    put("uploads/shelf.jpg")
    for _ in range(MAX_DELIVERIES + 2):
        router.drain_once(wait_seconds=0)
    assert broken.failures == 5
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", []) == []
    assert broken.events == []
