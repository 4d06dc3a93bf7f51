"""Delivers upload events to both workflows on the local cloud, as the EventBridge rule does on AWS.

On AWS the rule has two targets: the state machine and the durable function's alias. moto's
EventBridge matches the same event pattern but cannot deliver to either target type
(``NotImplementedError`` inside ``Rule.send_to_targets``), so locally the rule's one target is
an SQS queue and this router drains it and starts both workflows. The pattern matching is
moto's; the fan-out is ours, and is the only emulated piece of the trigger path.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)

Starter = Callable[[Mapping[str, Any], str], None]
"""Starts one workflow from an event; the second argument is a unique delivery id."""

MAX_DELIVERIES = 5
"""A message that failed this often is dropped and logged (AWS would send it to the DLQ)."""


class UploadRouter:
    """Drains the upload queue on a thread and calls every starter for each event."""

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        starters: Sequence[Starter],
        *,
        redelivery_seconds: int = 10,
    ) -> None:
        self._sqs = sqs
        self._redelivery_seconds = redelivery_seconds
        self._queue_url = queue_url
        self._starters = tuple(starters)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="upload-router", daemon=True)
        self.delivered = 0

    def start(self) -> None:
        """Begin draining."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current poll (at most one second)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain_once()
            except Exception:
                logger.exception("upload router: polling the queue failed; retrying")
                self._stop.wait(1.0)

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
            logger.error("upload router: dropping message %s: its body is not JSON", message_id)
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)
            return False
        failed = 0
        for start in self._starters:
            try:
                start(event, message_id)
            except Exception:
                failed += 1
                logger.exception("upload router: starting a workflow for %s failed", message_id)
        attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if failed and attempts < MAX_DELIVERIES:
            return False
        if failed:
            logger.error("upload router: giving up on %s after %d deliveries", message_id, attempts)
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)
        return not failed
