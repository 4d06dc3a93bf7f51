"""The collector Lambda: measures a workflow when its execution ends, for both patterns.

Two EventBridge rules deliver ``Step Functions Execution Status Change`` and ``Durable Execution
Status Change`` events of this stack's executions in a terminal status
(``handlers.domain.status_change``); the handler reads that execution's history and its upload's
items and writes the upload's METRICS item once through ``MetricsCollector``. A redelivered event
finds the item written (the write is conditional) and changes nothing. Imports no orchestrator
SDK.
"""

from __future__ import annotations

from typing import Any

from handlers.adapters.powertools import correlate, logger
from handlers.domain.status_change import parse_status_change
from handlers.wiring import dependencies, lambda_handler

REPORT_WAIT_SECONDS = 20
"""How long the collector waits for REPORT lines CloudWatch Logs has not ingested yet (AWS)."""
TIMEOUT_SECONDS = 60
"""The function's timeout: a history, a Query, an update, a PutMetricData, the log reads and
their wait for late REPORT lines."""


@lambda_handler(None)
def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Collect the workflow of the execution the event names; a small JSON summary out."""
    status = parse_status_change(event)
    logger.append_keys(pattern=status.pattern.value, execution_id=status.execution_arn)
    if not status.ended:
        logger.info("execution not ended: nothing to measure", extra={"status": status.status})
        return {"collected": False, "status": status.status}
    collected = dependencies().collector.collect_execution(status.pattern, status.execution_arn)
    if collected is None:
        logger.info("the execution does not own an upload (duplicate or unparsable input)")
        return {"collected": False, "status": status.status}
    correlate(collected.upload_id, status.pattern, status.execution_arn, step="collect")
    logger.info(
        "workflow measured",
        extra={
            "written": collected.written,
            "cost_total_usd": collected.metrics.cost_total_usd,
        },
    )
    return {
        "collected": True,
        "written": collected.written,
        "pattern": status.pattern.value,
        "upload_id": collected.upload_id,
    }
