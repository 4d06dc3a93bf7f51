"""Metrics sinks: Powertools EMF in Lambda, PutMetricData on the local cloud.

In Lambda, Powertools' ``Metrics`` writes the workflow's counts as one embedded-metric-format
document when the invocation ends (``log_metrics`` in ``handlers.wiring.lambda_handler``):
CloudWatch turns the log line into metrics without an API call or added latency. The local
cloud has no log pipeline that reads EMF, so there the same names, units and dimension go
through ``PutMetricData``. Both write to the pattern's own namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from handlers.adapters.powertools import METRICS, SERVICE, SERVICE_DIMENSION
from handlers.domain.tenant import Pattern

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

__all__ = [
    "SERVICE",
    "SERVICE_DIMENSION",
    "CloudWatchMetricsSink",
    "NullMetricsSink",
    "PowertoolsMetricsSink",
]


class PowertoolsMetricsSink:
    """Adds values to the pattern's Powertools ``Metrics``; ``log_metrics`` flushes them as EMF."""

    def emit(self, pattern: Pattern, values: Mapping[str, float]) -> None:
        """Publish ``values`` (counts) under the pattern's namespace at the invocation's end."""
        metrics = METRICS[pattern]
        for name, value in values.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=float(value))


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
