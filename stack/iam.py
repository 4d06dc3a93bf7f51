"""IAM policy documents as plain dicts: one builder per kind of grant, each scoped to exact ARNs.

Pure (no Pulumi, no AWS calls): the components resolve ARNs inside ``apply`` and pass plain
strings here, so tests parse the same documents AWS receives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Statement = dict[str, Any]
PolicyDocument = dict[str, Any]

POLICY_VERSION = "2012-10-17"

WILDCARD_RESOURCE_ACTIONS: Mapping[str, str] = {
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
    "xray:GetSamplingRules": "X-Ray has no resource-level permissions",
    "xray:GetSamplingTargets": "X-Ray has no resource-level permissions",
    "logs:CreateLogDelivery": "vended log deliveries (Step Functions logging) support only *",
    "logs:GetLogDelivery": "vended log deliveries (Step Functions logging) support only *",
    "logs:UpdateLogDelivery": "vended log deliveries (Step Functions logging) support only *",
    "logs:DeleteLogDelivery": "vended log deliveries (Step Functions logging) support only *",
    "logs:ListLogDeliveries": "vended log deliveries (Step Functions logging) support only *",
    "logs:PutResourcePolicy": "log group resource policies are account-wide: only *",
    "logs:DescribeResourcePolicies": "log group resource policies are account-wide: only *",
    "logs:DescribeLogGroups": "Step Functions lists log groups to validate the destination: only *",
    "states:SendTaskSuccess": "a task token names no resource: task-token actions take only *",
    "states:SendTaskFailure": "a task token names no resource: task-token actions take only *",
    "cloudwatch:PutMetricData": "metrics have no ARN; the cloudwatch:namespace condition scopes it",
}
"""The only actions granted on ``"*"``, each because AWS offers no narrower resource for it."""

XRAY_ACTIONS = (
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
)
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
)

GEOGRAPHIC_PROFILE_PREFIXES = frozenset({"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"})
"""Prefixes of Bedrock's system-defined cross-Region inference profiles (``us.amazon...``)."""


class PolicyError(ValueError):
    """A requested grant would be broader than this stack allows."""


def document(statements: Iterable[Statement]) -> PolicyDocument:
    """A policy document from its statements."""
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def allow(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    condition: Mapping[str, Any] | None = None,
) -> Statement:
    """One Allow statement on exact resources.

    Raises:
        PolicyError: an action contains ``*``, or ``*`` is asked for an action AWS scopes.
    """
    wildcards = [action for action in actions if "*" in action]
    if wildcards:
        raise PolicyError(f"{sid}: wildcard actions {wildcards} are never granted")
    if "*" in resources:
        scoped = [action for action in actions if action not in WILDCARD_RESOURCE_ACTIONS]
        if scoped:
            raise PolicyError(f"{sid}: {scoped} take a resource ARN; grant them on it, not *")
    statement: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": list(resources),
    }
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def service_trust_policy(service: str, source_account: str | None = None) -> PolicyDocument:
    """Who may assume a role: one AWS service, optionally only on behalf of this account.

    The source-account condition keeps another account's state machine or rule from using
    this role through the same service (the confused-deputy problem).
    """
    statement: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return document([statement])


def deny_insecure_transport(sid: str, service: str, resources: Sequence[str]) -> Statement:
    """Refuse every request to ``resources`` that does not use TLS.

    The only statement here with a wildcard action: it denies, and it must cover every action
    of the service, including ones added after this was written.
    """
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": f"{service}:*",
        "Resource": list(resources),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


@dataclass(frozen=True)
class Account:
    """Where the stack runs: what ARNs are built from."""

    partition: str
    region: str
    account_id: str


