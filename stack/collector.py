"""Collector component: the Lambda that measures every workflow when its execution ends.

Pulumi only. Two rules on the default EventBridge bus match this stack's terminal status
changes (patterns from ``handlers.domain.status_change``): ``Step Functions Execution Status
Change`` of this state machine and ``Durable Execution Status Change`` of this durable function.
Their one target is the collector function (``handlers.collector.handler``, in the shared
artifact), with the upload rule's retry policy and an encrypted dead-letter queue, which also
receives invocations that still fail after Lambda's own asynchronous retries. The function may
read only these executions' histories, the table, its own logs and the workflow functions' logs
(cold starts), and put metrics only into the two namespaces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from handlers.adapters.cold_starts import LOG_GROUPS_VARIABLE, WAIT_VARIABLE
from handlers.collector import REPORT_WAIT_SECONDS, TIMEOUT_SECONDS
from handlers.domain.status_change import durable_status_pattern, step_functions_status_pattern
from handlers.domain.tenant import Pattern
from stack.delivery import dead_letter_queue, event_target
from stack.functions import (
    FunctionDefaults,
    WorkflowFunction,
    WorkflowFunctionArgs,
    current_account,
)
from stack.iam import (
    Account,
    FunctionAccess,
    PolicyDocument,
    allow,
    document,
    durable_executions_of,
    executions_of,
)

COLLECTOR_HANDLER = "handlers.collector.handler"
COLLECTOR_ACCESS = FunctionAccess(
    table_actions=frozenset({"dynamodb:Query", "dynamodb:UpdateItem"})
)
"""One Query for the upload's items, one conditional UpdateItem for its METRICS item."""
ASYNC_RETRIES = 2
"""Lambda's retries of a failed asynchronous invocation (e.g. a history not showing its end)."""


def log_group_arn(account: Account, name: str) -> str:
    """The ARN of a log group in the stack's account and Region."""
    return f"arn:{account.partition}:logs:{account.region}:{account.account_id}:log-group:{name}"


def collector_policy(
    state_machine_arn: str,
    durable_function_arn: str,
    log_group_arns: Sequence[str],
    dead_letter_queue_arn: str,
) -> PolicyDocument:
    """What the collector does beyond its own logs and the table (``FunctionAccess``).

    Args:
        state_machine_arn: the Step Functions workflow: histories of its executions only.
        durable_function_arn: the durable function, unqualified: histories of its executions
            only (Lambda authorises them on ``function:NAME:VERSION/durable-execution/...``).
        log_group_arns: the workflow functions' log groups, where cold starts are read.
        dead_letter_queue_arn: where Lambda sends an event that failed every retry.
    """
    return document(
        [
            allow(
                "ReadStepFunctionsHistories",
                ["states:GetExecutionHistory"],
                [executions_of(state_machine_arn)],
            ),
            allow(
                "ReadDurableHistories",
                ["lambda:GetDurableExecutionHistory"],
                [durable_executions_of(durable_function_arn)],
            ),
            allow(
                "ReadColdStartsFromWorkflowLogs",
                ["logs:FilterLogEvents"],
                sorted({arn for group in log_group_arns for arn in (group, f"{group}:*")}),
            ),
            allow(
                "PublishWorkflowMetrics",
                ["cloudwatch:PutMetricData"],
                # Metrics have no ARN: the namespace condition is the scope AWS offers.
                ["*"],
                {
                    "StringEquals": {
                        "cloudwatch:namespace": sorted(p.metric_namespace for p in Pattern)
                    }
                },
            ),
            allow("DeliverFailedEvents", ["sqs:SendMessage"], [dead_letter_queue_arn]),
        ]
    )


@dataclass(frozen=True)
class MetricsCollectorArgs:
    """Arguments of ``MetricsCollector``.

    Attributes:
        functions: what every function shares.
        state_machine_arn: the Step Functions workflow.
        durable_function_arn: the durable function, unqualified.
        log_groups: each pattern's function log groups (names), where cold starts are read.
    """

    functions: FunctionDefaults
    state_machine_arn: pulumi.Input[str]
    durable_function_arn: pulumi.Input[str]
    log_groups: Mapping[Pattern, Sequence[pulumi.Input[str]]]


class MetricsCollector(pulumi.ComponentResource):
    """The collector function, its two rules, their targets, permissions and dead letters."""

    function_arn: pulumi.Output[str]
    dead_letter_queue_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: MetricsCollectorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("albumreg:index:MetricsCollector", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        patterns = list(args.log_groups)
        groups = pulumi.Output.all(
            *(pulumi.Output.all(*args.log_groups[pattern]) for pattern in patterns)
        ).apply(lambda values: {p.value: list(v) for p, v in zip(patterns, values, strict=True)})

        function = WorkflowFunction(
            f"{name}-function",
            WorkflowFunctionArgs(
                defaults=args.functions,
                handler=COLLECTOR_HANDLER,
                access=COLLECTOR_ACCESS,
                timeout_seconds=TIMEOUT_SECONDS,
                extra_environment=groups.apply(
                    lambda names: {
                        LOG_GROUPS_VARIABLE: json.dumps(names, sort_keys=True),
                        WAIT_VARIABLE: str(REPORT_WAIT_SECONDS),
                    }
                ),
            ),
            opts=child,
        )

        rules = {
            Pattern.STEP_FUNCTIONS: aws.cloudwatch.EventRule(
                f"{name}-sf-rule",
                description="Step Functions executions of this stack ended: measure them",
                event_pattern=pulumi.Output.from_input(args.state_machine_arn).apply(
                    lambda arn: json.dumps(step_functions_status_pattern(arn))
                ),
                opts=child,
            ),
            Pattern.DURABLE: aws.cloudwatch.EventRule(
                f"{name}-ldf-rule",
                description="Durable executions of this stack ended: measure them",
                event_pattern=pulumi.Output.from_input(args.durable_function_arn).apply(
                    lambda arn: json.dumps(durable_status_pattern(arn))
                ),
                opts=child,
            ),
        }
        dead_letters = dead_letter_queue(
            name, [rule.arn for rule in rules.values()], "UndeliveredStatusEvents", self
        )
        account = current_account(args.functions.region, self)
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=function.role_name,
            policy=pulumi.Output.all(
                args.state_machine_arn, args.durable_function_arn, account, groups, dead_letters.arn
            ).apply(
                lambda v: json.dumps(
                    collector_policy(
                        v[0],
                        v[1],
                        [log_group_arn(v[2], g) for names in v[3].values() for g in names],
                        v[4],
                    )
                )
            ),
            opts=child,
        )
        # Lambda retries a failed asynchronous invocation itself; what still fails is kept.
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=function.function_name,
            maximum_retry_attempts=ASYNC_RETRIES,
            destination_config={"on_failure": {"destination": dead_letters.arn}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        for pattern, rule in rules.items():
            # Lambda checks a resource policy rather than a role: allow exactly this rule.
            permission = aws.lambda_.Permission(
                f"{name}-{pattern.value}-permission",
                action="lambda:InvokeFunction",
                function=function.function_name,
                principal="events.amazonaws.com",
                source_arn=rule.arn,
                opts=child,
            )
            event_target(
                f"{name}-{pattern.value}-target",
                rule,
                function.arn,
                dead_letters,
                parent=self,
                depends_on=[permission, policy],
            )

        self.function_arn = function.arn
        self.dead_letter_queue_url = dead_letters.url
        self.register_outputs(
            {"function_arn": self.function_arn, "dead_letter_queue_url": self.dead_letter_queue_url}
        )
