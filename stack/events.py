"""Trigger component: one EventBridge rule for uploads, starting both workflows on each photo.

Pulumi only. The event pattern is ``handlers.domain.events.upload_event_pattern``, the same
one the local cloud routes with. Events that cannot be delivered after the retry policy go
to an encrypted dead-letter queue (``stack.delivery``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from handlers.domain.events import upload_event_pattern
from stack.delivery import dead_letter_queue, event_target
from stack.functions import current_account
from stack.iam import service_trust_policy, start_execution_policy


@dataclass(frozen=True)
class UploadTriggerArgs:
    """Arguments of ``UploadTrigger``.

    Attributes:
        region: the stack's Region.
        bucket_name: the upload bucket.
        upload_prefix: only keys under it start workflows.
        state_machine_arn: the Step Functions target.
        durable_function_name: the durable function (for the invoke permission).
        durable_alias_name: its alias, the permission's qualifier.
        durable_alias_arn: the durable target: a qualified ARN, as durable functions require.
    """

    region: str
    bucket_name: pulumi.Input[str]
    upload_prefix: pulumi.Input[str]
    state_machine_arn: pulumi.Input[str]
    durable_function_name: pulumi.Input[str]
    durable_alias_name: pulumi.Input[str]
    durable_alias_arn: pulumi.Input[str]


class UploadTrigger(pulumi.ComponentResource):
    """The rule, its two targets, their dead-letter queue and the grants they need."""

    rule_arn: pulumi.Output[str]
    dead_letter_queue_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: UploadTriggerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("albumreg:index:UploadTrigger", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        pattern = pulumi.Output.all(args.bucket_name, args.upload_prefix).apply(
            lambda values: json.dumps(upload_event_pattern(values[0], values[1]))
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            description="Object Created under the upload prefix: start both workflows",
            event_pattern=pattern,
            opts=child,
        )
        dead_letters = dead_letter_queue(name, [rule.arn], "UndeliveredUploadEvents", self)

        account = current_account(args.region, self)
        start_role = aws.iam.Role(
            f"{name}-start-role",
            assume_role_policy=account.apply(
                lambda a: json.dumps(service_trust_policy("events.amazonaws.com", a.account_id))
            ),
            opts=child,
        )
        start_policy = aws.iam.RolePolicy(
            f"{name}-start-policy",
            role=start_role.id,
            policy=pulumi.Output.from_input(args.state_machine_arn).apply(
                lambda arn: json.dumps(start_execution_policy(arn))
            ),
            opts=child,
        )
        event_target(
            f"{name}-step-functions",
            rule,
            args.state_machine_arn,
            dead_letters,
            parent=self,
            depends_on=[start_policy],
            role_arn=start_role.arn,
        )

        # Lambda checks a resource policy rather than a role: allow this rule, on the alias only.
        permission = aws.lambda_.Permission(
            f"{name}-durable-permission",
            action="lambda:InvokeFunction",
            function=args.durable_function_name,
            qualifier=args.durable_alias_name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=child,
        )
        event_target(
            f"{name}-durable",
            rule,
            args.durable_alias_arn,
            dead_letters,
            parent=self,
            depends_on=[permission],
        )

        self.rule_arn = rule.arn
        self.dead_letter_queue_url = dead_letters.url
        self.register_outputs(
            {"rule_arn": self.rule_arn, "dead_letter_queue_url": self.dead_letter_queue_url}
        )
