"""Step Functions side: one Lambda per task state, and the Standard state machine that runs them.

Pulumi only. The definition is the one ASL file, rendered by ``stack.asl`` with the ARNs of
this stack's functions inside an ``apply``; the state machine's role may invoke those
functions and no others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from handlers.config import PricingAgentMode
from stack import asl, timeouts
from stack.access import TASK_ACCESS
from stack.functions import (
    FunctionDefaults,
    WorkflowFunction,
    WorkflowFunctionArgs,
    current_account,
)
from stack.iam import service_trust_policy, state_machine_policy

STATE_MACHINE_TYPE = "STANDARD"
"""Standard: the review waits on a task token for up to the review timeout; Express has neither."""


class DefinitionError(ValueError):
    """The rendered definition fails the structural checks of ``stack.asl.validate``."""


def render_definition(function_arns: Mapping[str, str]) -> str:
    """The ASL with every task placeholder replaced by this stack's function ARNs.

    Raises:
        asl.RenderError: a placeholder has no function, or a function has no placeholder.
        DefinitionError: the result is not a valid state machine.
    """
    text = asl.render(asl.load_definition(), asl.task_substitutions(function_arns))
    problems = asl.validate(json.loads(text))
    if problems:
        raise DefinitionError(f"the rendered definition is invalid: {problems}")
    return text


@dataclass(frozen=True)
class StepFunctionsWorkflowArgs:
    """Arguments of ``StepFunctionsWorkflow``.

    Attributes:
        functions: what every function shares.
        pricing_agent: which price agent runs (it sets the price task's timeout).
        log_level: Step Functions log level (ALL, ERROR, FATAL, OFF).
        include_execution_data: whether execution logs carry inputs and outputs.
        log_retention_days: retention of the execution log group.
    """

    functions: FunctionDefaults
    pricing_agent: PricingAgentMode
    log_level: pulumi.Input[str]
    include_execution_data: pulumi.Input[bool]
    log_retention_days: pulumi.Input[int]


class StepFunctionsWorkflow(pulumi.ComponentResource):
    """The task functions and the state machine of the Step Functions implementation."""

    state_machine_arn: pulumi.Output[str]
    state_machine_name: pulumi.Output[str]
    task_functions: Sequence[WorkflowFunction]

    def __init__(
        self,
        name: str,
        args: StepFunctionsWorkflowArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("albumreg:index:StepFunctionsWorkflow", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.task_functions = [
            WorkflowFunction(
                f"{name}-{task.name}",
                WorkflowFunctionArgs(
                    defaults=args.functions,
                    handler=task.handler,
                    access=TASK_ACCESS[task.name],
                    timeout_seconds=timeouts.task_timeout(task.name, args.pricing_agent),
                ),
                opts=child,
            )
            for task in asl.TASK_FUNCTIONS
        ]
        names = [task.name for task in asl.TASK_FUNCTIONS]
        arns = pulumi.Output.all(*(function.arn for function in self.task_functions))

        # Vended-log group names under /aws/vendedlogs/ keep the account-wide log resource
        # policy small however many state machines log.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/vendedlogs/states/{args.functions.log_group_prefix.strip('/')}/{name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        account = current_account(args.functions.region, self)
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=account.apply(
                lambda a: json.dumps(service_trust_policy("states.amazonaws.com", a.account_id))
            ),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=arns.apply(lambda values: json.dumps(state_machine_policy(values))),
            opts=child,
        )
        state_machine = aws.sfn.StateMachine(
            f"{name}-state-machine",
            type=STATE_MACHINE_TYPE,
            role_arn=role.arn,
            definition=arns.apply(
                lambda values: render_definition(dict(zip(names, values, strict=True)))
            ),
            logging_configuration={
                "log_destination": log_group.arn.apply(lambda arn: f"{arn}:*"),
                "level": args.log_level,
                "include_execution_data": args.include_execution_data,
            },
            tracing_configuration={"enabled": True},
            # Step Functions checks at creation that the role can invoke and can log.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

        self.state_machine_arn = state_machine.arn
        self.state_machine_name = state_machine.name
        self.register_outputs(
            {
                "state_machine_arn": self.state_machine_arn,
                "state_machine_name": self.state_machine_name,
            }
        )
