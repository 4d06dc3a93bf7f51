"""Observability component: a dashboard comparing the two patterns, and alarms on failures.

Pulumi only. Metric names and namespaces are the ones the handlers emit (EMF, dimension
``Service=album-registration``); the dashboard body is built by a pure function so tests read it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from handlers.adapters.metrics import SERVICE, SERVICE_DIMENSION
from handlers.domain.tenant import Pattern

WORKFLOW_METRICS = (
    "WorkflowsCompleted",
    "WorkflowsFailed",
    "AlbumsPriced",
    "AlbumsUnpriced",
    "ReviewTimedOut",
)
"""What ``handlers.domain.workflow`` emits per workflow, in each pattern's own namespace."""

PATTERN_COLORS = {Pattern.STEP_FUNCTIONS: "#e7157b", Pattern.DURABLE: "#ff9900"}
"""One colour per orchestrator on every chart, so the two lines never swap."""

PERIOD_SECONDS = 300
ALARM_THRESHOLD = 1
"""One failed workflow is worth a look: uploads are rare and each one is a person's photo."""
WIDGET_WIDTH = 8
WIDGET_HEIGHT = 6
GRID_WIDTH = 24


def dashboard_body(region: str, state_machine_arn: str) -> dict[str, Any]:
    """CloudWatch dashboard JSON: each workflow metric for both patterns, then Step Functions'."""
    widgets: list[dict[str, Any]] = [
        {
            "type": "text",
            "width": GRID_WIDTH,
            "height": 2,
            "properties": {
                "markdown": "## Album registration: Step Functions versus Lambda durable "
                "functions\nSame workflow, same uploads; each pattern reports into its own "
                "namespace."
            },
        }
    ]
    for metric in WORKFLOW_METRICS:
        widgets.append(
            _metric_widget(
                region,
                metric,
                [
                    [
                        pattern.metric_namespace,
                        metric,
                        SERVICE_DIMENSION,
                        SERVICE,
                        {"label": pattern.label, "color": PATTERN_COLORS[pattern]},
                    ]
                    for pattern in Pattern
                ],
                stat="Sum",
            )
        )
    sf_color = PATTERN_COLORS[Pattern.STEP_FUNCTIONS]
    for metric, stat in (("ExecutionsFailed", "Sum"), ("ExecutionTime", "Average")):
        widgets.append(
            _metric_widget(
                region,
                f"Step Functions {metric}",
                [["AWS/States", metric, "StateMachineArn", state_machine_arn, {"color": sf_color}]],
                stat=stat,
            )
        )
    return {"widgets": _laid_out(widgets)}


def _metric_widget(
    region: str, title: str, metrics: Sequence[Sequence[Any]], *, stat: str
) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": WIDGET_WIDTH,
        "height": WIDGET_HEIGHT,
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stat": stat,
            "period": PERIOD_SECONDS,
            "metrics": [list(metric) for metric in metrics],
        },
    }


def _laid_out(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Place widgets left to right, wrapping at the grid width."""
    x = y = row_height = 0
    for widget in widgets:
        if x + widget["width"] > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        widget["x"], widget["y"] = x, y
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return widgets


def dashboard_url(region: str, name: str) -> str:
    """Console link to a dashboard (the ``dashboardUrl`` stack output)."""
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}"


@dataclass(frozen=True)
class ObservabilityArgs:
    """Arguments of ``Observability``.

    Attributes:
        region: the stack's Region.
        dashboard_name: name of the CloudWatch dashboard (unique per account and Region).
        state_machine_arn: the Step Functions state machine.
        alarm_email: where alarm notifications go; None for none.
    """

    region: str
    dashboard_name: str
    state_machine_arn: pulumi.Input[str]
    alarm_email: str | None = None


class Observability(pulumi.ComponentResource):
    """Dashboard, failure alarms for both patterns, and an optional e-mail topic."""

    dashboard_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("albumreg:index:Observability", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.dashboard_name,
            dashboard_body=pulumi.Output.from_input(args.state_machine_arn).apply(
                lambda arn: json.dumps(dashboard_body(args.region, arn))
            ),
            opts=child,
        )

        actions: list[pulumi.Input[str]] = []
        if args.alarm_email:
            # Unencrypted on purpose: CloudWatch alarms cannot publish to a topic encrypted
            # with the AWS-managed SNS key, and the messages hold only alarm names and states.
            topic = aws.sns.Topic(f"{name}-alarms", opts=child)
            aws.sns.TopicSubscription(
                f"{name}-alarms-email",
                topic=topic.arn,
                protocol="email",
                endpoint=args.alarm_email,
                opts=child,
            )
            actions.append(topic.arn)

        aws.cloudwatch.MetricAlarm(
            f"{name}-sf-executions-failed",
            alarm_description="A Step Functions execution failed (including failures to record it)",
            namespace="AWS/States",
            metric_name="ExecutionsFailed",
            dimensions={"StateMachineArn": args.state_machine_arn},
            **_failure_alarm(actions),
            opts=child,
        )
        for pattern in Pattern:
            aws.cloudwatch.MetricAlarm(
                f"{name}-{pattern.value}-workflows-failed",
                alarm_description=f"A {pattern.label} workflow recorded FAILED",
                namespace=pattern.metric_namespace,
                metric_name="WorkflowsFailed",
                dimensions={SERVICE_DIMENSION: SERVICE},
                **_failure_alarm(actions),
                opts=child,
            )

        self.dashboard_url = dashboard.dashboard_name.apply(
            lambda dashboard_name: dashboard_url(args.region, dashboard_name)
        )
        self.register_outputs({"dashboard_url": self.dashboard_url})


def _failure_alarm(actions: Sequence[pulumi.Input[str]]) -> dict[str, Any]:
    return {
        "statistic": "Sum",
        "period": PERIOD_SECONDS,
        "evaluation_periods": 1,
        "threshold": ALARM_THRESHOLD,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        # No uploads means no failures, not an unknown state.
        "treat_missing_data": "notBreaching",
        "alarm_actions": list(actions),
    }