def bedrock_invoke(sid: str, model_id: str, account: Account) -> list[Statement]:
    """``bedrock:InvokeModel`` (Converse needs exactly this) on one model or inference profile.

    A cross-Region inference profile (``us.``, ``eu.``, ``global.``...) routes each request to
    a foundation model in one of its destination Regions, and IAM checks both the profile and
    that model. The model is granted in every Region (``bedrock:*::foundation-model/...``)
    but only when called through this profile (the ``bedrock:InferenceProfileArn`` condition):
    listing the destination Regions would silently break when AWS adds one, and the
    condition keeps direct calls to the model in any Region refused. A global profile also
    needs the Region-less model ARN.
    """
    prefix, _, model = model_id.partition(".")
    if model_id.startswith("arn:"):
        return [allow(sid, ["bedrock:InvokeModel"], [model_id])]
    if prefix not in GEOGRAPHIC_PROFILE_PREFIXES or not model:
        arn = f"arn:{account.partition}:bedrock:{account.region}::foundation-model/{model_id}"
        return [allow(sid, ["bedrock:InvokeModel"], [arn])]
    profile = (
        f"arn:{account.partition}:bedrock:{account.region}:{account.account_id}"
        f":inference-profile/{model_id}"
    )
    models = [f"arn:{account.partition}:bedrock:*::foundation-model/{model}"]
    if prefix == "global":
        models.append(f"arn:{account.partition}:bedrock:::foundation-model/{model}")
    return [
        allow(f"{sid}ViaProfile", ["bedrock:InvokeModel"], [profile]),
        allow(
            f"{sid}InProfileRegions",
            ["bedrock:InvokeModel"],
            models,
            {"StringEquals": {"bedrock:InferenceProfileArn": profile}},
        ),
    ]


@dataclass(frozen=True)
class FunctionAccess:
    """What one Lambda function does, and so what its role may do.

    Attributes:
        read_uploads: reads uploaded photos (``s3:GetObject`` under the upload prefix).
        vision: calls the vision model (``bedrock:InvokeModel``).
        pricing: prices albums (reads the token secret; invokes the pricing model when the
            pricing agent is the LLM one).
        table_actions: the DynamoDB item actions it performs on the table. Transactions need
            no action of their own: IAM checks each Put and Update inside them.
    """

    read_uploads: bool = False
    vision: bool = False
    pricing: bool = False
    table_actions: frozenset[str] = field(default_factory=frozenset)

    def __or__(self, other: FunctionAccess) -> FunctionAccess:
        """Everything either function does (the durable function does every step)."""
        return FunctionAccess(
            read_uploads=self.read_uploads or other.read_uploads,
            vision=self.vision or other.vision,
            pricing=self.pricing or other.pricing,
            table_actions=self.table_actions | other.table_actions,
        )


@dataclass(frozen=True)
class FunctionGrants:
    """The resolved ARNs and settings a function's policy is built from.

    Attributes:
        account: partition, Region and account id.
        log_group_arn: the function's own log group.
        table_arn: the workflow table.
        uploads_bucket_arn: the bucket photos are uploaded to.
        upload_prefix: the key prefix of uploads.
        pricing_secret_arn: the secret holding the pricing API token.
        vision_model_id: model or inference profile of the recognizer.
        pricing_agent: ``discogs`` or ``bedrock``.
        pricing_model_id: model or inference profile of the LLM pricing agent.
    """

    account: Account
    log_group_arn: str
    table_arn: str
    uploads_bucket_arn: str
    upload_prefix: str
    pricing_secret_arn: str
    vision_model_id: str
    pricing_agent: str
    pricing_model_id: str


def function_policy(access: FunctionAccess, grants: FunctionGrants) -> PolicyDocument:
    """The inline policy of one function's role: its own logs plus exactly what it uses."""
    statements = [
        allow(
            "WriteOwnLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [grants.log_group_arn, f"{grants.log_group_arn}:*"],
        )
    ]
    if access.read_uploads:
        uploads = f"{grants.uploads_bucket_arn}/{grants.upload_prefix}*"
        statements.append(allow("ReadUploads", ["s3:GetObject"], [uploads]))
    if access.table_actions:
        statements.append(
            allow("WriteWorkflowItems", sorted(access.table_actions), [grants.table_arn])
        )
    if access.vision:
        statements += bedrock_invoke("InvokeVision", grants.vision_model_id, grants.account)
    if access.pricing:
        statements.append(
            allow(
                "ReadPricingToken", ["secretsmanager:GetSecretValue"], [grants.pricing_secret_arn]
            )
        )
        if grants.pricing_agent == "bedrock":
            statements += bedrock_invoke(
                "InvokePricingAgent", grants.pricing_model_id, grants.account
            )
    return document(statements)


def state_machine_policy(function_arns: Sequence[str]) -> PolicyDocument:
    """The state machine's role: invoke its own task functions, log, and trace."""
    return document(
        [
            allow("InvokeTaskFunctions", ["lambda:InvokeFunction"], sorted(function_arns)),
            allow("DeliverExecutionLogs", LOG_DELIVERY_ACTIONS, ["*"]),
            allow("WriteTraces", XRAY_ACTIONS, ["*"]),
        ]
    )


