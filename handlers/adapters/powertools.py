"""Powertools for AWS Lambda (Python): the one Logger and the per-pattern Metrics of the artifact.

Every handler logs JSON through ``logger`` (service ``album-registration``) with the correlation
keys ``upload_id``, ``pattern`` and ``execution_id`` (``correlate``) beside Powertools' own
``cold_start`` and ``function_request_id``; the collector reads cold starts back from exactly
these lines. ``METRICS`` publishes in embedded metric format (EMF) to each pattern's namespace.
Imports no orchestrator SDK.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from handlers.domain.tenant import Pattern

SERVICE_DIMENSION = "Service"
SERVICE = "album-registration"
"""The service of every log line and metric: hyphenated, so the Powertools logger it names
(``logging.getLogger(SERVICE)``) can never be the parent of a Python package's module loggers,
whose lines would then print as JSON on a command's stdout."""

logger = Logger(service=SERVICE)
"""JSON lines on stdout; the level follows ``POWERTOOLS_LOG_LEVEL`` (INFO by default)."""

METRICS: dict[Pattern, Metrics] = {
    pattern: Metrics(namespace=pattern.metric_namespace) for pattern in Pattern
}
"""One EMF publisher per namespace. Powertools keeps the metric set per process, shared by every
``Metrics`` instance; that is sound here because a function belongs to one pattern only."""
for _metrics in METRICS.values():
    # The dimension every albumreg metric carries, EMF or PutMetricData alike.
    _metrics.set_default_dimensions(**{SERVICE_DIMENSION: SERVICE})

CORRELATION_KEYS = ("upload_id", "pattern", "execution_id")
"""Keys every line of a workflow's invocation carries once the handler knows them."""


def correlate(
    upload_id: str | None, pattern: Pattern, execution_id: str | None = None, *, step: str
) -> None:
    """Add the workflow's correlation keys to this invocation's lines and log the first one.

    Process-wide on purpose: Lambda runs one invocation per process at a time, and the durable
    map's branches (threads of the same invocation) must log the same keys. The line logged
    here is the one every invocation has, replay or not: the collector finds cold invocations
    by it.
    """
    keys: dict[str, object] = {"upload_id": upload_id, "pattern": pattern.value}
    if execution_id:
        keys["execution_id"] = execution_id
    logger.append_keys(**keys)
    logger.info("invocation", extra={"step": step})
