"""Delivers EventBridge events to their targets on the local cloud, as the rules do on AWS.

On AWS the upload rule has two targets (the state machine and the durable function's alias) and
the two status-change rules one (the collector function). moto's EventBridge matches the same
event patterns but cannot deliver to either target type (``NotImplementedError`` inside
``Rule.send_to_targets``), so locally each rule's one target is an SQS queue and an
``EventRouter`` drains it and calls the targets: it starts both workflows for an upload, and
invokes the collector for a status change (``albumreg.cloud.status_events``). The pattern matching
is moto's; the delivery is ours, and is the only emulated piece of those paths.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from albumreg.cloud.poller import Poller

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)

Starter = Callable[[Mapping[str, Any], str], None]
"""Delivers one event to one target; the second argument is a unique delivery id."""

MAX_DELIVERIES = 5
"""A message that failed this often is dropped and logged (AWS would send it to the DLQ)."""

RETRY_SECONDS = 1.0
"""Pause after a failed receive, so a queue that is gone is not asked in a tight loop."""


class EventRouter:
    """Drains a rule's queue on a thread and calls every target (starter) for each event."""

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        starters: Sequence[Starter],
        *,
        redelivery_seconds: int = 10,
        name: str = "upload-router",
    ) -> None:
        self._sqs = sqs
        self._name = name
        self._redelivery_seconds = redelivery_seconds
        self._queue_url = queue_url
        self._starters = tuple(starters)
        # No pause between polls: each receive long-polls for up to a second by itself.
        self._poller = Poller(name, self.drain_once, interval=0, retry_seconds=RETRY_SECONDS)
        self.delivered = 0

    def start(self) -> None:
        """Begin draining."""
        self._poller.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current poll (at most one second)."""
        self._poller.stop(timeout)

    def drain_once(self, wait_seconds: int = 1) -> int:
        """Receive one batch and deliver it; returns the number of events delivered.

        A starter that fails leaves the message on the queue to be delivered again; a starter
        that already succeeded then starts a second execution, which finds the upload claimed
        and ends as a duplicate, exactly as a duplicate EventBridge delivery does on AWS.
        """
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=self._redelivery_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        delivered = 0
        for message in response.get("Messages", []):
            if self._deliver(message):
                delivered += 1
        self.delivered += delivered
        return delivered

    def _deliver(self, message: Mapping[str, Any]) -> bool:
        message_id = str(message["MessageId"])
        receipt = message["ReceiptHandle"]
        try:
            event = json.loads(message["Body"])
        except json.JSONDecodeError:
            logger.error("%s: dropping message %s: its body is not JSON", self._name, message_id)
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)
            return False
        failed = 0
        for start in self._starters:
            try:
                start(event, message_id)
            except Exception:
                failed += 1
                logger.exception("%s: delivering %s failed", self._name, message_id)
        attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if failed and attempts < MAX_DELIVERIES:
            return False
        if failed:
            logger.error(
                "%s: giving up on %s after %d deliveries", self._name, message_id, attempts
            )
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)
        return not failed
