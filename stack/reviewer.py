"""The reviewer policy: what a person needs to use a deployed stack, as one managed policy.

Pulumi only. The document is built by ``stack.iam.reviewer_policy`` (pure, tested on its own);
this component resolves the ARNs and creates the policy, whose ARN the stack exports as
``reviewerPolicyArn`` for ``aws iam attach-user-policy`` (or group, or role).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from handlers.domain.tenant import Pattern
from stack.iam import ReviewerGrants, reviewer_policy


@dataclass(frozen=True)
class ReviewerAccessArgs:
    """Arguments of ``ReviewerAccess``.

    Attributes:
        table_arn: the workflow table.
        uploads_bucket_arn: the upload bucket.
        upload_prefix: the key prefix of uploads.
        state_machine_arn: the Step Functions workflow.
        durable_function_arn: the durable function (unqualified).
        task_function_arns: the Step Functions task functions.
    """

    table_arn: pulumi.Input[str]
    uploads_bucket_arn: pulumi.Input[str]
    upload_prefix: str
    state_machine_arn: pulumi.Input[str]
    durable_function_arn: pulumi.Input[str]
    task_function_arns: Sequence[pulumi.Input[str]]


class ReviewerAccess(pulumi.ComponentResource):
    """A customer managed policy for the people who upload, review and measure."""

    policy_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReviewerAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("albumreg:index:ReviewerAccess", name, None, opts)
        document = pulumi.Output.all(
            args.table_arn,
            args.uploads_bucket_arn,
            args.state_machine_arn,
            args.durable_function_arn,
            *args.task_function_arns,
        ).apply(lambda values: json.dumps(reviewer_policy(_grants(args.upload_prefix, values))))
        policy = aws.iam.Policy(
            f"{name}-policy",
            description="Upload photos, review, and read histories and metrics of albumreg",
            policy=document,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.policy_arn = policy.arn
        self.register_outputs({"policy_arn": self.policy_arn})


def _grants(upload_prefix: str, values: Sequence[object]) -> ReviewerGrants:
    table, bucket, state_machine, durable, *tasks = values
    return ReviewerGrants(
        table_arn=str(table),
        uploads_bucket_arn=str(bucket),
        upload_prefix=upload_prefix,
        state_machine_arn=str(state_machine),
        durable_function_arn=str(durable),
        task_function_arns=[str(task) for task in tasks],
        metric_namespaces=[pattern.metric_namespace for pattern in Pattern],
    )
