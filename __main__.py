"""The Pulumi program: wires the components of ``stack/`` together and exports the outputs.

``pulumi up`` runs this file. No resource is defined here; the CLI and the dashboard read the
outputs (``pulumi stack output --json``), whose names are ``albumreg.client.target.STACK_OUTPUTS``.
"""

from __future__ import annotations

import pulumi

from handlers.domain.events import UPLOAD_PREFIX
from handlers.domain.tenant import Pattern
from stack.artifact import LambdaArtifact, LambdaArtifactArgs
from stack.collector import MetricsCollector, MetricsCollectorArgs
from stack.config import load_config
from stack.durable import DurableWorkflow, DurableWorkflowArgs
from stack.events import UploadTrigger, UploadTriggerArgs
from stack.functions import FunctionDefaults
from stack.observability import Observability, ObservabilityArgs
from stack.reviewer import ReviewerAccess, ReviewerAccessArgs
from stack.secrets import PricingSecret, PricingSecretArgs
from stack.step_functions import StepFunctionsWorkflow, StepFunctionsWorkflowArgs
from stack.storage import Storage, StorageArgs

config = load_config()

storage = Storage(
    "storage",
    StorageArgs(upload_prefix=UPLOAD_PREFIX, upload_expiry_days=config.upload_expiry_days),
)
pricing_token = PricingSecret("pricing-token", PricingSecretArgs(token=config.pricing_token))
artifact = LambdaArtifact("lambda-code", LambdaArtifactArgs(architecture=config.architecture))

functions = FunctionDefaults(
    code=artifact.code,
    architecture=config.architecture,
    memory_mb=config.memory_mb,
    log_retention_days=config.log_retention_days,
    log_group_prefix=f"/{config.project}/{config.stack}",
    region=config.region,
    settings=pulumi.Output.all(storage.table_name, pricing_token.arn).apply(
        lambda values: config.handler_settings(table_name=values[0], pricing_token_secret=values[1])
    ),
    table_arn=storage.table_arn,
    uploads_bucket_arn=storage.bucket_arn,
    pricing_secret_arn=pricing_token.arn,
)

step_functions = StepFunctionsWorkflow(
    "sf",
    StepFunctionsWorkflowArgs(
        functions=functions,
        pricing_agent=config.pricing_agent,
        log_level=config.state_machine_log_level,
        include_execution_data=config.state_machine_include_execution_data,
        log_retention_days=config.log_retention_days,
    ),
)
durable = DurableWorkflow(
    "ldf",
    DurableWorkflowArgs(
        functions=functions,
        pricing_agent=config.pricing_agent,
        execution_timeout_seconds=config.durable_execution_timeout_seconds,
    ),
)
UploadTrigger(
    "uploads",
    UploadTriggerArgs(
        region=config.region,
        bucket_name=storage.bucket_name,
        upload_prefix=UPLOAD_PREFIX,
        state_machine_arn=step_functions.state_machine_arn,
        durable_function_name=durable.function_name,
        durable_alias_name=durable.alias_name,
        durable_alias_arn=durable.alias_arn,
    ),
)
MetricsCollector(
    "collector",
    MetricsCollectorArgs(
        functions=functions,
        state_machine_arn=step_functions.state_machine_arn,
        durable_function_arn=durable.function_arn,
        log_groups={
            Pattern.STEP_FUNCTIONS: [f.log_group_name for f in step_functions.task_functions],
            Pattern.DURABLE: [durable.log_group_name],
        },
    ),
)
observability = Observability(
    "observability",
    ObservabilityArgs(
        region=config.region,
        dashboard_name=f"{config.project}-{config.stack}",
        state_machine_arn=step_functions.state_machine_arn,
        alarm_email=config.alarm_email,
    ),
)
reviewer = ReviewerAccess(
    "reviewer",
    ReviewerAccessArgs(
        table_arn=storage.table_arn,
        uploads_bucket_arn=storage.bucket_arn,
        upload_prefix=UPLOAD_PREFIX,
        state_machine_arn=step_functions.state_machine_arn,
        durable_function_arn=durable.function_arn,
        task_function_arns=[function.arn for function in step_functions.task_functions],
    ),
)

pulumi.export("bucketName", storage.bucket_name)
pulumi.export("tableName", storage.table_name)
pulumi.export("stateMachineArn", step_functions.state_machine_arn)
pulumi.export("durableFunctionArn", durable.alias_arn)
pulumi.export("region", config.region)
pulumi.export("dashboardUrl", observability.dashboard_url)
pulumi.export("reviewerPolicyArn", reviewer.policy_arn)
