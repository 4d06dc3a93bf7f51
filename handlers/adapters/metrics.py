"""Metrics sinks: CloudWatch embedded metric format in Lambda, PutMetricData on the local cloud.

In Lambda, a JSON line on stdout in EMF becomes a metric without an API call (and without
adding latency); the local cloud has no log pipeline, so there the same numbers go through
``PutMetricData``. Both write to the pattern's own namespace.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from handlers.domain.tenant import Pattern

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

SERVICE_DIMENSION = "Service"
SERVICE = "albumreg"


class EmfMetricsSink:
    """Writes one EMF document per call to a stream (stdout in Lambda)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def emit(self, pattern: Pattern, values: Mapping[str, float]) -> None:
        """Publish ``values`` under the pattern's namespace with one low-cardinality dimension."""
        document: dict[str, object] = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": pattern.metric_namespace,
                        "Dimensions": [[SERVICE_DIMENSION]],
                        "Metrics": [{"Name": name, "Unit": "Count"} for name in values],
                    }
                ],
            },
            SERVICE_DIMENSION: SERVICE,
            **values,
        }
        stream = self._stream or sys.stdout
        stream.write(json.dumps(document) + "\n")
        stream.flush()


class CloudWatchMetricsSink:
    """Publishes with ``PutMetricData`` (one request per workflow)."""

    def __init__(self, client: CloudWatchClient) -> None:
        self._client = client

    def emit(self, pattern: Pattern, values: Mapping[str, float]) -> None:
        """Publish ``values`` under the pattern's namespace."""
        self._client.put_metric_data(
            Namespace=pattern.metric_namespace,
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": SERVICE_DIMENSION, "Value": SERVICE}],
                    "Value": float(value),
                    "Unit": "Count",
                }
                for name, value in values.items()
            ],
        )


class NullMetricsSink:
    """Drops every metric: for tests and for runs with metrics switched off."""

    def emit(self, pattern: Pattern, values: Mapping[str, float]) -> None:
        """Do nothing."""
