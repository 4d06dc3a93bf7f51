"""Durable side: the one Lambda durable function and the alias that EventBridge invokes.

Pulumi only. Durable mode can only be chosen when a function is created, and a durable
function must be invoked through a version or alias: ``publish`` makes a version of every
change, and the ``live`` alias follows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from handlers.config import PricingAgentMode
from handlers.domain.policy import DURABLE_RETENTION_DAYS
from stack import timeouts
from stack.access import DURABLE_ACCESS
from stack.functions import FunctionDefaults, WorkflowFunction, WorkflowFunctionArgs

DURABLE_HANDLER = "handlers.durable.handler"
ALIAS_NAME = "live"
DURABLE_EXECUTION_POLICY_ARN = (
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy"
)
"""Checkpoint and state APIs of durable execution (and basic logging), managed by AWS."""
DELETE_TIMEOUT = "60m"
"""Deleting a durable function whose executions still wait can take Lambda up to an hour (the
timeout pulumi-aws's own durable function example sets), so ``pulumi destroy`` waits that long."""


@dataclass(frozen=True)
class DurableWorkflowArgs:
    """Arguments of ``DurableWorkflow``.

    Attributes:
        functions: what every function shares.
        pricing_agent: which price agent runs (it sets the function's timeout).
        execution_timeout_seconds: how long one durable execution may last in total; above
            the review timeout, so a waiting review never outlives its execution.
    """

    functions: FunctionDefaults
    pricing_agent: PricingAgentMode
    execution_timeout_seconds: pulumi.Input[int]


class DurableWorkflow(pulumi.ComponentResource):
    """The durable function, published, behind its ``live`` alias."""

    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    log_group_arn: pulumi.Output[str]
    alias_name: pulumi.Output[str]
    alias_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: DurableWorkflowArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("albumreg:index:DurableWorkflow", name, None, opts)
        function = WorkflowFunction(
            f"{name}-register-album",
            WorkflowFunctionArgs(
                defaults=args.functions,
                handler=DURABLE_HANDLER,
                access=DURABLE_ACCESS,
                # One invocation runs until the next suspension (the review, a retry delay):
                # the longest is the extract step or the six price agents.
                timeout_seconds=timeouts.durable_timeout(args.pricing_agent),
                durable_config=aws.lambda_.FunctionDurableConfigArgs(
                    execution_timeout=args.execution_timeout_seconds,
                    retention_period=DURABLE_RETENTION_DAYS,
                ),
                publish=True,
                managed_policy_arns=(DURABLE_EXECUTION_POLICY_ARN,),
                delete_timeout=DELETE_TIMEOUT,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Executions stay on the version they started with; the alias moves to each new
        # version, so new uploads run the new code while waiting reviews finish on the old.
        alias = aws.lambda_.Alias(
            f"{name}-{ALIAS_NAME}",
            name=ALIAS_NAME,
            function_name=function.function_name,
            function_version=function.function.version,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.function_name = function.function_name
        self.function_arn = function.arn
        self.log_group_name = function.log_group_name
        self.log_group_arn = function.log_group_arn
        self.alias_name = alias.name
        self.alias_arn = alias.arn
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "alias_name": self.alias_name,
                "alias_arn": self.alias_arn,
            }
        )
