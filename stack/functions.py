"""One Lambda function of either workflow, with its own role, policy and log group.

Pulumi only. Both workflow components build their functions here, so every function has the
same runtime, architecture, memory, artifact and settings names, and differs only in what it
runs and what its role allows.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from handlers.config import Settings
from stack.artifact import LambdaCode
from stack.iam import Account, FunctionAccess, FunctionGrants, function_policy, service_trust_policy
from stack.packaging import LAMBDA_RUNTIME, Architecture

LOG_FORMAT = "Text"
"""Plain text, so each embedded-metric-format line reaches CloudWatch exactly as printed."""


def current_account(region: str, parent: pulumi.Resource) -> pulumi.Output[Account]:
    """Partition and account id of the credentials ``pulumi up`` runs with."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    identity = aws.get_caller_identity_output(opts=opts)
    partition = aws.get_partition_output(opts=opts)
    return pulumi.Output.all(partition.partition, identity.account_id).apply(
        lambda values: Account(partition=values[0], region=region, account_id=values[1])
    )


def environment_for(settings: Settings, access: FunctionAccess) -> dict[str, str]:
    """A function's environment: the shared settings names, the secret's ARN only if it prices."""
    if not access.pricing:
        settings = dataclasses.replace(settings, pricing_token_secret=None)
    return settings.to_env()


@dataclass(frozen=True)
class FunctionDefaults:
    """What every function of the stack shares.

    Attributes:
        code: the one artifact.
        architecture: Lambda architecture.
        memory_mb: Lambda memory.
        log_retention_days: retention of the function's log group.
        log_group_prefix: log groups are named ``<prefix>/<function>``.
        region: the stack's Region.
        settings: handler settings (table, prefix, models, secret ARN...).
        table_arn: the workflow table.
        uploads_bucket_arn: the upload bucket.
        pricing_secret_arn: the pricing token secret.
    """

    code: LambdaCode
    architecture: pulumi.Input[Architecture]
    memory_mb: pulumi.Input[int]
    log_retention_days: pulumi.Input[int]
    log_group_prefix: str
    region: str
    settings: pulumi.Input[Settings]
    table_arn: pulumi.Input[str]
    uploads_bucket_arn: pulumi.Input[str]
    pricing_secret_arn: pulumi.Input[str]


@dataclass(frozen=True)
class WorkflowFunctionArgs:
    """Arguments of ``WorkflowFunction``.

    Attributes:
        defaults: what all functions share.
        handler: Lambda handler path (``module.function``).
        access: what the function does; its role allows exactly that.
        timeout_seconds: Lambda timeout.
        durable_config: durable execution settings, for the durable function only.
        publish: publish a version on each code or configuration change.
        managed_policy_arns: AWS managed policies to attach besides the inline one.
        delete_timeout: how long ``pulumi destroy`` waits for Lambda to delete the function
            (a Pulumi duration such as ``"60m"``); None keeps the provider's default.
        extra_environment: variables this function needs besides the shared settings.
    """

    defaults: FunctionDefaults
    handler: str
    access: FunctionAccess
    timeout_seconds: pulumi.Input[int]
    durable_config: pulumi.Input[aws.lambda_.FunctionDurableConfigArgs] | None = None
    publish: bool = False
    managed_policy_arns: Sequence[str] = field(default_factory=tuple)
    delete_timeout: str | None = None
    extra_environment: pulumi.Input[Mapping[str, str]] | None = None


class WorkflowFunction(pulumi.ComponentResource):
    """A function, its log group with retention, and a role allowed only what it does."""

    function: aws.lambda_.Function
    arn: pulumi.Output[str]
    function_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    log_group_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkflowFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("albumreg:index:WorkflowFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        defaults = args.defaults

        # Created before the function so that Lambda never makes one without retention.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"{defaults.log_group_prefix}/{name}",
            retention_in_days=defaults.log_retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(service_trust_policy("lambda.amazonaws.com")),
            opts=child,
        )
        grants = pulumi.Output.all(
            current_account(defaults.region, self),
            log_group.arn,
            defaults.table_arn,
            defaults.uploads_bucket_arn,
            defaults.pricing_secret_arn,
            defaults.settings,
        ).apply(lambda values: _grants(*values))
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=grants.apply(lambda g: json.dumps(function_policy(args.access, g))),
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-managed-{index}", role=role.name, policy_arn=arn, opts=child
            )
            for index, arn in enumerate(args.managed_policy_arns)
        ]
        environment = pulumi.Output.all(defaults.settings, args.extra_environment).apply(
            lambda values: environment_for(values[0], args.access) | dict(values[1] or {})
        )
        self.function = aws.lambda_.Function(
            name,
            runtime=LAMBDA_RUNTIME,
            handler=args.handler,
            role=role.arn,
            architectures=[defaults.architecture],
            memory_size=defaults.memory_mb,
            timeout=args.timeout_seconds,
            s3_bucket=defaults.code.bucket,
            s3_key=defaults.code.key,
            source_code_hash=defaults.code.code_sha256,
            environment={"variables": environment},
            logging_config={"log_format": LOG_FORMAT, "log_group": log_group.name},
            durable_config=args.durable_config,
            publish=args.publish,
            # The role must hold its permissions before the first invocation can happen.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[policy, log_group, *attachments],
                custom_timeouts=(
                    pulumi.CustomTimeouts(delete=args.delete_timeout)
                    if args.delete_timeout
                    else None
                ),
            ),
        )
        self.arn = self.function.arn
        self.function_name = self.function.name
        self.role_arn = role.arn
        self.role_name = role.name
        self.log_group_name = log_group.name
        self.log_group_arn = log_group.arn
        self.register_outputs(
            {"arn": self.arn, "function_name": self.function_name, "role_arn": self.role_arn}
        )


def _grants(
    account: Account,
    log_group_arn: str,
    table_arn: str,
    uploads_bucket_arn: str,
    pricing_secret_arn: str,
    settings: Settings,
) -> FunctionGrants:
    return FunctionGrants(
        account=account,
        log_group_arn=log_group_arn,
        table_arn=table_arn,
        uploads_bucket_arn=uploads_bucket_arn,
        upload_prefix=settings.upload_prefix,
        pricing_secret_arn=pricing_secret_arn,
        vision_model_id=settings.vision_model_id,
        pricing_agent=settings.pricing_agent,
        pricing_model_id=settings.pricing_model_id,
    )