def start_execution_policy(state_machine_arn: str) -> PolicyDocument:
    """The EventBridge rule's role: start executions of one state machine, nothing else."""
    return document([allow("StartWorkflow", ["states:StartExecution"], [state_machine_arn])])


def dead_letter_queue_policy(queue_arn: str, rule_arns: Sequence[str], sid: str) -> PolicyDocument:
    """Let these rules (through EventBridge) drop undeliverable events into the queue."""
    return document(
        [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}},
            },
            deny_insecure_transport("DenyInsecureTransport", "sqs", [queue_arn]),
        ]
    )


def tls_only_bucket_policy(bucket_arn: str) -> PolicyDocument:
    """A bucket policy that only refuses plain-HTTP access (grants live in the roles)."""
    return document(
        [deny_insecure_transport("DenyInsecureTransport", "s3", [bucket_arn, f"{bucket_arn}/*"])]
    )


@dataclass(frozen=True)
class ReviewerGrants:
    """What the people who run the CLI, the dashboard and the bench against a stack touch.

    Attributes:
        table_arn: the workflow table.
        uploads_bucket_arn: the upload bucket.
        upload_prefix: the key prefix of uploads.
        state_machine_arn: the Step Functions workflow.
        durable_function_arn: the durable function, unqualified.
        task_function_arns: the Step Functions task functions (bench reads their memory size).
        metric_namespaces: the CloudWatch namespaces ``albumreg metrics collect`` publishes to.
    """

    table_arn: str
    uploads_bucket_arn: str
    upload_prefix: str
    state_machine_arn: str
    durable_function_arn: str
    task_function_arns: Sequence[str]
    metric_namespaces: Sequence[str]


def executions_of(state_machine_arn: str) -> str:
    """Every execution of one state machine (``...:execution:<name>:*``)."""
    prefix, _, name = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{name}:*"


def durable_executions_of(function_arn: str) -> str:
    """Every durable execution of every version of one function.

    Lambda authorises durable execution actions on
    ``function:NAME:VERSION/durable-execution/NAME/ID``: an unqualified function ARN never
    matches and an alias never applies (Lambda guide, "Security and permissions for Lambda
    durable functions"), so the version is a wildcard and the alias is not used.
    """
    return f"{function_arn}:*/durable-execution/*"


def reviewer_policy(grants: ReviewerGrants) -> PolicyDocument:
    """The least a person needs to upload, review, watch and measure both workflows.

    Attached to a user, group or role (``reviewerPolicyArn``); it lets that principal do what
    ``albumreg upload``, ``review``, ``uploads``, ``dashboard``, ``bench`` and ``metrics
    collect`` do against the stack, and nothing else (no deploy, no delete, no other table).
    """
    durable = durable_executions_of(grants.durable_function_arn)
    return document(
        [
            allow(
                "ReadAndReviewWorkflowItems",
                [
                    "dynamodb:BatchGetItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                ],
                [grants.table_arn, f"{grants.table_arn}/index/*"],
            ),
            allow(
                "UploadPhotos",
                ["s3:PutObject"],
                [f"{grants.uploads_bucket_arn}/{grants.upload_prefix}*"],
            ),
            allow(
                "ReadStepFunctionsHistories",
                ["states:DescribeExecution", "states:GetExecutionHistory"],
                [executions_of(grants.state_machine_arn)],
            ),
            allow(
                "CompleteStepFunctionsReviews",
                ["states:SendTaskFailure", "states:SendTaskSuccess"],
                ["*"],
            ),
            allow(
                "ReadAndCompleteDurableExecutions",
                [
                    "lambda:GetDurableExecution",
                    "lambda:GetDurableExecutionHistory",
                    "lambda:SendDurableExecutionCallbackFailure",
                    "lambda:SendDurableExecutionCallbackSuccess",
                ],
                [durable],
            ),
            allow(
                "ReadFunctionSizing",
                ["lambda:GetFunctionConfiguration"],
                sorted(
                    arn
                    for function in (grants.durable_function_arn, *grants.task_function_arns)
                    for arn in (function, f"{function}:*")
                ),
            ),
            allow(
                "PublishWorkflowMetrics",
                ["cloudwatch:PutMetricData"],
                ["*"],
                {"StringEquals": {"cloudwatch:namespace": sorted(grants.metric_namespaces)}},
            ),
        ]
    )
